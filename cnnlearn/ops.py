"""The building blocks of a CNN, computed by hand in NumPy.

Each function does what one Keras layer or loss does, written so you can read
it. The tests check every one against Keras to float32 tolerance.

Layout is channels-last, as in Keras: a batch of images is ``(n, height,
width, channels)`` and a convolution kernel is ``(kernel_h, kernel_w,
in_channels, out_channels)``.
"""

import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from cnnlearn import CnnlearnError


def output_size(n, kernel, stride=1, padding="valid"):
    """Length of a convolution or pooling output along one axis.

    "valid" (no padding): ``floor((n - kernel) / stride) + 1``.
    "same" (pad with zeros so every input position is visited): ``ceil(n / stride)``.
    """
    if padding == "valid":
        return (n - kernel) // stride + 1
    if padding == "same":
        return math.ceil(n / stride)
    raise CnnlearnError(f"padding must be 'valid' or 'same'; got {padding!r}")


def _pad_same(images, kernel_h, kernel_w, stride):
    """Zero-pad height and width as Keras does for padding="same" (extra pixel at the end)."""
    pads = []
    for n, k in ((images.shape[1], kernel_h), (images.shape[2], kernel_w)):
        total = max((output_size(n, k, stride, "same") - 1) * stride + k - n, 0)
        pads.append((total // 2, total - total // 2))
    return np.pad(images, [(0, 0), pads[0], pads[1], (0, 0)])


def _windows(images, kernel_h, kernel_w, stride, padding):
    """Every (kernel_h, kernel_w) patch: shape (n, out_h, out_w, channels, kernel_h, kernel_w)."""
    if padding == "same":
        images = _pad_same(images, kernel_h, kernel_w, stride)
    elif padding != "valid":
        raise CnnlearnError(f"padding must be 'valid' or 'same'; got {padding!r}")
    patches = sliding_window_view(images, (kernel_h, kernel_w), axis=(1, 2))
    return patches[:, ::stride, ::stride]


def _as_batch(images):
    """Accept one 2-D image (height, width) too; say whether to give one back."""
    images = np.asarray(images, dtype=np.float32)
    if images.ndim == 2:
        return images[None, :, :, None], True
    if images.ndim != 4:
        raise CnnlearnError(f"expected images of shape (n, height, width, channels) or (height, width); "
                            f"got {images.shape}")
    return images, False


def conv2d(images, kernels, bias=None, stride=1, padding="valid"):
    """2-D convolution (strictly, cross-correlation, as in every deep learning library).

    Parameters
    ----------
    images : array, shape (n, height, width, in_channels), or one (height, width) image
    kernels : array, shape (kernel_h, kernel_w, in_channels, out_channels), or one (kernel_h, kernel_w) kernel
    bias : array of shape (out_channels,), optional
    stride : int
        Step between windows, the same along height and width.
    padding : {"valid", "same"}

    Returns
    -------
    ndarray of float32, shape (n, out_h, out_w, out_channels), or (out_h, out_w)
    when given one image and one kernel. Each output value is the sum of a
    window of the input times the kernel, plus the bias.
    """
    images, single = _as_batch(images)
    kernels = np.asarray(kernels, dtype=np.float32)
    if kernels.ndim == 2:
        kernels = kernels[:, :, None, None]
    if kernels.ndim != 4 or kernels.shape[2] != images.shape[3]:
        raise CnnlearnError(
            f"kernels of shape {kernels.shape} do not fit images with {images.shape[3]} channels; "
            "expected (kernel_h, kernel_w, in_channels, out_channels)"
        )
    kernel_h, kernel_w = kernels.shape[:2]
    windows = _windows(images, kernel_h, kernel_w, stride, padding)
    # windows: (n, out_h, out_w, in_c, kh, kw); kernels: (kh, kw, in_c, out_c)
    out = np.einsum("nhwcij,ijco->nhwo", windows, kernels, optimize=True)
    if bias is not None:
        out = out + np.asarray(bias, dtype=np.float32)
    return out[0, :, :, 0] if single and out.shape[3] == 1 else out


def max_pool2d(images, size=2, stride=None, padding="valid"):
    """Max pooling: the largest value in each ``size x size`` window, channel by channel.

    Parameters
    ----------
    images : array, shape (n, height, width, channels), or one (height, width) image
    size : int
    stride : int, optional
        Defaults to ``size`` (windows side by side, no overlap), as in Keras.
    padding : {"valid", "same"}

    Returns
    -------
    ndarray of float32, shape (n, out_h, out_w, channels), or (out_h, out_w).
    """
    images, single = _as_batch(images)
    stride = size if stride is None else stride
    if padding == "same":
        # Pad with -inf so padding never wins the max.
        padded = _pad_same(images, size, size, stride)
        mask = _pad_same(np.ones_like(images), size, size, stride)
        images = np.where(mask > 0, padded, -np.inf)
        padding = "valid"
    out = _windows(images, size, size, stride, padding).max(axis=(4, 5))
    return out[0, :, :, 0] if single else out


def relu(x):
    """max(x, 0), element by element."""
    return np.maximum(x, 0)


def softmax(logits, axis=-1):
    """Turn scores into probabilities that sum to 1 along ``axis``.

    Subtracting the largest score first changes nothing mathematically
    (it cancels in the ratio) but keeps ``exp`` from overflowing.
    """
    logits = np.asarray(logits, dtype=np.float64)
    shifted = np.exp(logits - logits.max(axis=axis, keepdims=True))
    return (shifted / shifted.sum(axis=axis, keepdims=True)).astype(np.float32)


def categorical_crossentropy(y_true, y_prob, eps=1e-7):
    """Crossentropy of one-hot targets and predicted probabilities, per sample.

    ``-sum(y_true * log(y_prob))`` over the classes: minus the log of the
    probability given to the right class. Like Keras, probabilities are
    first rescaled to sum to 1 and clipped to ``[eps, 1 - eps]`` so that
    ``log(0)`` never happens.

    Parameters
    ----------
    y_true : array (n, classes), one-hot (or any distribution)
    y_prob : array (n, classes), predicted probabilities

    Returns
    -------
    ndarray of float32, shape (n,)
    """
    y_true = np.asarray(y_true, dtype=np.float64)
    y_prob = np.asarray(y_prob, dtype=np.float64)
    y_prob = y_prob / y_prob.sum(axis=-1, keepdims=True)
    y_prob = np.clip(y_prob, eps, 1 - eps)
    return (-(y_true * np.log(y_prob)).sum(axis=-1)).astype(np.float32)


def dropout(x, rate, rng=None, training=True):
    """Inverted dropout.

    In training, each value is zeroed with probability ``rate`` and the
    survivors are scaled by ``1 / (1 - rate)``, so the expected value of
    every unit is unchanged. At inference (``training=False``) it does
    nothing, so the trained network needs no rescaling.

    Parameters
    ----------
    x : array
    rate : float in [0, 1)
    rng : numpy.random.Generator, optional
    training : bool
    """
    if not 0 <= rate < 1:
        raise CnnlearnError(f"dropout rate must be in [0, 1); got {rate}")
    x = np.asarray(x, dtype=np.float32)
    if not training or rate == 0:
        return x
    rng = np.random.default_rng() if rng is None else rng
    keep = rng.random(x.shape) >= rate
    return np.where(keep, x / (1 - rate), 0).astype(np.float32)


def conv2d_params(kernel_size, in_channels, filters, bias=True):
    """Number of weights in a Conv2D layer: one kernel per (input, output) channel pair, plus biases."""
    return kernel_size * kernel_size * in_channels * filters + (filters if bias else 0)


def receptive_field(layers):
    """How many input pixels, along each axis, one output pixel of a stack of layers sees.

    Walk the stack from the input, keeping the window size ``r`` and the
    ``jump``: the distance, in input pixels, between two neighbouring outputs
    of the layers so far. A layer with kernel (or pool) size ``k`` and stride
    ``s`` widens the window by ``k - 1`` of those steps::

        r = 1, jump = 1
        for each layer:  r = r + (k - 1) * jump;  jump = jump * s

    Padding does not change ``r`` (at the border part of the window is zeros).

    Parameters
    ----------
    layers : list of (kernel_size, stride) pairs, or a keras model
        One pair per convolution or pooling layer, first layer first; a
        pooling layer's kernel size is its pool size. From a model, the layers
        with a ``kernel_size`` (Conv2D) or a ``pool_size`` (pooling) are read,
        and all others (activations, dropout...) are skipped: give it the
        layers up to the feature maps you ask about, not Flatten or Dense.

    Returns
    -------
    int
        The side of the square window of input pixels, e.g. 5 for two 3x3
        convolutions, 8 for a 3x3 convolution, 2x2 pooling and a 3x3 convolution.
    """
    if hasattr(layers, "layers"):  # a keras model: read its convolution and pooling layers
        pairs = []
        for layer in layers.layers:
            size = getattr(layer, "kernel_size", None) or getattr(layer, "pool_size", None)
            if size is None:
                continue
            dilation = getattr(layer, "dilation_rate", (1, 1))
            if len(set(size)) != 1 or len(set(layer.strides)) != 1 or set(dilation) != {1}:
                raise CnnlearnError(f"layer {layer.name!r}: receptive_field needs square kernels and strides, "
                                    f"without dilation; got size {size}, strides {layer.strides}")
            pairs.append((size[0], layer.strides[0]))
        layers = pairs
    r, jump = 1, 1
    for kernel_size, stride in layers:
        if kernel_size < 1 or stride < 1:
            raise CnnlearnError(f"kernel size and stride must be at least 1; got ({kernel_size}, {stride})")
        r += (kernel_size - 1) * jump
        jump *= stride
    return int(r)
