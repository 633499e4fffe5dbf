"""The beyond-digits exercises: every solution passes, likely mistakes get specific advice."""

import keras
import numpy as np
import pytest

from cnnlearn import ops
from cnnlearn.exercises import beyond_digits as ex

QUESTIONS = [ex.q1, ex.q2, ex.q3, ex.q4]


def verdict(question, answer, capsys):
    """check()'s return value and what it printed."""
    ok = question.check(answer)
    return ok, capsys.readouterr().out


SOLUTIONS = {
    "q1": lambda: ex._colour_weights_solution(),
    "q2": lambda: ex._grey_to_rgb_solution,
    "q3": lambda: ex._maps_shape_solution(),
    "q4": lambda: "Resizing shrinks the object to a few pixels; I would classify tiles of the full image.",
}


@pytest.mark.parametrize("question", QUESTIONS[:3], ids=lambda q: q.name)
def test_the_solution_passes(question, capsys):
    ok, out = verdict(question, SOLUTIONS[question.name](), capsys)
    assert ok, out
    assert out.startswith("Correct")


def test_the_thought_question_shows_its_rubric_and_model_answer_but_no_verdict(capsys):
    ok, out = verdict(ex.q4, SOLUTIONS["q4"](), capsys)
    assert ok and out.startswith("Note: q4: your answer is recorded") and "Correct" not in out
    assert len(ex.q4.rubric) >= 3 and all(point in out for point in ex.q4.rubric)
    assert ex.q4._solution in out


def test_solutions_show_code_under_the_learners_names():
    for question, name in ((ex.q1, "def colour_weights("), (ex.q2, "def grey_to_rgb("), (ex.q3, "def maps_shape(")):
        assert name in question._solution
        assert "_solution" not in question._solution


@pytest.mark.parametrize("question", QUESTIONS[:3], ids=lambda q: q.name)
def test_the_printed_solution_runs_as_pasted_into_the_exercise_cell(question, capsys):
    """Notebook 09 has imported ops and numpy as np by then; the cell checks ``answer``."""
    namespace = {"np": np, "ops": ops}
    exec(compile(question._solution, f"<{question.name} solution>", "exec"), namespace)
    assert question.check(namespace["answer"]), capsys.readouterr().out


def test_the_answers_agree_with_keras():
    conv = keras.layers.Conv2D(16, 5)
    conv.build((None, None, None, 3))
    assert ex.q1.expected == conv.count_params() == ops.conv2d_params(5, 3, 16)
    model = keras.Sequential([keras.Input((None, None, 3)), keras.layers.Conv2D(32, 3), keras.layers.MaxPool2D(2)])
    assert tuple(model(np.zeros((1, 50, 70, 3), dtype="float32")).shape[1:]) == ex.q3.expected


def test_the_q2_solution_gives_the_grey_response_on_a_grey_image():
    rng = np.random.default_rng(0)
    kernel, grey = rng.normal(size=(3, 3, 1, 4)), rng.random((2, 9, 9, 1))
    np.testing.assert_allclose(ops.conv2d(np.repeat(grey, 3, axis=-1), ex._grey_to_rgb_solution(kernel)),
                               ops.conv2d(grey, kernel), atol=1e-5)


@pytest.mark.parametrize("answer, advice", [
    (416, "for grey images"),
    (1200, "add one bias per filter"),
    (3 * 416, "one bias, not one per channel"),
    (91, "its own 5x5x3 weights"),
    ("1216", "give one number"),
])
def test_q1_explains_wrong_counts(answer, advice, capsys):
    ok, out = verdict(ex.q1, answer, capsys)
    assert not ok
    assert advice in out


@pytest.mark.parametrize("wrong, advice", [
    (lambda k: np.repeat(k, 3, axis=2), "divide by 3"),
    (lambda k: np.repeat(k, 3, axis=3) / 3, "repeat along the input channels' axis, axis=2"),
    (lambda k: np.repeat(k, 3, axis=0) / 3, "axis=2"),
    (lambda k: np.asarray(k) / 3, "expected output shape (3, 3, 3, 4), got (3, 3, 1, 4)"),
])
def test_q2_explains_wrong_kernels(wrong, advice, capsys):
    ok, out = verdict(ex.q2, wrong, capsys)
    assert not ok
    assert advice in out


def test_q2_an_untouched_stub_is_not_attempted_yet_and_a_missing_return_is_named(capsys):
    def grey_to_rgb(kernel):
        ...  # your code here

    ok, out = verdict(ex.q2, grey_to_rgb, capsys)
    assert not ok and out.startswith("Note: q2 is not attempted yet") and "missing return" in out


@pytest.mark.parametrize("answer, advice", [
    ((25, 35, 32), "padding is 'valid'"),
    ((48, 68, 32), "MaxPool2D(2) halves"),
    ((32,), "after GlobalAveragePooling2D"),
    ((24, 34, 3), "the convolution's 32 filters"),
    ((34, 24, 32), "height comes first"),
    (24, "as a tuple"),
])
def test_q3_explains_wrong_shapes(answer, advice, capsys):
    ok, out = verdict(ex.q3, answer, capsys)
    assert not ok
    assert "expected shape (24, 34, 32)" in out and advice in out


def test_q4_wants_a_sentence(capsys):
    ok, out = verdict(ex.q4, "   ", capsys)
    assert not ok and "write your answer as a sentence" in out
