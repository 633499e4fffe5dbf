"""The crossentropy exercises: solutions pass, plausible mistakes fail with a helpful message."""

import math
import warnings

import keras
import numpy as np
import pytest

from cnnlearn import ops
from cnnlearn.exercises import crossentropy as ex

QUESTIONS = [ex.q1, ex.q2, ex.q3, ex.q4, ex.q5]


def verdict(capsys, question, answer):
    ok = question.check(answer)
    return ok, capsys.readouterr().out


def test_solutions_print_their_source(capsys):
    for question, function in [(ex.q1, ex._q1_solution), (ex.q2, ex._my_softmax_solution),
                               (ex.q3, ex._q3_solution), (ex.q4, ex._q4_solution)]:
        question.solution()
        assert f"def {function.__name__}(" in capsys.readouterr().out


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
    assert not ok and "missing return?" in out


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


def test_q4_hidden_layer(capsys):
    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(),
                              keras.layers.Dense(32, activation="relu"), keras.layers.Dense(10, activation="softmax")])
    ok, out = verdict(capsys, ex.q4, model)
    assert not ok and "expected layers" in out


# q5: thought -----------------------------------------------------------------

def test_q5_takes_a_sentence(capsys):
    ok, out = verdict(capsys, ex.q5, "Each optimizer should get its own tuned learning rate.")
    assert ok and "solution()" in out
    ok, out = verdict(capsys, ex.q5, 42)
    assert not ok and "as a sentence in a string" in out
