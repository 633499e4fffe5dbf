"""The crossentropy exercises: solutions pass, plausible mistakes fail with a helpful message."""

import math
import warnings

import keras
import numpy as np
import pytest

from cnnlearn import ops
from cnnlearn.exercises import crossentropy as ex

QUESTIONS = [ex.q1, ex.q2, ex.q3, ex.q4, ex.q5, ex.q6]


def verdict(capsys, question, answer):
    ok = question.check(answer)
    return ok, capsys.readouterr().out


@pytest.mark.parametrize("question, name", [(ex.q1, "crossentropy"), (ex.q2, "my_softmax"),
                                            (ex.q3, "one_step"), (ex.q4, "softmax_regression")])
def test_solutions_print_their_source_under_public_names(capsys, question, name):
    question.solution()
    out = capsys.readouterr().out
    assert f"def {name}(" in out and "_solution" not in out and "_q" not in out


@pytest.mark.parametrize("question", [q for q in QUESTIONS if not isinstance(q, type(ex.q5))], ids=lambda q: q.name)
def test_each_printed_solution_runs_as_pasted_and_is_right(capsys, question):
    """The solution's text, run with what notebook 05 has imported by its exercise cells, passes its check."""
    import tensorflow as tf

    from cnnlearn import data, training

    namespace = {"np": np, "keras": keras, "tf": tf, "ops": ops, "data": data, "training": training, "ex": ex}
    exec(question._solution, namespace)
    out = capsys.readouterr().out
    assert out.startswith("Correct:") and out.count("Correct:") == 1, out


# q1: crossentropy of one prediction --------------------------------------------

def test_q1_solution_is_what_keras_computes(capsys):
    y_true = np.eye(10, dtype=np.float32)[[3]]
    y_prob = np.full((1, 10), 0.75 / 9, dtype=np.float32)
    y_prob[0, 3] = 0.25
    keras_loss = float(keras.ops.convert_to_numpy(keras.losses.categorical_crossentropy(y_true, y_prob))[0])
    assert ex._q1_solution() == pytest.approx(keras_loss, abs=1e-5)
    assert ex._q1_solution() == pytest.approx(float(ops.categorical_crossentropy(y_true, y_prob)[0]), abs=1e-5)
    assert verdict(capsys, ex.q1, ex._q1_solution())[0]
    assert verdict(capsys, ex.q1, 1.386)[0]


@pytest.mark.parametrize("answer, message", [
    (-math.log10(0.25), "log base 10"),
    (0.602, "log base 10"),
    (2.0, "log base 2"),
    (math.log(0.25), "missing minus sign"),
    (0.75, "1 - p"),
    (0.5625, "squared error"),
])
def test_q1_mistakes(capsys, answer, message):
    ok, out = verdict(capsys, ex.q1, answer)
    assert not ok and message in out


# q2: my_softmax --------------------------------------------------------------

def test_q2_solution_matches_ops_and_keras(capsys):
    assert verdict(capsys, ex.q2, ex._my_softmax_solution)[0]
    logits = np.random.default_rng(0).normal(0, 5, size=(3, 10)).astype(np.float32)
    expected = keras.ops.convert_to_numpy(keras.ops.softmax(logits))
    np.testing.assert_allclose(ex._my_softmax_solution(logits), expected, atol=1e-6)


def test_q2_cases_cover_the_edge_cases():
    inputs = [args[0] for args, _ in ex.q2.cases]
    assert any(np.max(np.abs(x)) >= 1000 for x in inputs)  # large logits
    assert any(x.ndim == 2 and x.shape[0] > 1 for x in inputs)  # a batch
    assert any(np.all(x == x.flat[0]) for x in inputs)  # all equal


def _naive_softmax(logits):
    e = np.exp(np.asarray(logits, dtype=np.float64))  # overflows for large logits
    return e / e.sum(axis=-1, keepdims=True)


def _whole_batch_softmax(logits):
    logits = np.asarray(logits, dtype=np.float64)
    e = np.exp(logits - logits.max())
    return e / e.sum()  # one sum over the whole batch, not per row


def test_q2_overflow_says_subtract_the_max(capsys):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        ok, out = verdict(capsys, ex.q2, _naive_softmax)
    assert not ok and "subtract the max first" in out


def test_q2_one_sum_for_the_batch_says_rows(capsys):
    ok, out = verdict(capsys, ex.q2, _whole_batch_softmax)
    assert not ok and "rows do not each sum to 1" in out


def test_q2_forgotten_return(capsys):
    def my_softmax(logits):
        ...

    ok, out = verdict(capsys, ex.q2, my_softmax)
    assert not ok and "not attempted yet" in out and "missing return" in out


def test_q2_not_a_function(capsys):
    ok, out = verdict(capsys, ex.q2, np.array([0.5, 0.5]))
    assert not ok and "expected a function" in out


# q3: one gradient-descent step -----------------------------------------------

def test_q3_solution(capsys):
    assert ex._q3_solution() == pytest.approx(2.6)
    assert verdict(capsys, ex.q3, 2.6)[0]


@pytest.mark.parametrize("answer, message", [
    (3.4, "wrong sign: step against the gradient"),
    (0.4, "size of the step"),
    (2.8, "forget the factor 2"),
    (1.0, "one step only gets part of the way"),
])
def test_q3_mistakes(capsys, answer, message):
    ok, out = verdict(capsys, ex.q3, answer)
    assert not ok and message in out


# q4: softmax regression in Keras -----------------------------------------------

def test_q4_solution(capsys):
    model = ex._q4_solution()
    ok, out = verdict(capsys, ex.q4, model)
    assert ok and "7,850 weights" in out


def test_q4_without_flatten(capsys):
    model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(10, activation="softmax")])
    ok, out = verdict(capsys, ex.q4, model)
    assert not ok and "expected layers ['Flatten', 'Dense']" in out


def test_q4_wrong_activation(capsys):
    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(10, activation="relu")])
    ok, out = verdict(capsys, ex.q4, model)
    assert not ok and "should have activation 'softmax'" in out


def test_q4_hidden_layer(capsys):
    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(),
                              keras.layers.Dense(32, activation="relu"), keras.layers.Dense(10, activation="softmax")])
    ok, out = verdict(capsys, ex.q4, model)
    assert not ok and "expected layers" in out


# q5: thought -----------------------------------------------------------------

def test_q5_shows_the_rubric_and_never_says_correct(capsys):
    assert len(ex.q5.rubric) >= 3
    ok, out = verdict(capsys, ex.q5, "Each optimizer should get its own tuned learning rate.")
    assert "Correct" not in out and "Not yet" not in out
    assert all(point in out for point in ex.q5.rubric) and ex.q5._solution in out
    ok, out = verdict(capsys, ex.q5, 42)
    assert not ok and "not attempted yet" in out


# q6: an experiment: learning rate and batch size --------------------------------

LOSS = f"loss after {ex.EPOCHS} epochs"


def test_q6_the_solution_meets_the_target(capsys):
    answer = {"learning_rate": 0.5, "batch_size": 10}
    measured = ex._q6_measure(answer)
    assert measured[LOSS] < ex.TARGET_LOSS - 0.02 and measured["steps"] == 200  # a margin, not a knife edge
    ok, out = verdict(capsys, ex.q6, answer)
    assert ok and "target met" in out and "steps = 200" in out


@pytest.mark.parametrize("answer, why", [
    ({"learning_rate": 0.5, "batch_size": 1000}, "full batch: 2 steps are not enough"),
    ({"learning_rate": 0.5, "batch_size": 100}, "too few steps"),
    ({"learning_rate": 0.5, "batch_size": 1}, "batches of 1 are too noisy for this rate"),
    ({"learning_rate": 0.01, "batch_size": 10}, "too small a rate"),
    ({"learning_rate": 1e6, "batch_size": 10}, "blows up"),
])
def test_q6_misses_the_target(capsys, answer, why):
    measured = ex._q6_measure(answer)
    assert not measured[LOSS] < ex.TARGET_LOSS, why
    ok, out = verdict(capsys, ex.q6, answer)
    assert not ok and "the target: loss on the 1,000 digits below 0.25" in out and "Not yet" in out


def test_q6_is_seeded():
    answer = {"learning_rate": 0.3, "batch_size": 5}
    assert ex._q6_measure(answer) == ex._q6_measure(answer)


@pytest.mark.parametrize("answer, message", [
    ((0.5, 10), "answer with a dict"),
    ({"learning_rate": 0.5}, "answer with a dict"),
    ({"learning_rate": 0.5, "batch_size": 0}, "batch_size should be a whole number from 1 to 1000"),
    ({"learning_rate": 0.5, "batch_size": 10.5}, "batch_size should be a whole number"),
    ({"learning_rate": -0.5, "batch_size": 10}, "learning_rate should be a positive number"),
    ({"learning_rate": "0.5", "batch_size": 10}, "learning_rate should be a positive number"),
])
def test_q6_bad_answers_say_what_to_write(capsys, answer, message):
    ok, out = verdict(capsys, ex.q6, answer)
    assert not ok and message in out


def test_q6_loop_with_the_full_batch_is_gradient_descent_by_the_tape():
    """With batch_size = all the digits, the exercise's loop takes the steps of the tape's full-batch loop."""
    import tensorflow as tf

    x, y = ex._thousand_digits()
    assert x.shape == (1000, 784) and y.shape == (1000, 10)
    losses, steps = ex._minibatch_gradient_descent(x, y, learning_rate=0.5, batch_size=1000, epochs=2)
    W, b = tf.Variable(tf.zeros((784, 10))), tf.Variable(tf.zeros(10))
    for _ in range(2):
        with tf.GradientTape() as tape:
            loss = keras.ops.mean(keras.losses.categorical_crossentropy(y, keras.ops.softmax(x @ W + b)))
        grad_W, grad_b = tape.gradient(loss, [W, b])
        W.assign_sub(0.5 * grad_W)
        b.assign_sub(0.5 * grad_b)
    after = float(keras.ops.mean(keras.losses.categorical_crossentropy(y, keras.ops.softmax(x @ W + b))))
    assert steps == 2 and losses[-1] == pytest.approx(after, rel=1e-4)
