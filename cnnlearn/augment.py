"""Data augmentation with Keras preprocessing layers.

Each epoch the network sees every training digit slightly rotated, zoomed
and shifted, so it has to learn what stays the same: the digit. The layers
run on the fly, in the ``tf.data`` pipeline (``training.dataset(...,
augment=augmenter())``) or as a model's first layers (active only in
training). Keras 3 removed ``ImageDataGenerator``; these layers replace it.
:class:`RandomElastic` adds the classic augmentation for handwriting that
Keras lacks, elastic distortion, as one more such layer.
"""

import keras
import numpy as np


def augmenter(rotation_degrees=10, zoom=0.1, shift=0.1, flip=False, seed=None):
    """A pipeline of random transformations for batches of digits.

    Parameters
    ----------
    rotation_degrees : float
        Rotate by up to this many degrees either way. (``RandomRotation``
        takes a fraction of a full turn, so 10 degrees is ``10 / 360``.)
    zoom : float
        Zoom in or out by up to this fraction of the size.
    shift : float
        Shift up/down and left/right by up to this fraction of the size.
    flip : bool
        Mirror left-right at random. Wrong for digits (a mirrored 2 is not
        a 2); it exists so a notebook can measure how much it hurts.
    seed : int, optional

    Returns
    -------
    keras.Sequential
        Call it as ``augmenter(images, training=True)`` on float images of
        shape (n, 28, 28, 1). Areas moved in from outside the image are
        filled with 0 (black background), not stretched edge pixels.
    """
    layers = []
    if rotation_degrees:
        layers.append(keras.layers.RandomRotation(rotation_degrees / 360, fill_mode="constant", seed=seed,
                                                  name="rotate"))
    if zoom:
        layers.append(keras.layers.RandomZoom(zoom, fill_mode="constant", seed=seed, name="zoom"))
    if shift:
        layers.append(keras.layers.RandomTranslation(shift, shift, fill_mode="constant", seed=seed, name="shift"))
    if flip:
        layers.append(keras.layers.RandomFlip("horizontal", seed=seed, name="flip"))
    return keras.Sequential(layers, name="augmenter")


class RandomElastic(keras.layers.Layer):
    """Elastic distortion (Simard, Steinkraus & Platt, 2003), the classic augmentation for handwriting.

    Each image gets its own displacement field: a random amount in [-1, 1] per pixel and direction,
    smoothed with a Gaussian of ``sigma`` pixels (neighbours move together, like a hand's wobble) and
    scaled by ``alpha``. The image is resampled at the moved positions by bilinear interpolation,
    with background (0) outside.

    Parameters
    ----------
    alpha : float, default 34
        Strength: the smoothed field is multiplied by ``alpha`` (pixels). The defaults are the paper's
        for MNIST; they move strokes by up to a few pixels.
    sigma : float, default 4
        Smoothness: the Gaussian's standard deviation in pixels. Small is noise, large is nearly a shift.
    seed : int, optional
        Seeds the layer's ``keras.random.SeedGenerator``: the same seed gives the same distortions.

    Call it on float images (n, height, width, channels); it returns the same shape and dtype.
    Active only with ``training=True``; otherwise (``model.predict``, ``evaluate``) it is the identity.
    """

    def __init__(self, alpha=34.0, sigma=4.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.alpha, self.sigma, self.seed = alpha, sigma, seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        taps = np.exp(-np.arange(-int(3 * sigma), int(3 * sigma) + 1) ** 2 / (2 * sigma**2))
        self.gaussian = taps / taps.sum()  # 1-D Gaussian: blur down the columns, then along the rows

    def call(self, images, training=False):
        if not training:
            return images
        ops = keras.ops
        n, h, w, c = ops.shape(images)
        field = keras.random.uniform((n, h, w, 2), -1.0, 1.0, seed=self.seed_generator)
        taps = ops.cast(self.gaussian, field.dtype)
        for kernel in (ops.reshape(taps, (-1, 1, 1, 1)), ops.reshape(taps, (1, -1, 1, 1))):  # separable blur
            field = ops.depthwise_conv(field, ops.tile(kernel, (1, 1, 2, 1)), padding="same")
        rows, cols = ops.meshgrid(ops.arange(h, dtype=field.dtype), ops.arange(w, dtype=field.dtype), indexing="ij")
        y, x = rows + self.alpha * field[..., 0], cols + self.alpha * field[..., 1]  # where each pixel reads from
        y0, x0 = ops.floor(y), ops.floor(x)
        pixels, first = ops.reshape(images, (-1, c)), ops.reshape(ops.arange(n) * h * w, (-1, 1, 1))
        out = 0.0
        for yy, xx, weight in ((y0, x0, (y0 + 1 - y) * (x0 + 1 - x)), (y0, x0 + 1, (y0 + 1 - y) * (x - x0)),
                               (y0 + 1, x0, (y - y0) * (x0 + 1 - x)), (y0 + 1, x0 + 1, (y - y0) * (x - x0))):
            inside = (yy >= 0) & (yy <= h - 1) & (xx >= 0) & (xx <= w - 1)  # outside: background, 0
            index = first + ops.cast(ops.clip(yy, 0, h - 1) * w + ops.clip(xx, 0, w - 1), "int32")
            out = out + ops.where(inside, weight, 0.0)[..., None] * ops.take(pixels, index, axis=0)
        return ops.cast(out, images.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha, "sigma": self.sigma, "seed": self.seed}
