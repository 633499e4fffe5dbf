"""The convolution exercises: solutions pass, plausible mistakes fail with a helpful message."""

import keras
import numpy as np
import pytest

from cnnlearn import ops
from cnnlearn.exercises import convolution as ex

QUESTIONS = [ex.q1, ex.q2, ex.q3, ex.q4, ex.q5]


def verdict(capsys, question, answer):
    ok = question.check(answer)
    return ok, capsys.readouterr().out


def test_solutions_print_their_source(capsys):
    for question, function in [(ex.q1, ex._q1_solution), (ex.q2, ex._my_conv2d_solution),
                               (ex.q3, ex._q3_solution), (ex.q4, ex._q4_solution)]:
        question.solution()
        assert f"def {function.__name__}(" in capsys.readouterr().out


# q1: output shape ------------------------------------------------------------

def test_q1_solution(capsys):
    assert ex._q1_solution() == (ops.output_size(28, 3), ops.output_size(28, 3)) == (26, 26)
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
    (_forgot_return, "missing return?"),
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


# q4: the smallest CNN --------------------------------------------------------

def test_q4_solution(capsys):
    model = ex._q4_solution()
    assert model.count_params() == ex.q4.params == 15_770
    assert verdict(capsys, ex.q4, model)[0]


def test_q4_valid_padding_gives_the_wrong_count(capsys):
    model = keras.Sequential([
        keras.Input((28, 28, 1)),
        keras.layers.Conv2D(8, 3, strides=2, activation="relu"),  # padding="valid": 13x13 maps
        keras.layers.Flatten(),
        keras.layers.Dense(10, activation="softmax"),
    ])
    ok, out = verdict(capsys, ex.q4, model)
    assert not ok and "13,610 weights; expected 15,770" in out


def test_q4_missing_flatten(capsys):
    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Conv2D(8, 3, strides=2, padding="same"),
                              keras.layers.Dense(10, activation="softmax")])
    ok, out = verdict(capsys, ex.q4, model)
    assert not ok and "expected layers ['Conv2D', 'Flatten', 'Dense']" in out


# q5: thought -----------------------------------------------------------------

def test_q5(capsys):
    ok, out = verdict(capsys, ex.q5, "Fewer weights, and an edge is an edge anywhere.")
    assert ok and "solution()" in out
    ok, out = verdict(capsys, ex.q5, "   ")
    assert not ok and "sentence" in out
