"""What the network looks at: Grad-CAM and gradient saliency maps, and occlusion to test them.

- :func:`grad_cam` — which *regions* of the digit raised the class score (Selvaraju et al. 2017):
  the last feature maps, weighted by how much the score grows with each channel.
- :func:`saliency` — which *pixels* the score is most sensitive to (Simonyan et al. 2014).
- :func:`top_pixels` and :func:`occlude` — cover the hottest pixels and watch the probability fall.
- :func:`plot_heatmaps` — heatmaps over their digits.

Heatmaps are float32 (n, H, W) in [0, 1], the input's height and width, each scaled so its
hottest pixel is 1 (a map with no heat stays 0). Both methods differentiate the class *score*,
the output layer's value before its softmax (the logit): a probability that has saturated at
1.0 has no gradient left, and the most confident digits would get blank maps.
"""

import keras
import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf

from cnnlearn import CnnlearnError
from cnnlearn.plots import DIGIT_CMAP, _finish, _style


def _inputs(images):
    """uint8 pixels scaled to [0, 1], float images as they are; (n, H, W) gets a channel axis."""
    images = np.asarray(images)
    x = images / 255.0 if np.issubdtype(images.dtype, np.integer) else images
    return tf.constant(x[..., None] if x.ndim == 3 else x, dtype=tf.float32)


def _feature_layer(model, layer, x):
    """The named layer, or the last one whose output is a map of at least 2x2 positions."""
    if not model.built:
        model.build((None, *x.shape[1:]))
    maps = [lay for lay in model.layers if len(lay.output.shape) == 4 and np.prod(lay.output.shape[1:3]) > 1]
    if layer is None and not maps:
        raise CnnlearnError(f"model {model.name!r} has no layer with feature maps (batch, height, width, channels) "
                            "of at least 2x2: Grad-CAM needs a convolutional layer")
    chosen = maps[-1] if layer is None else model.get_layer(layer)
    if chosen not in maps:
        raise CnnlearnError(f"layer {layer!r} outputs shape {tuple(chosen.output.shape)}; Grad-CAM needs feature "
                            f"maps of at least 2x2; those of {model.name!r} are {[lay.name for lay in maps]}")
    return chosen


def _scores(model, x, classes, layer=None):
    """Run ``model`` on ``x`` in inference mode under a gradient tape: (tape, the score of each image's class
    (a Dense output layer's value before its activation), ``layer``'s output or None). A Sequential model runs
    layer by layer (its layers' ``.output`` belong to graphs Keras built as layers were added); a functional
    one through a sub-model to ``layer`` and to the output layer's input."""
    last = model.layers[-1]
    with tf.GradientTape() as tape:
        tape.watch(x)
        if isinstance(model, keras.Sequential):
            maps, hidden = None, x
            for lay in model.layers[:-1]:
                hidden = lay(hidden, training=False)
                maps = hidden if lay is layer else maps
        else:
            maps, hidden = keras.Model(model.inputs, [(layer or last).output, last.input])(x, training=False)
        if isinstance(last, keras.layers.Dense):
            scores = keras.ops.matmul(hidden, last.kernel) + (0.0 if last.bias is None else last.bias)
        else:
            scores = last(hidden, training=False)
        classes = tf.argmax(scores, axis=1) if classes is None else np.broadcast_to(classes, len(x))
        score = tf.gather(scores, classes, batch_dims=1)
    return tape, score, maps


def _normalise(heat):
    """Scale each map (n, H, W) so its largest value is 1; all-zero maps stay zero. float32."""
    peak = heat.max(axis=(1, 2), keepdims=True)
    return np.divide(heat, peak, out=np.zeros_like(heat), where=peak > 0).astype(np.float32)


def grad_cam(model, images, classes=None, layer=None):
    """Grad-CAM heatmaps: where in each image the evidence for its class is.

    Parameters
    ----------
    model : keras.Model, Sequential or functional, ending in Dense(n_classes, softmax); run in
        inference mode (Dropout off, BatchNorm's running statistics)
    images : uint8 (n, H, W) with pixels 0..255, or float (n, H, W, C) in [0, 1]
    classes : int or int (n,), optional: the class to explain (default: the predicted one)
    layer : str, optional: the feature-map layer (default: the last with at least 2x2 positions)

    Returns
    -------
    float32 (n, H, W) in [0, 1]: ReLU(sum over channels of map * mean gradient of the class's score
    before the softmax), upsampled bilinearly from the layer's size to the input's.
    """
    x = _inputs(images)
    tape, score, maps = _scores(model, x, classes, _feature_layer(model, layer, x))
    weights = tf.reduce_mean(tape.gradient(score, maps), axis=(1, 2), keepdims=True)
    cam = tf.nn.relu(tf.reduce_sum(weights * maps, axis=-1, keepdims=True))
    return _normalise(tf.image.resize(cam, x.shape[1:3], method="bilinear")[..., 0].numpy())


def saliency(model, images, classes=None):
    """Gradient saliency: ``|d score / d pixel|`` (the score before the softmax), the largest over colour channels.
    Parameters as :func:`grad_cam`; returns float32 (n, H, W) in [0, 1]."""
    x = _inputs(images)
    tape, score, _ = _scores(model, x, classes)
    return _normalise(tf.reduce_max(tf.abs(tape.gradient(score, x)), axis=-1).numpy())


def top_pixels(heatmaps, k):
    """bool (n, H, W): True at the ``k`` largest values of each map (ties go to the first in row order)."""
    heatmaps = np.asarray(heatmaps)
    flat = heatmaps.reshape(len(heatmaps), -1)
    mask = np.zeros(flat.shape, dtype=bool)
    np.put_along_axis(mask, np.argsort(-flat, axis=1, kind="stable")[:, :k], True, axis=1)
    return mask.reshape(heatmaps.shape)


def occlude(images, mask, value=0):
    """A copy of ``images`` (n, H, W) or (n, H, W, C), the pixels where ``mask`` (n, H, W) is True set to ``value``."""
    occluded = np.array(images, copy=True)
    occluded[np.asarray(mask, dtype=bool)] = value
    return occluded


def plot_heatmaps(images, heatmaps, titles=None, ncols=5, title=None):
    """Each digit, uint8 (n, 28, 28) or float (n, 28, 28, 1), under its heatmap (n, 28, 28) in [0, 1]: the hotter,
    the redder and more opaque. ``titles``: a caption per digit (optional); ``ncols`` digits per row."""
    digits, heatmaps = _inputs(images).numpy()[..., 0], np.clip(heatmaps, 0, 1)
    ncols = max(1, min(ncols, len(digits)))
    nrows = -(-len(digits) // ncols)
    with _style():
        fig, axes = plt.subplots(nrows, ncols, figsize=(2.1 * ncols, 2.1 * nrows + 0.5), layout="constrained",
                                 squeeze=False)
        for i, ax in enumerate(axes.flat):
            ax.set_axis_off()
            if i < len(digits):
                ax.imshow(digits[i], cmap=DIGIT_CMAP, vmin=0, vmax=1)
                ax.imshow(heatmaps[i], cmap="YlOrRd", vmin=0, vmax=1, alpha=0.75 * heatmaps[i])
                ax.set_title("" if titles is None else titles[i])
        return _finish(fig, title or "Where the network looks (red: evidence for the class)")
