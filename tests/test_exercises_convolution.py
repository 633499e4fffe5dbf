"""The convolution exercises: solutions pass, plausible mistakes fail with a helpful message."""

import keras
import numpy as np
import pytest

from cnnlearn import data, models, ops, plots, settings, training
from cnnlearn.exercises import convolution as ex
from cnnlearn.exercises.questions import ThoughtQuestion

QUESTIONS = [ex.q1, ex.q2, ex.q3, ex.q4, ex.q5, ex.q6, ex.q7]
CODE_SOLUTIONS = [q for q in QUESTIONS if not isinstance(q, ThoughtQuestion)]


def verdict(capsys, question, answer):
    ok = question.check(answer)
    return ok, capsys.readouterr().out


def notebook_namespace():
    """What notebook 02's exercise cells can use: its imports and ``ex``."""
    import matplotlib.pyplot as plt
    import pandas as pd
    import tensorflow as tf

    return {"keras": keras, "np": np, "plt": plt, "pd": pd, "tf": tf, "data": data, "models": models, "ops": ops,
            "plots": plots, "settings": settings, "training": training, "ex": ex}


@pytest.mark.parametrize("question", CODE_SOLUTIONS, ids=lambda q: q.name)
def test_each_printed_solution_runs_as_pasted_and_passes(question, capsys):
    question.solution()
    printed = capsys.readouterr().out
    code = printed.split("\n", 1)[1]  # after "Note: Solution to qN:"
    assert "_solution" not in code and "_q" not in code, "the solution shows a private name"
    assert f"ex.{question.name}.check(" in code
    exec(compile(code, f"<{question.name} solution>", "exec"), notebook_namespace())
    out = capsys.readouterr().out
    assert out.startswith(f"Correct: {question.name}"), out


# q1: output shape ------------------------------------------------------------

def test_q1_solution(capsys):
    assert ex._q1_solution() == (ops.output_size(28, 3), ops.output_size(28, 3)) == (26, 26)
    assert ex._q1_solution(28, 5) == (ops.output_size(28, 5),) * 2
    assert verdict(capsys, ex.q1, ex._q1_solution())[0]
    assert verdict(capsys, ex.q1, [26, 26])[0]


@pytest.mark.parametrize("answer, message", [
    ((28, 28), "did you pad?"),
    ((27, 27), "off by one"),
    ((25, 25), "off by one"),
    ((13, 13), "stride 2"),
    (26, "as a tuple"),
])
def test_q1_mistakes(capsys, answer, message):
    ok, out = verdict(capsys, ex.q1, answer)
    assert not ok and message in out


# q2: my_conv2d ---------------------------------------------------------------

def test_q2_solution_matches_ops_and_keras(capsys):
    assert verdict(capsys, ex.q2, ex._my_conv2d_solution)[0]
    image = np.random.default_rng(1).random((28, 28)).astype(np.float32)
    kernel = np.random.default_rng(2).normal(size=(3, 3)).astype(np.float32)
    layer = keras.layers.Conv2D(1, 3, strides=2, padding="same", use_bias=False)
    layer.build((None, 28, 28, 1))
    layer.set_weights([kernel[:, :, None, None]])
    expected = keras.ops.convert_to_numpy(layer(image[None, :, :, None]))[0, :, :, 0]
    np.testing.assert_allclose(ex._my_conv2d_solution(image, kernel, stride=2, padding="same"), expected, atol=1e-5)


def test_q2_cases_cover_the_edge_cases():
    kwargs = [kw for _, kw in ex.q2.cases]
    assert {"stride": 2} in kwargs and {"padding": "same"} in kwargs and {"stride": 2, "padding": "same"} in kwargs
    assert any(args[1].shape[0] != args[1].shape[1] for args, _ in ex.q2.cases)  # a non-square kernel


def _no_padding(image, kernel, stride=1, padding="valid"):
    return ex._my_conv2d_solution(image, kernel, stride=stride, padding="valid")


def _no_stride(image, kernel, stride=1, padding="valid"):
    return ex._my_conv2d_solution(image, kernel, stride=1, padding=padding)


def _centred_padding(image, kernel, stride=1, padding="valid"):
    # pads the odd zero at the top/left instead of the bottom/right
    flipped = ex._my_conv2d_solution(image[::-1, ::-1], kernel[::-1, ::-1], stride=stride, padding=padding)
    return flipped[::-1, ::-1]


def _flipped_kernel(image, kernel, stride=1, padding="valid"):
    # the textbook convolution (kernel turned 180 degrees), which Keras does not do
    return ex._my_conv2d_solution(image, kernel[::-1, ::-1], stride=stride, padding=padding)


def _forgot_return(image, kernel, stride=1, padding="valid"):
    ex._my_conv2d_solution(image, kernel, stride=stride, padding=padding)


@pytest.mark.parametrize("answer, message", [
    (_no_padding, "did you forget to pad with zeros for padding='same'?"),
    (_no_stride, "did you move the window 2 pixels at a time?"),
    (_centred_padding, "values differ"),
    (_flipped_kernel, "values differ"),
    (_forgot_return, "not attempted yet: your function returns None (an untouched stub, or a missing return)"),
    (np.zeros((26, 26)), "expected a function"),
])
def test_q2_mistakes(capsys, answer, message):
    ok, out = verdict(capsys, ex.q2, answer)
    assert not ok and message in out


def test_q2_a_crashing_function_is_reported_not_raised(capsys):
    def crashes(image, kernel, stride=1, padding="valid"):
        return image[100]

    ok, out = verdict(capsys, ex.q2, crashes)
    assert not ok and "IndexError" in out


# q3: counting weights --------------------------------------------------------

def test_q3_solution(capsys):
    layer = keras.layers.Conv2D(64, 3)
    layer.build((None, 28, 28, 32))
    assert ex._q3_solution() == ops.conv2d_params(3, 32, 64) == layer.count_params() == 18_496
    assert ex._q3_solution(5, 1, 16) == ops.conv2d_params(5, 1, 16)
    assert verdict(capsys, ex.q3, 18_496)[0]


@pytest.mark.parametrize("answer, message", [
    (18_432, "forgot the biases"),
    (640, "forgot the input channels"),
    (576, "forgot the input channels"),
    (18_464, "not per input channel"),
    ((3, 3, 32, 64), "a whole number"),
])
def test_q3_mistakes(capsys, answer, message):
    ok, out = verdict(capsys, ex.q3, answer)
    assert not ok and message in out


# q4: the smallest CNN's weights, counted before building it --------------------

def test_q4_count_is_keras_count(capsys):
    assert ex._q4_solution() == ex._q5_solution().count_params() == ex.q5.params == 15_770
    assert ex._q4_solution(filters=4, kernel_size=5) == ex._one_conv_network(4, 5).count_params()
    assert verdict(capsys, ex.q4, 15_770)[0]


@pytest.mark.parametrize("answer, message", [
    (80, "the convolution alone"),
    (15_690, "the Dense layer alone"),
    (13_610, "'valid' padding"),
    (62_810, "stride 2 halves each side"),
    (15_752, "count the biases too"),
    (15_760, "count the biases too"),
    (15_771, "expected 15770"),
    ("15770", "a whole number"),
])
def test_q4_mistakes(capsys, answer, message):
    ok, out = verdict(capsys, ex.q4, answer)
    assert not ok and message in out


# q5: the smallest CNN --------------------------------------------------------

def test_q5_solution(capsys):
    ok, out = verdict(capsys, ex.q5, ex._q5_solution())
    assert ok and "15,770 weights" in out


def test_q5_valid_padding_gives_the_wrong_count(capsys):
    model = keras.Sequential([
        keras.Input((28, 28, 1)),
        keras.layers.Conv2D(8, 3, strides=2, activation="relu"),  # padding="valid": 13x13 maps
        keras.layers.Flatten(),
        keras.layers.Dense(10, activation="softmax"),
    ])
    ok, out = verdict(capsys, ex.q5, model)
    assert not ok and "13,610 weights; expected 15,770" in out


def test_q5_missing_flatten(capsys):
    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Conv2D(8, 3, strides=2, padding="same"),
                              keras.layers.Dense(10, activation="softmax")])
    ok, out = verdict(capsys, ex.q5, model)
    assert not ok and "expected layers ['Conv2D', 'Flatten', 'Dense']" in out


def test_q5_missing_relu(capsys):
    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Conv2D(8, 3, strides=2, padding="same"),
                              keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax")])
    ok, out = verdict(capsys, ex.q5, model)
    assert not ok and "layer 0 (Conv2D) should have activation 'relu', got 'linear'" in out


# q6: thought -----------------------------------------------------------------

def test_q6_shows_the_rubric_and_never_says_correct(capsys):
    assert len(ex.q6.rubric) >= 3
    ok, out = verdict(capsys, ex.q6, "Fewer weights, and an edge is an edge anywhere.")
    assert ok and "Correct" not in out and "translation equivariance" in out
    assert all(point in out for point in ex.q6.rubric)
    ok, out = verdict(capsys, ex.q6, "   ")
    assert not ok and "sentence" in out


# q7: experiment --------------------------------------------------------------

def test_q7_a_poor_choice_misses_the_accuracy_target(capsys):
    ok, out = verdict(capsys, ex.q7, {"filters": 2, "kernel_size": 3})  # within the budget, too few filters
    assert not ok and "weights = 3950" in out and "the target: fewer than 8,000 weights" in out


def test_q7_the_weight_budget_counts():
    assert not ex.q7.passes({"weights": 15_770, "validation accuracy": 0.95})  # q5's model: too many weights
    assert not ex.q7.passes({"weights": 7_954, "validation accuracy": 0.85})
    assert ex.q7.passes({"weights": 7_954, "validation accuracy": 0.88})
    assert ex._one_conv_network(8, 3).count_params() >= ex.MAX_WEIGHTS > ex._one_conv_network(4, 5).count_params()


@pytest.mark.parametrize("answer, message", [
    ({"filters": 4}, "answer with a dict"),
    ((4, 5), "answer with a dict"),
    ({"filters": 4.0, "kernel_size": 5}, "filters should be a whole number from 1 to 32"),
    ({"filters": 4, "kernel_size": 0}, "kernel_size should be a whole number from 1 to 28"),
    ({"filters": 100, "kernel_size": 3}, "filters should be a whole number from 1 to 32"),
])
def test_q7_malformed_answers_are_reported_without_training(capsys, monkeypatch, answer, message):
    monkeypatch.setattr("keras.Model.fit", lambda *a, **k: pytest.fail("no training on a malformed answer"))
    ok, out = verdict(capsys, ex.q7, answer)
    assert not ok and message in out


# the notebook ---------------------------------------------------------------

def notebook_02_cells():
    import json
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "notebooks" / "02_convolution.ipynb"
    return json.loads(path.read_text())["cells"]


def test_notebook_02_has_an_exercise_cell_for_every_question():
    code = "\n".join("".join(c["source"]) for c in notebook_02_cells() if c["cell_type"] == "code")
    for question in QUESTIONS:
        assert f"ex.{question.name}.check(" in code and f"# ex.{question.name}.solution()" in code


def test_notebook_02_states_q7s_target_as_measured():
    text = "\n".join("".join(c["source"]) for c in notebook_02_cells() if c["cell_type"] == "markdown")
    q7 = text[text.index("**q7.**"):]
    assert f"{ex.MAX_WEIGHTS:,} weights" in q7 and f"at least {ex.TARGET_ACCURACY}" in q7
    assert f"for {ex.EPOCHS} epochs on 2,000" in q7
