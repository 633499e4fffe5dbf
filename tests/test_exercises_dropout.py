"""The dropout exercises: every solution passes, likely mistakes get specific advice."""

import keras
import numpy as np
import pytest

from cnnlearn import ops
from cnnlearn.exercises import dropout as ex

QUESTIONS = [ex.q1, ex.q2, ex.q3, ex.q4, ex.q5]


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
    "q3": lambda: ex._inference_solution(),
    "q4": lambda: ex._small_cnn_solution(),
    "q5": lambda: "No unit can rely on another being there, so each must be useful on its own.",
}


@pytest.mark.parametrize("question", QUESTIONS, ids=lambda q: q.name)
def test_the_solution_passes(question, capsys):
    ok, out = verdict(question, SOLUTIONS[question.name](), capsys)
    assert ok, out
    assert out.startswith("Correct")


def test_solutions_show_code_under_the_learners_names():
    for question, name in ((ex.q1, "def scale("), (ex.q2, "def my_dropout("),
                           (ex.q3, "def at_inference("), (ex.q4, "def small_cnn(")):
        assert name in question._solution
        assert "_solution" not in question._solution


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
    assert not ok and "missing return?" in out


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


def test_q4_rejects_a_model_without_dropout(capsys):
    model = keras.Sequential([
        keras.Input((28, 28, 1)),
        keras.layers.Conv2D(32, 3, activation="relu"),
        keras.layers.MaxPool2D(2),
        keras.layers.Flatten(),
        keras.layers.Dense(10, activation="softmax"),
    ])
    ok, out = verdict(ex.q4, model, capsys)
    assert not ok and "expected layers" in out and "Dropout" in out


def test_q5_wants_a_sentence(capsys):
    ok, out = verdict(ex.q5, 42, capsys)
    assert not ok and "write your answer as a sentence" in out
