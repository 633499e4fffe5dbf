"""Tests for cnnlearn.ops: every NumPy building block against its Keras twin.

Inputs are random (property-based with hypothesis, a bounded number of
examples), and each op must agree with the Keras layer, activation or loss
to float32 tolerance. Random arrays come from a NumPy generator seeded by
hypothesis, so a failing example is reproducible from its printed seed.
"""

import keras
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnlearn import CnnlearnError
from cnnlearn import ops

SETTINGS = settings(max_examples=25, deadline=None)


def to_numpy(x):
    return np.asarray(keras.ops.convert_to_numpy(x))


def assert_close(actual, expected, rtol=1e-5, atol=1e-5):
    """Float32 tolerance, scaled to the magnitude of the expected values."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape
    scale = max(1.0, float(np.abs(expected).max())) if expected.size else 1.0
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol * scale)


# --------------------------------------------------------------------------
# conv2d
# --------------------------------------------------------------------------

@st.composite
def conv_cases(draw):
    padding = draw(st.sampled_from(["valid", "same"]))
    height = draw(st.integers(5, 14))
    width = draw(st.integers(5, 14))
    # kernels at most 5 (inputs are at least 5, so they never exceed the input)
    kernel_h = draw(st.integers(1, min(5, height)))
    kernel_w = draw(st.integers(1, min(5, width)))
    return dict(
        n=draw(st.integers(1, 3)), height=height, width=width,
        in_channels=draw(st.integers(1, 3)), out_channels=draw(st.integers(1, 4)),
        kernel=(kernel_h, kernel_w), stride=draw(st.integers(1, 3)), padding=padding,
        seed=draw(st.integers(0, 2**32 - 1)),
    )


def keras_conv2d(images, kernels, bias, stride, padding):
    kernel_h, kernel_w, in_channels, out_channels = kernels.shape
    layer = keras.layers.Conv2D(out_channels, (kernel_h, kernel_w), strides=stride, padding=padding)
    layer.build(images.shape)
    layer.set_weights([kernels, bias])
    return to_numpy(layer(images))


@SETTINGS
@given(conv_cases())
def test_conv2d_matches_keras(case):
    rng = np.random.default_rng(case["seed"])
    images = rng.uniform(-1, 1, (case["n"], case["height"], case["width"], case["in_channels"])).astype(np.float32)
    kernels = rng.normal(0, 1, (*case["kernel"], case["in_channels"], case["out_channels"])).astype(np.float32)
    bias = rng.normal(0, 1, case["out_channels"]).astype(np.float32)

    expected = keras_conv2d(images, kernels, bias, case["stride"], case["padding"])
    actual = ops.conv2d(images, kernels, bias, stride=case["stride"], padding=case["padding"])

    assert actual.dtype == np.float32
    assert_close(actual, expected)
    # output_size predicts the shape along both axes
    assert actual.shape == (
        case["n"],
        ops.output_size(case["height"], case["kernel"][0], case["stride"], case["padding"]),
        ops.output_size(case["width"], case["kernel"][1], case["stride"], case["padding"]),
        case["out_channels"],
    )


def test_conv2d_without_bias_matches_keras_with_zero_bias():
    rng = np.random.default_rng(1)
    images = rng.uniform(0, 1, (2, 9, 9, 2)).astype(np.float32)
    kernels = rng.normal(0, 1, (3, 3, 2, 4)).astype(np.float32)
    expected = keras_conv2d(images, kernels, np.zeros(4, np.float32), 1, "same")
    assert_close(ops.conv2d(images, kernels, padding="same"), expected)


def test_conv2d_hand_computed():
    # A 3x3 image and a 2x2 kernel: each output is a window's weighted sum.
    image = np.arange(9, dtype=np.float32).reshape(3, 3)
    kernel = np.array([[1, 0], [0, -1]], dtype=np.float32)
    out = ops.conv2d(image, kernel)
    np.testing.assert_array_equal(out, [[0 - 4, 1 - 5], [3 - 7, 4 - 8]])


@SETTINGS
@given(height=st.integers(5, 14), width=st.integers(5, 14), kernel=st.integers(1, 5),
       stride=st.integers(1, 3), padding=st.sampled_from(["valid", "same"]), seed=st.integers(0, 2**32 - 1))
def test_conv2d_2d_convenience(height, width, kernel, stride, padding, seed):
    rng = np.random.default_rng(seed)
    image = rng.uniform(0, 1, (height, width)).astype(np.float32)
    k = rng.normal(0, 1, (kernel, kernel)).astype(np.float32)

    out = ops.conv2d(image, k, stride=stride, padding=padding)
    full = ops.conv2d(image[None, :, :, None], k[:, :, None, None], stride=stride, padding=padding)

    assert out.ndim == 2
    assert out.shape == (ops.output_size(height, kernel, stride, padding), ops.output_size(width, kernel, stride, padding))
    np.testing.assert_array_equal(out, full[0, :, :, 0])


# --------------------------------------------------------------------------
# max_pool2d
# --------------------------------------------------------------------------

@SETTINGS
@given(n=st.integers(1, 3), height=st.integers(5, 14), width=st.integers(5, 14), channels=st.integers(1, 3),
       size=st.integers(1, 4), stride=st.one_of(st.none(), st.integers(1, 3)),
       padding=st.sampled_from(["valid", "same"]), seed=st.integers(0, 2**32 - 1))
def test_max_pool2d_matches_keras(n, height, width, channels, size, stride, padding, seed):
    rng = np.random.default_rng(seed)
    # negative values too: "same" padding must never win the max
    images = rng.uniform(-2, -0.5, (n, height, width, channels)).astype(np.float32)

    expected = to_numpy(keras.layers.MaxPool2D(size, strides=stride, padding=padding)(images))
    actual = ops.max_pool2d(images, size, stride=stride, padding=padding)

    assert actual.dtype == np.float32
    np.testing.assert_array_equal(actual, expected)  # max is exact
    effective_stride = size if stride is None else stride
    assert actual.shape == (n, ops.output_size(height, size, effective_stride, padding),
                            ops.output_size(width, size, effective_stride, padding), channels)


def test_max_pool2d_default_stride_is_size():
    images = np.random.default_rng(0).normal(size=(2, 8, 8, 3)).astype(np.float32)
    np.testing.assert_array_equal(ops.max_pool2d(images, 2), ops.max_pool2d(images, 2, stride=2))
    assert ops.max_pool2d(images, 2).shape == (2, 4, 4, 3)


def test_max_pool2d_2d_image():
    image = np.array([[1, 2, 0, 0], [3, 4, 0, 9], [0, 0, 5, 5], [-1, 0, 5, 6]], dtype=np.float32)
    np.testing.assert_array_equal(ops.max_pool2d(image, 2), [[4, 9], [0, 6]])


@pytest.mark.parametrize("n, kernel, stride, padding, expected", [
    (28, 5, 1, "same", 28), (28, 3, 1, "valid", 26), (28, 2, 2, "valid", 14), (7, 2, 2, "valid", 3),
    (7, 2, 2, "same", 4), (12, 5, 2, "same", 6), (4, 4, 1, "valid", 1),
])
def test_output_size_values(n, kernel, stride, padding, expected):
    assert ops.output_size(n, kernel, stride, padding) == expected


# --------------------------------------------------------------------------
# activations and the loss
# --------------------------------------------------------------------------

@SETTINGS
@given(rows=st.integers(1, 5), classes=st.integers(2, 12), scale=st.sampled_from([0.1, 1.0, 10.0, 50.0]),
       seed=st.integers(0, 2**32 - 1))
def test_softmax_matches_keras(rows, classes, scale, seed):
    logits = (np.random.default_rng(seed).normal(size=(rows, classes)) * scale).astype(np.float32)
    expected = to_numpy(keras.ops.softmax(logits, axis=-1))
    actual = ops.softmax(logits)
    assert actual.dtype == np.float32
    np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(actual.sum(axis=-1), 1, atol=1e-6)


def test_softmax_huge_logits_do_not_overflow():
    logits = np.array([[1000.0, 0.0, -1000.0], [1000.0, 1000.0, 1000.0], [-1000.0, -1000.0, 999.0],
                       [1e30, 1e30 - 1e25, 0.0]], dtype=np.float32)
    probabilities = ops.softmax(logits)
    assert np.all(np.isfinite(probabilities))
    np.testing.assert_allclose(probabilities.sum(axis=1), 1, atol=1e-6)
    np.testing.assert_allclose(probabilities[0], [1, 0, 0], atol=1e-6)
    np.testing.assert_allclose(probabilities[1], [1 / 3] * 3, atol=1e-6)
    np.testing.assert_allclose(probabilities[:3], to_numpy(keras.ops.softmax(logits[:3])), atol=1e-6)


def test_softmax_other_axis():
    logits = np.random.default_rng(3).normal(size=(4, 5)).astype(np.float32)
    np.testing.assert_allclose(ops.softmax(logits, axis=0), to_numpy(keras.ops.softmax(logits, axis=0)), atol=1e-6)
    np.testing.assert_allclose(ops.softmax(logits, axis=0).sum(axis=0), 1, atol=1e-6)


@SETTINGS
@given(rows=st.integers(1, 6), classes=st.integers(2, 10), seed=st.integers(0, 2**32 - 1),
       exact=st.booleans())
def test_categorical_crossentropy_matches_keras(rows, classes, seed, exact):
    rng = np.random.default_rng(seed)
    y_true = np.eye(classes, dtype=np.float32)[rng.integers(0, classes, rows)]
    y_prob = ops.softmax(rng.normal(size=(rows, classes)) * 3)
    if exact:
        # Probabilities of exactly 0 and 1: a sure right answer and a sure wrong one.
        y_prob[0] = y_true[0]
        if rows > 1:
            y_prob[1] = np.roll(y_true[1], 1)
    expected = to_numpy(keras.losses.categorical_crossentropy(y_true, y_prob))
    actual = ops.categorical_crossentropy(y_true, y_prob)
    assert actual.shape == (rows,)
    assert actual.dtype == np.float32
    assert np.all(np.isfinite(actual))
    np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-6)


def test_categorical_crossentropy_exact_zero_and_one():
    y_true = np.array([[0, 1, 0], [1, 0, 0], [0, 0, 1]], dtype=np.float32)
    y_prob = np.array([[0, 1, 0], [0, 1, 0], [0.2, 0.3, 0.5]], dtype=np.float32)
    loss = ops.categorical_crossentropy(y_true, y_prob)
    expected = to_numpy(keras.losses.categorical_crossentropy(y_true, y_prob))
    np.testing.assert_allclose(loss, expected, rtol=1e-5, atol=1e-6)
    assert loss[0] == pytest.approx(0, abs=1e-6)            # sure and right: no loss
    assert loss[1] == pytest.approx(-np.log(1e-7), rel=1e-5)  # sure and wrong: clipped, finite
    assert loss[2] == pytest.approx(-np.log(0.5), rel=1e-6)


def test_categorical_crossentropy_rescales_unnormalised_probabilities():
    y_true = np.array([[0, 1]], dtype=np.float32)
    y_prob = np.array([[2.0, 2.0]], dtype=np.float32)
    assert ops.categorical_crossentropy(y_true, y_prob)[0] == pytest.approx(np.log(2), rel=1e-6)
    np.testing.assert_allclose(ops.categorical_crossentropy(y_true, y_prob),
                               to_numpy(keras.losses.categorical_crossentropy(y_true, y_prob)), rtol=1e-6)


@SETTINGS
@given(shape=st.lists(st.integers(1, 6), min_size=1, max_size=4), seed=st.integers(0, 2**32 - 1))
def test_relu_matches_keras(shape, seed):
    x = np.random.default_rng(seed).normal(size=shape).astype(np.float32)
    actual = ops.relu(x)
    np.testing.assert_array_equal(actual, to_numpy(keras.activations.relu(x)))
    assert np.all(actual >= 0)
    np.testing.assert_array_equal(actual[x > 0], x[x > 0])


# --------------------------------------------------------------------------
# dropout
# --------------------------------------------------------------------------

@pytest.mark.parametrize("rate", [0.0, 0.25, 0.5, 0.9])
def test_dropout_is_identity_at_inference(rate):
    x = np.random.default_rng(0).normal(size=(4, 5, 6)).astype(np.float32)
    np.testing.assert_array_equal(ops.dropout(x, rate, training=False), x)
    np.testing.assert_array_equal(to_numpy(keras.layers.Dropout(rate)(x, training=False)), x)


@pytest.mark.parametrize("rate", [0.25, 0.5, 0.8])
def test_dropout_in_training_keeps_the_expected_value(rate):
    ones = np.ones((200, 500), dtype=np.float32)  # 100,000 units
    out = ops.dropout(ones, rate, rng=np.random.default_rng(0))
    zeros = np.mean(out == 0)
    assert zeros == pytest.approx(rate, abs=0.01)
    assert out.mean() == pytest.approx(1.0, abs=0.03)
    survivors = out[out != 0]
    np.testing.assert_allclose(survivors, 1 / (1 - rate), rtol=1e-6)
    assert out.dtype == np.float32


def test_dropout_seeded_rng_is_reproducible():
    x = np.ones((50, 50), dtype=np.float32)
    a = ops.dropout(x, 0.5, rng=np.random.default_rng(7))
    b = ops.dropout(x, 0.5, rng=np.random.default_rng(7))
    c = ops.dropout(x, 0.5, rng=np.random.default_rng(8))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_dropout_matches_keras_statistics():
    rate = 0.5
    ones = np.ones((200, 500), dtype=np.float32)
    ours = ops.dropout(ones, rate, rng=np.random.default_rng(0))
    theirs = to_numpy(keras.layers.Dropout(rate, seed=0)(ones, training=True))
    # values are 0 or 1 / (1 - rate) in both
    for out in (ours, theirs):
        assert set(np.unique(out).round(6)) <= {0.0, round(1 / (1 - rate), 6)}
    assert np.mean(ours == 0) == pytest.approx(np.mean(theirs == 0), abs=0.015)
    assert ours.mean() == pytest.approx(theirs.mean(), abs=0.03)


# --------------------------------------------------------------------------
# parameter counts and bad inputs
# --------------------------------------------------------------------------

@pytest.mark.parametrize("kernel_size, in_channels, filters, bias",
                         [(5, 1, 32, True), (5, 32, 32, True), (3, 32, 64, True), (3, 64, 64, False), (1, 3, 7, True)])
def test_conv2d_params_matches_keras(kernel_size, in_channels, filters, bias):
    layer = keras.layers.Conv2D(filters, kernel_size, use_bias=bias)
    layer.build((None, 28, 28, in_channels))
    assert ops.conv2d_params(kernel_size, in_channels, filters, bias) == layer.count_params()


def test_bad_inputs_raise_cnnlearn_error():
    images = np.zeros((1, 6, 6, 2), dtype=np.float32)
    with pytest.raises(CnnlearnError, match="padding"):
        ops.conv2d(images, np.zeros((3, 3, 2, 1)), padding="full")
    with pytest.raises(CnnlearnError, match="padding"):
        ops.max_pool2d(images, 2, padding="SAME")
    with pytest.raises(CnnlearnError, match="padding"):
        ops.output_size(6, 3, 1, "causal")
    with pytest.raises(CnnlearnError, match="channels"):
        ops.conv2d(images, np.zeros((3, 3, 3, 1)))  # kernel for 3 channels, images have 2
    with pytest.raises(CnnlearnError):
        ops.conv2d(np.zeros((6, 6, 2)), np.zeros((3, 3, 2, 1)))  # 3-D images
    for rate in (1.0, 1.5, -0.1):
        with pytest.raises(CnnlearnError, match="rate"):
            ops.dropout(np.ones(4), rate)
    assert issubclass(CnnlearnError, ValueError)


# --------------------------------------------------------------------------
# receptive field
# --------------------------------------------------------------------------

def measured_receptive_field(model, size=32):
    """Height and width of the input pixels with a non-zero gradient for one central output pixel.

    The stacks are linear with all-positive weights (all-ones kernels, average
    pooling), so no ReLU or max can zero part of the window's gradient.
    """
    import tensorflow as tf

    x = tf.ones((1, size, size, 1))
    with tf.GradientTape() as tape:
        tape.watch(x)
        out = model(x)
        pixel = out[0, out.shape[1] // 2, out.shape[2] // 2, 0]
    support = tape.gradient(pixel, x).numpy()[0, :, :, 0] != 0
    rows, cols = np.flatnonzero(support.any(axis=1)), np.flatnonzero(support.any(axis=0))
    height, width = rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1
    assert support.sum() == height * width  # a full rectangle, no holes
    return int(height), int(width)


def linear_stack(pairs, size=32):
    """A keras model of all-ones convolutions ("c") and average pooling ("p"), for (kind, k, stride) triples."""
    layers = [keras.Input((size, size, 1))]
    for kind, k, stride in pairs:
        if kind == "c":
            layers.append(keras.layers.Conv2D(1, k, strides=stride, use_bias=False, kernel_initializer="ones"))
        else:
            layers.append(keras.layers.AveragePooling2D(k, strides=stride))
    return keras.Sequential(layers)


@pytest.mark.parametrize("pairs, expected", [
    ([(3, 1), (3, 1)], 5),
    ([(5, 1)], 5),
    ([(3, 1), (2, 2), (3, 1)], 8),
    ([(3, 1)] * 3, 7),
    ([(1, 1)], 1),
    ([], 1),
    ([(5, 1), (5, 1), (2, 2), (3, 1), (3, 1), (2, 2)], 20),  # build_cnn's convolutions and pooling
])
def test_receptive_field_hand_known_values(pairs, expected):
    assert ops.receptive_field(pairs) == expected


@pytest.mark.parametrize("stack", [
    [("c", 3, 1), ("c", 3, 1)],
    [("c", 5, 1)],
    [("c", 3, 1), ("p", 2, 2), ("c", 3, 1)],
    [("c", 3, 2), ("c", 3, 1), ("c", 3, 2), ("c", 2, 1)],
    [("p", 2, 2), ("c", 3, 1), ("p", 3, 1), ("c", 4, 2)],
])
def test_receptive_field_matches_the_gradient_support(stack):
    model = linear_stack(stack)
    expected = ops.receptive_field([(k, s) for _, k, s in stack])
    assert measured_receptive_field(model) == (expected, expected)
    assert ops.receptive_field(model) == expected  # read from the model's layers


def test_receptive_field_reads_a_model_and_skips_other_layers():
    from cnnlearn.models import build_cnn

    model = build_cnn(filters=(2, 2), dense_units=4)  # ReLU, Dropout, Flatten, Dense are skipped
    assert ops.receptive_field(model) == 20
    with pytest.raises(CnnlearnError, match="square"):
        ops.receptive_field(keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(1, (3, 1))]))
    with pytest.raises(CnnlearnError, match="at least 1"):
        ops.receptive_field([(0, 1)])
