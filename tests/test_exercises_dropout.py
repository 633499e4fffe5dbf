"""The dropout exercises: every solution passes, likely mistakes get specific advice."""

import re

import keras
import numpy as np
import pytest

from cnnlearn import ops
from cnnlearn.exercises import dropout as ex

QUESTIONS = [ex.q1, ex.q2, ex.q3, ex.q4, ex.q5, ex.q6, ex.q7, ex.q8]
GRADED = [ex.q1, ex.q2, ex.q3, ex.q4, ex.q5, ex.q6]  # q7 is a thought, q8 an experiment (tested below)


def verdict(question, answer, capsys):
    """check()'s return value and what it printed."""
    ok = question.check(answer)
    return ok, capsys.readouterr().out


# --------------------------------------------------------------------------
# Every question: solutions pass, ... is not attempted, hint and solution print
# --------------------------------------------------------------------------

SOLUTIONS = {
    "q1": lambda: ex._scale_solution(0.25),
    "q2": lambda: ex._my_dropout_solution,
    "q3": lambda: ex._inference_solution(ex.X),
    "q4": lambda: ex._small_cnn_weights_solution(),
    "q5": lambda: ex._small_cnn_solution(),
    "q6": lambda: ex._spatial_choices_solution(),
}


@pytest.mark.parametrize("question", GRADED, ids=lambda q: q.name)
def test_the_solution_passes(question, capsys):
    ok, out = verdict(question, SOLUTIONS[question.name](), capsys)
    assert ok, out
    assert out.startswith("Correct")


@pytest.mark.parametrize("question", QUESTIONS, ids=lambda q: q.name)
def test_an_untouched_cell_is_not_attempted_yet(question, capsys):
    ok, out = verdict(question, ..., capsys)
    assert not ok and "not attempted yet" in out and "Not yet" not in out


def test_solutions_show_code_under_the_learners_names():
    for question, name in ((ex.q1, "def scale("), (ex.q2, "def my_dropout("), (ex.q3, "def at_inference("),
                           (ex.q4, "def small_cnn_weights("), (ex.q5, "def small_cnn("),
                           (ex.q6, "def spatial_choices(")):
        assert name in question._solution
        assert "_solution" not in question._solution
    for question in (ex.q1, ex.q3, ex.q4, ex.q5, ex.q6, ex.q8):  # each sets the cell's answer
        assert "\nanswer = " in "\n" + question._solution


def test_the_printed_solutions_run_as_pasted():
    """Each printed solution, run with only what notebook 04 has imported, gives an answer its check takes."""
    import keras

    from cnnlearn import ops as notebook_ops
    for question in (ex.q1, ex.q3, ex.q4, ex.q5, ex.q6):
        namespace = {"np": np, "keras": keras, "ops": notebook_ops, "ex": ex}
        exec(question._solution, namespace)
        assert question.check(namespace["answer"]), question.name
    namespace = {"np": np, "ex": ex}
    exec(ex.q2._solution, namespace)
    assert ex.q2.check(namespace["my_dropout"])


def test_the_weight_count_matches_the_model_keras_builds():
    assert ex.q4.expected == ex._small_cnn_solution().count_params() == 54_410


def test_spatial_dropout_makes_one_choice_per_digit_and_channel():
    """q6's answer, counted from Keras: every (digit, channel) map is all kept or all zero."""
    maps = np.ones((8, 14, 14, 64), dtype="float32")
    dropped = keras.ops.convert_to_numpy(keras.layers.SpatialDropout2D(0.25, seed=0)(maps, training=True))
    zero, kept = (dropped == 0).all(axis=(1, 2)), (dropped == 1 / 0.75).all(axis=(1, 2))
    assert (zero | kept).all() and zero.shape == (8, 64) and zero.size == ex.q6.expected


def test_the_answers_agree_with_ops_and_keras():
    assert ex.q1.expected == pytest.approx(4 / 3)
    np.testing.assert_array_equal(ex.q3.expected, ex.X)
    np.testing.assert_array_equal(keras.layers.Dropout(0.5)(ex.X, training=False), ex.X)


def test_q2_gives_the_learner_and_the_reference_the_same_random_numbers():
    x = np.arange(1.0, 101.0)
    mine = ex._my_dropout_solution(x, 0.3, np.random.default_rng(7))
    np.testing.assert_allclose(mine, ops.dropout(x, 0.3, np.random.default_rng(7)), rtol=1e-6)


# --------------------------------------------------------------------------
# Wrong answers: rejected, with advice for the likely mistake
# --------------------------------------------------------------------------

@pytest.mark.parametrize("answer, advice", [
    (0.75, "0.75 is the keep probability (1 - rate); the survivors are divided by it"),
    (0.25, "0.25 is the rate"),
    (4, "divide by the probability of being kept"),
    (1, "expected value"),
    (1.25, "1 + rate"),
])
def test_q1_explains_wrong_factors(answer, advice, capsys):
    ok, out = verdict(ex.q1, answer, capsys)
    assert not ok
    assert "expected 1.33333" in out and advice in out


@pytest.mark.parametrize("mistake, advice", [
    (lambda x, rate, rng: np.where(rng.random(np.shape(x)) >= rate, x, 0.0), "did not divide the survivors"),
    (lambda x, rate, rng: np.where(rng.random(np.shape(x)) >= rate, x * (1 - rate), 0.0), "you multiplied"),
    (lambda x, rate, rng: np.where(rng.random(np.shape(x)) >= rate, np.asarray(x) / rate, 0.0), "not by the rate"),
    (lambda x, rate, rng: np.where(rng.random(np.shape(x)) < rate, np.asarray(x) / (1 - rate), 0.0),
     "those are the ones to drop"),
    (lambda x, rate, rng: np.asarray(x) / (1 - rate), "nothing was set to 0"),
])
def test_q2_explains_likely_mistakes(mistake, advice, capsys):
    ok, out = verdict(ex.q2, mistake, capsys)
    assert not ok
    assert "values differ" in out and advice in out


def test_q2_says_when_the_function_returns_nothing(capsys):
    def my_dropout(x, rate, rng):
        ...

    ok, out = verdict(ex.q2, my_dropout, capsys)
    assert not ok and "not attempted yet" in out


def test_q2_asks_for_the_shape_of_x(capsys):
    ok, out = verdict(ex.q2, lambda x, rate, rng: np.ravel(x), capsys)
    assert not ok and "same shape as x" in out


def test_q2_rejects_a_different_random_draw(capsys):
    def other_draw(x, rate, rng):  # right idea, but draws its own numbers: the masks cannot match
        return ops.dropout(x, rate, np.random.default_rng(123))

    ok, out = verdict(ex.q2, other_draw, capsys)
    assert not ok and "values differ" in out


@pytest.mark.parametrize("answer, advice", [
    (ex.X * 0.5, "non-inverted dropout"),
    (ex.X * 2, "only in training"),
    (np.array([[1.0, 0.0], [3.0, 0.0]]), "nothing is set to 0 at inference"),
    ("nothing", "now give the array"),
])
def test_q3_explains_wrong_answers(answer, advice, capsys):
    ok, out = verdict(ex.q3, answer, capsys)
    assert not ok and advice in out


@pytest.mark.parametrize("answer, advice", [
    (54_410 + 5_408, "Dropout has no weights"),
    (54_090, "the Dense layer alone"),
    (320, "the convolution alone"),
    (54_368, "no biases?"),
    (216_650, "without the MaxPool2D"),
    (63_050, "no padding"),
    (0, "what the Dropout layer adds"),
])
def test_q4_explains_wrong_weight_counts(answer, advice, capsys):
    ok, out = verdict(ex.q4, answer, capsys)
    assert not ok and "expected 54410" in out and advice in out


def test_q5_rejects_a_model_without_dropout(capsys):
    model = keras.Sequential([
        keras.Input((28, 28, 1)),
        keras.layers.Conv2D(32, 3, activation="relu"),
        keras.layers.MaxPool2D(2),
        keras.layers.Flatten(),
        keras.layers.Dense(10, activation="softmax"),
    ])
    ok, out = verdict(ex.q5, model, capsys)
    assert not ok and "expected layers" in out and "Dropout" in out


def test_q5_wants_the_activations(capsys):
    model = keras.Sequential([
        keras.Input((28, 28, 1)),
        keras.layers.Conv2D(32, 3),  # no ReLU
        keras.layers.MaxPool2D(2),
        keras.layers.Flatten(),
        keras.layers.Dropout(0.5),
        keras.layers.Dense(10, activation="softmax"),
    ])
    ok, out = verdict(ex.q5, model, capsys)
    assert not ok and "should have activation 'relu'" in out


@pytest.mark.parametrize("answer, advice", [
    (8 * 14 * 14 * 64, "that is plain Dropout"),
    (64, "each digit of the batch gets its own choices"),
    (14 * 14 * 64, "a single digit"),
])
def test_q6_explains_wrong_counts(answer, advice, capsys):
    ok, out = verdict(ex.q6, answer, capsys)
    assert not ok and advice in out


def test_q7_shows_the_rubric_and_the_model_answer(capsys):
    assert len(ex.q7.rubric) >= 3
    ok, out = verdict(ex.q7, "No unit can rely on another being there, so each must be useful on its own.", capsys)
    assert ok and "Correct" not in out
    assert all(point in out for point in ex.q7.rubric) and ex.q7._solution in out


def test_q7_wants_a_sentence(capsys):
    ok, out = verdict(ex.q7, 42, capsys)
    assert not ok and "as a sentence" in out


# --------------------------------------------------------------------------
# q8, the experiment: the solution's rate meets the target, no dropout and too much miss it
# --------------------------------------------------------------------------

def test_q8_the_solutions_rate_meets_the_target(capsys):
    rate = float(re.search(r"answer = ([0-9.]+)", ex.q8._solution).group(1))
    ok, out = verdict(ex.q8, rate, capsys)
    assert ok and "target met" in out and "loss gap = " in out and "validation accuracy = " in out, out


def test_q8_without_dropout_the_network_memorises_and_misses_the_target(capsys):
    measured = ex._q8_measure(0.0)
    assert not ex.q8.passes(measured)
    assert measured["train loss"] < 0.05 and measured["loss gap"] > ex.MAX_LOSS_GAP + 0.15, measured


def test_q8_too_much_dropout_costs_accuracy():
    measured = ex._q8_measure(0.9)
    assert not ex.q8.passes(measured) and measured["validation accuracy"] < ex.MIN_ACCURACY, measured


@pytest.mark.parametrize("answer", [1.0, -0.1, "0.5", True])
def test_q8_wants_a_rate_from_0_to_1(answer, capsys):
    ok, out = verdict(ex.q8, answer, capsys)
    assert not ok and "answer with a dropout rate" in out
