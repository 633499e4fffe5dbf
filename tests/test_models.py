"""Tests for cnnlearn.models: shapes, layer names, parameter counts, switches."""

import keras
import numpy as np
import pytest

from cnnlearn import models
from cnnlearn.ops import conv2d_params, output_size

#: The figure the Kaggle notebook "Introduction to CNN Keras" prints for its model.
SEED_CNN_PARAMS = 887_530
#: keras-io's "Simple MNIST convnet".
BASELINE_PARAMS = 34_826


def layer_types(model, kind):
    return [layer for layer in model.layers if isinstance(layer, kind)]


def layer_names(model):
    return [layer.name for layer in model.layers]


@pytest.fixture(scope="module")
def seed_cnn():
    return models.build_cnn()


@pytest.fixture(scope="module")
def random_batch():
    return np.random.default_rng(0).uniform(0, 1, (4, 28, 28, 1)).astype(np.float32)


def test_build_cnn_shapes(seed_cnn):
    assert seed_cnn.input_shape == (None, 28, 28, 1)
    assert seed_cnn.output_shape == (None, 10)


def test_build_cnn_param_count_is_the_notebooks(seed_cnn):
    assert seed_cnn.count_params() == SEED_CNN_PARAMS


def test_build_cnn_param_count_from_formulas(seed_cnn):
    # Where 887,530 comes from, layer by layer ("same" padding keeps 28x28; each pool halves).
    block1 = conv2d_params(5, 1, 32) + conv2d_params(5, 32, 32)          # 832 + 25,632
    block2 = conv2d_params(3, 32, 64) + conv2d_params(3, 64, 64)         # 18,496 + 36,928
    side = output_size(output_size(28, 2, 2), 2, 2)                       # 28 -> 14 -> 7
    flat = side * side * 64                                               # 3,136
    dense = flat * 256 + 256                                              # 803,072
    output = 256 * 10 + 10                                                # 2,570
    assert (block1, block2, side, flat) == (832 + 25_632, 18_496 + 36_928, 7, 3_136)
    assert block1 + block2 + dense + output == SEED_CNN_PARAMS
    # ... and the same numbers per layer in the Keras model
    per_layer = {layer.name: layer.count_params() for layer in seed_cnn.layers}
    assert per_layer["block1_conv1"] == conv2d_params(5, 1, 32)
    assert per_layer["block1_conv2"] == conv2d_params(5, 32, 32)
    assert per_layer["block2_conv1"] == conv2d_params(3, 32, 64)
    assert per_layer["block2_conv2"] == conv2d_params(3, 64, 64)
    assert per_layer["dense"] == dense
    assert per_layer["output"] == output
    assert sum(per_layer.values()) == SEED_CNN_PARAMS


def test_build_cnn_layer_names(seed_cnn):
    names = layer_names(seed_cnn)
    for name in ("block1_conv1", "block1_conv2", "block1_pool", "block1_dropout",
                 "block2_conv1", "block2_conv2", "block2_pool", "block2_dropout",
                 "flatten", "dense", "dense_dropout", "output"):
        assert name in names
    assert names[-1] == "output"
    assert [layer.rate for layer in layer_types(seed_cnn, keras.layers.Dropout)] == [0.25, 0.25, 0.5]
    assert seed_cnn.get_layer("block1_conv1").kernel_size == (5, 5)
    assert seed_cnn.get_layer("block2_conv1").kernel_size == (3, 3)


def test_build_cnn_without_pooling(seed_cnn):
    model = models.build_cnn(pooling=False)
    assert layer_types(model, keras.layers.MaxPool2D) == []
    assert not any("pool" in name for name in layer_names(model))
    assert len(layer_types(seed_cnn, keras.layers.MaxPool2D)) == 2
    assert model.output_shape == (None, 10)
    # the dense layer now sees 28 x 28 x 64 values instead of 7 x 7 x 64
    assert model.get_layer("dense").count_params() == 28 * 28 * 64 * 256 + 256
    assert model.count_params() > seed_cnn.count_params()


def test_build_cnn_zero_dropout_removes_layers(seed_cnn):
    none = models.build_cnn(dropout=(0, 0, 0))
    assert layer_types(none, keras.layers.Dropout) == []
    assert none.count_params() == seed_cnn.count_params()  # dropout has no weights
    partial = models.build_cnn(dropout=(0.25, 0, 0.5))
    names = layer_names(partial)
    assert "block1_dropout" in names and "block2_dropout" not in names and "dense_dropout" in names


def test_build_cnn_batch_norm():
    model = models.build_cnn(batch_norm=True)
    bn = layer_types(model, keras.layers.BatchNormalization)
    assert [layer.name for layer in bn] == ["block1_conv1_bn", "block1_conv2_bn", "block2_conv1_bn",
                                             "block2_conv2_bn", "dense_bn"]
    # the layers before BatchNorm drop their bias (BatchNorm's beta replaces it)
    assert not model.get_layer("block1_conv1").use_bias
    assert not model.get_layer("dense").use_bias
    assert model.output_shape == (None, 10)
    assert layer_types(models.build_cnn(), keras.layers.BatchNormalization) == []


def test_build_cnn_sizes_are_switches():
    small = models.build_cnn(filters=(8, 16), dense_units=32)
    assert small.get_layer("block1_conv1").filters == 8
    assert small.get_layer("block2_conv2").filters == 16
    assert small.get_layer("dense").units == 32
    assert small.count_params() == (conv2d_params(5, 1, 8) + conv2d_params(5, 8, 8) + conv2d_params(3, 8, 16)
                                    + conv2d_params(3, 16, 16) + (7 * 7 * 16 * 32 + 32) + (32 * 10 + 10))


def test_build_baseline():
    model = models.build_baseline()
    assert model.output_shape == (None, 10)
    assert model.count_params() == BASELINE_PARAMS
    # 28 -conv3-> 26 -pool-> 13 -conv3-> 11 -pool-> 5: 5 * 5 * 64 = 1,600 inputs to the output layer
    side = output_size(output_size(output_size(output_size(28, 3), 2, 2), 3), 2, 2)
    assert (conv2d_params(3, 1, 32) + conv2d_params(3, 32, 64) + side * side * 64 * 10 + 10) == BASELINE_PARAMS


def test_build_fast_cnn_normalizes_after_pooling():
    model = models.build_fast_cnn()
    assert model.output_shape == (None, 10)
    assert model.count_params() == 225_834
    names = [layer.name for layer in model.layers]
    assert names[:8] == ["conv1", "pool1", "conv1_bn", "conv1_relu", "conv2", "pool2", "conv2_bn", "conv2_relu"]
    assert not model.get_layer("conv1").use_bias  # BatchNorm's shift replaces the bias
    # 28 -conv5-> 24 -pool-> 12 -conv3-> 10 -pool-> 5: 5 * 5 * 64 = 1,600 inputs to Dense(128)
    assert model.get_layer("flatten").output.shape[1:] == (1600,)
    assert model.get_layer("dropout").rate == 0.3


def test_build_strided_cnn():
    model = models.build_strided_cnn()
    assert model.output_shape == (None, 10)
    strided = [layer.name for layer in layer_types(model, keras.layers.Conv2D) if layer.strides == (2, 2)]
    assert strided == ["block1_down", "block2_down"]
    assert layer_types(model, keras.layers.MaxPool2D) == []
    assert len(layer_types(model, keras.layers.BatchNormalization)) == 7
    # 28 -> 26 -> 24 -> 12 -> 10 -> 8 -> 4 -> 1
    assert model.get_layer("block1_down").output.shape[1:3] == (12, 12)
    assert model.get_layer("block2_down").output.shape[1:3] == (4, 4)
    assert model.get_layer("block3_conv").output.shape[1:] == (1, 1, 128)


def test_build_strided_cnn_without_batch_norm():
    with_bn, without = models.build_strided_cnn(), models.build_strided_cnn(batch_norm=False)
    assert layer_types(without, keras.layers.BatchNormalization) == []
    convs = layer_types(without, keras.layers.Conv2D)
    assert all(conv.use_bias for conv in convs) and len(convs) == 7
    # each BatchNorm held 4 numbers per filter; its convolution gets 1 bias per filter back
    filters = sum(conv.filters for conv in convs)
    assert with_bn.count_params() - without.count_params() == 4 * filters - filters
    assert [layer.output.shape for layer in without.layers if "bn" not in layer.name] == \
        [layer.output.shape for layer in with_bn.layers if "bn" not in layer.name]


def test_build_strided_cnn_width():
    narrow, wide = models.build_strided_cnn(width=16), models.build_strided_cnn(width=32)
    assert narrow.count_params() < wide.count_params()
    assert narrow.get_layer("block3_conv").filters == 64
    assert narrow.output_shape == (None, 10)


@pytest.mark.parametrize("build", [
    models.build_cnn,
    lambda: models.build_cnn(batch_norm=True),
    lambda: models.build_cnn(filters=(8, 16), dense_units=32, pooling=False),
    models.build_baseline,
    models.build_fast_cnn,
    models.build_strided_cnn,
    lambda: models.build_strided_cnn(width=16),
], ids=["cnn", "cnn_bn", "cnn_nopool", "baseline", "fast", "strided", "strided16"])
def test_outputs_are_probabilities(build, random_batch):
    model = build()
    for training in (False, True):
        out = keras.ops.convert_to_numpy(model(random_batch, training=training))
        assert out.shape == (4, 10)
        assert np.all(out >= 0)
        np.testing.assert_allclose(out.sum(axis=1), 1, atol=1e-5)


def test_model_names():
    assert models.build_cnn().name == "seed_cnn"
    assert models.build_baseline().name == "keras_io_convnet"
    assert models.build_strided_cnn().name == "strided_cnn"
    assert models.build_cnn(name="other").name == "other"
