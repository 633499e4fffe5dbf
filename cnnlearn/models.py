"""The CNN architectures, in one place.

- :func:`build_cnn` — the architecture this series teaches (from the Kaggle
  notebook "Introduction to CNN Keras"), with every concept a switch:
  pooling, dropout, batch normalization, sizes.
- :func:`build_baseline` — keras-io's "Simple MNIST convnet", a small
  reference point.
- :func:`build_fast_cnn` — the ``fast`` recipe's network: the quickest to
  99% on a CPU.
- :func:`build_strided_cnn` — the faster, more accurate recipe: batch
  normalization and stride-2 convolutions in place of pooling.
- :func:`build_logistic` and :func:`build_mlp` — the networks without
  convolutions that notebook 01 climbs past: logistic regression, and one
  hidden Dense layer (a deep *linear* net with ``activation=None``).

Every model takes float32 images of shape (n, 28, 28, 1) in [0, 1] and
outputs 10 class probabilities (softmax).
"""

import keras
from keras import layers

INPUT_SHAPE = (28, 28, 1)


def _conv(model, filters, kernel_size, name, batch_norm, strides=1, padding="same"):
    """Conv2D + ReLU, with BatchNorm between them when asked."""
    model.add(layers.Conv2D(filters, kernel_size, strides=strides, padding=padding,
                            use_bias=not batch_norm, name=f"{name}"))
    if batch_norm:
        # momentum 0.9: the running statistics settle within an epoch even on 5,000 digits
        model.add(layers.BatchNormalization(momentum=0.9, name=f"{name}_bn"))
    model.add(layers.Activation("relu", name=f"{name}_relu"))


def build_cnn(filters=(32, 64), kernel_sizes=(5, 3), dropout=(0.25, 0.25, 0.5), dense_units=256,
              batch_norm=False, pooling=True, name="seed_cnn"):
    """The series' CNN: two convolution blocks, then a dense classifier.

    ::

        [Conv2D -> Conv2D -> MaxPool2D -> Dropout]  x 2 blocks
        Flatten -> Dense -> Dropout -> Dense(10, softmax)

    Parameters
    ----------
    filters : (int, int)
        Filters of the two convolutions in block 1 and in block 2.
    kernel_sizes : (int, int)
        Kernel size in block 1 and block 2 (the seed uses 5x5 then 3x3).
    dropout : (float, float, float)
        Dropout after block 1, after block 2 and after the dense layer;
        0 removes that Dropout layer.
    dense_units : int
    batch_norm : bool
        Add BatchNormalization after every convolution and the dense layer.
    pooling : bool
        With False the MaxPool2D layers are left out (to measure what pooling buys).

    Returns
    -------
    keras.Sequential, not compiled. Layers are named ``block1_conv1``,
    ``block1_pool``, ``block1_dropout``, ..., ``dense``, ``output``.
    """
    model = keras.Sequential(name=name)
    model.add(keras.Input(INPUT_SHAPE, name="digits"))
    for block, (n_filters, kernel_size, rate) in enumerate(zip(filters, kernel_sizes, dropout[:2]), start=1):
        for conv in (1, 2):
            _conv(model, n_filters, kernel_size, f"block{block}_conv{conv}", batch_norm)
        if pooling:
            model.add(layers.MaxPool2D(2, name=f"block{block}_pool"))
        if rate:
            model.add(layers.Dropout(rate, name=f"block{block}_dropout"))
    model.add(layers.Flatten(name="flatten"))
    model.add(layers.Dense(dense_units, use_bias=not batch_norm, name="dense"))
    if batch_norm:
        model.add(layers.BatchNormalization(momentum=0.9, name="dense_bn"))
    model.add(layers.Activation("relu", name="dense_relu"))
    if dropout[2]:
        model.add(layers.Dropout(dropout[2], name="dense_dropout"))
    model.add(layers.Dense(10, activation="softmax", name="output"))
    return model


def build_baseline(dropout=0.5, name="keras_io_convnet"):
    """keras-io's "Simple MNIST convnet" (34,826 weights), for comparison.

    Conv2D(32, 3) -> MaxPool -> Conv2D(64, 3) -> MaxPool -> Flatten ->
    Dropout(0.5) -> Dense(10, softmax).
    """
    return keras.Sequential([
        keras.Input(INPUT_SHAPE, name="digits"),
        layers.Conv2D(32, 3, activation="relu", name="conv1"),
        layers.MaxPool2D(2, name="pool1"),
        layers.Conv2D(64, 3, activation="relu", name="conv2"),
        layers.MaxPool2D(2, name="pool2"),
        layers.Flatten(name="flatten"),
        layers.Dropout(dropout, name="dropout"),
        layers.Dense(10, activation="softmax", name="output"),
    ], name=name)


def build_fast_cnn(name="fast_cnn"):
    """The ``fast`` recipe's network (225,834 weights): the quickest route to 99% we measured on a CPU.

    ::

        Conv2D(32, 5) -> MaxPool -> BatchNorm -> ReLU      28 -> 24 -> 12
        Conv2D(64, 3) -> MaxPool -> BatchNorm -> ReLU      12 -> 10 ->  5
        Flatten -> Dense(128, relu) -> Dropout(0.3) -> Dense(10, softmax)

    BatchNorm and ReLU come *after* the pooling: max pooling commutes with ReLU and (for a positive
    scale) with BatchNorm, so the order changes little, but they then work on a quarter of the values,
    which made an epoch about 30% quicker on 2 CPU cores (9.7 s to 6.9 s, benchmarks/RESULTS.md).
    """
    model = keras.Sequential(name=name)
    model.add(keras.Input(INPUT_SHAPE, name="digits"))
    for block, (n_filters, kernel_size) in enumerate(((32, 5), (64, 3)), start=1):
        model.add(layers.Conv2D(n_filters, kernel_size, use_bias=False, name=f"conv{block}"))
        model.add(layers.MaxPool2D(2, name=f"pool{block}"))
        model.add(layers.BatchNormalization(momentum=0.9, name=f"conv{block}_bn"))
        model.add(layers.Activation("relu", name=f"conv{block}_relu"))
    model.add(layers.Flatten(name="flatten"))
    model.add(layers.Dense(128, activation="relu", name="dense"))
    model.add(layers.Dropout(0.3, name="dropout"))
    model.add(layers.Dense(10, activation="softmax", name="output"))
    return model


def build_strided_cnn(width=32, dropout=0.4, batch_norm=True, name="strided_cnn"):
    """Batch normalization and learned downsampling (stride-2 convolutions).

    The design that averages about 99.6% on MNIST as a single model
    (after Chris Deotte's Kaggle study "How to choose CNN Architecture MNIST")::

        Conv3 -> Conv3 -> Conv5/stride 2 -> Dropout        28 -> 26 -> 24 -> 12, width filters
        Conv3 -> Conv3 -> Conv5/stride 2 -> Dropout        12 -> 10 ->  8 ->  4, 2 x width
        Conv4 -> Flatten -> Dropout -> Dense(10, softmax)   4 ->  1,             4 x width

    each convolution followed by BatchNorm and ReLU. ``width`` scales every
    layer: 32 is the full recipe, 16 a faster, smaller one. ``batch_norm=False``
    leaves BatchNorm out (the convolutions get their biases back), to measure it.
    """
    model = keras.Sequential(name=name)
    model.add(keras.Input(INPUT_SHAPE, name="digits"))
    for block, n_filters in enumerate((width, 2 * width), start=1):
        _conv(model, n_filters, 3, f"block{block}_conv1", batch_norm, padding="valid")
        _conv(model, n_filters, 3, f"block{block}_conv2", batch_norm, padding="valid")
        _conv(model, n_filters, 5, f"block{block}_down", batch_norm, strides=2)
        model.add(layers.Dropout(dropout, name=f"block{block}_dropout"))
    _conv(model, 4 * width, 4, "block3_conv", batch_norm, padding="valid")
    model.add(layers.Flatten(name="flatten"))
    model.add(layers.Dropout(dropout, name="dropout"))
    model.add(layers.Dense(10, activation="softmax", name="output"))
    return model


def build_logistic(name="logistic_regression"):
    """Logistic regression on the 784 pixels: Flatten -> Dense(10, softmax).

    784 x 10 weights + 10 biases = 7,850 weights.

    Returns
    -------
    keras.Sequential, not compiled; layers ``flatten``, ``output``.
    """
    return keras.Sequential([
        keras.Input(INPUT_SHAPE, name="digits"),
        layers.Flatten(name="flatten"),
        layers.Dense(10, activation="softmax", name="output"),
    ], name=name)


def build_mlp(hidden_units=1200, activation="relu", name="mlp"):
    """A multi-layer perceptron: Flatten -> Dense(hidden_units) -> Dense(10, softmax).

    Parameters
    ----------
    hidden_units : int
        Width of the hidden layer. The default 1,200 gives 954,010 weights,
        more than :func:`build_cnn`'s 887,530.
    activation : str or None
        The hidden layer's activation. ``None`` makes it linear, and the
        whole network then computes no more than :func:`build_logistic`.

    Returns
    -------
    keras.Sequential, not compiled; layers ``flatten``, ``hidden``, ``output``;
    784 * hidden_units + hidden_units + hidden_units * 10 + 10 weights.
    """
    return keras.Sequential([
        keras.Input(INPUT_SHAPE, name="digits"),
        layers.Flatten(name="flatten"),
        layers.Dense(hidden_units, activation=activation, name="hidden"),
        layers.Dense(10, activation="softmax", name="output"),
    ], name=name)
