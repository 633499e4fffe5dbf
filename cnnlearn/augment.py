"""Data augmentation with Keras preprocessing layers.

Each epoch the network sees every training digit slightly rotated, zoomed
and shifted, so it has to learn what stays the same: the digit. The layers
run on the fly, in the ``tf.data`` pipeline (``training.dataset(...,
augment=augmenter())``) or as a model's first layers (active only in
training). Keras 3 removed ``ImageDataGenerator``; these layers replace it.
"""

import keras


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
