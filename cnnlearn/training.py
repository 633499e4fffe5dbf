"""Training toolkit: seeds, the input pipeline, and the callbacks the series uses.

Notebooks call Keras themselves; this module supplies the small pieces around ``fit``::

    model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
    model.fit(training.dataset(x_train, y_train, shuffle=True, augment=augmenter(seed=0), seed=0),
              validation_data=training.dataset(x_val, y_val), epochs=10,
              callbacks=[training.annealer(), training.LearningRateLog()])
"""

import random
import warnings

import keras
import numpy as np
import tensorflow as tf

from cnnlearn.data import model_input, one_hot

_deterministic = False  # set_seed turns TensorFlow's op determinism on

# fit's shuffle=True (its default) cannot apply to a tf.data pipeline, and Keras warns each
# time; dataset() shuffles by itself, so the warning tells a learner nothing.
warnings.filterwarnings("ignore", message="`shuffle=True` was passed, but will be ignored", category=UserWarning)


def set_seed(seed):
    """Seed Python, NumPy, Keras and TensorFlow, and make TensorFlow's ops deterministic: the same seed
    then gives the same weights, shuffles, augmentations and history (on the same machine)."""
    random.seed(seed)
    np.random.seed(seed)
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
    global _deterministic
    _deterministic = True


def dataset(images, labels, batch_size=64, shuffle=False, augment=None, seed=None):
    """The ``tf.data`` pipeline that ``model.fit`` consumes: batches of (images, one-hot labels).

    Parameters
    ----------
    images : uint8 (n, 28, 28), scaled to [0, 1], or float32 (n, 28, 28, 1)
    labels : int (n,) or one-hot float32 (n, 10)
    batch_size : int, default 64
    shuffle : bool, default False
        Reshuffle every epoch, with ``seed`` (for training, not validation).
    augment : keras layer, optional
        Applied to each batch on the fly, e.g. :func:`cnnlearn.augment.augmenter`.
    seed : int, optional

    Returns
    -------
    tf.data.Dataset of float32 (batch, 28, 28, 1) and (batch, 10), prefetched.
    """
    images = model_input(images)
    labels = one_hot(labels) if np.ndim(labels) == 1 else np.asarray(labels, dtype=np.float32)
    data = tf.data.Dataset.from_tensor_slices((images, labels))
    if shuffle:
        data = data.shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
    data = data.batch(batch_size)
    if augment is not None:
        # Under op determinism (set_seed) TensorFlow refuses parallel random maps.
        parallel = None if _deterministic else tf.data.AUTOTUNE
        data = data.map(lambda x, y: (augment(x, training=True), y), num_parallel_calls=parallel)
    return data.prefetch(tf.data.AUTOTUNE)


def annealer(patience=3, factor=0.5, min_lr=1e-5, verbose=0):
    """The series' annealer: ``keras.callbacks.ReduceLROnPlateau`` on ``"val_accuracy"`` (mode "max"):
    after ``patience`` epochs without a new best, the rate is multiplied by ``factor``, never below ``min_lr``."""
    return keras.callbacks.ReduceLROnPlateau(
        monitor="val_accuracy", mode="max", patience=patience, factor=factor, min_lr=min_lr, verbose=verbose
    )


class LearningRateLog(keras.callbacks.Callback):
    """Record the rate each epoch started with as ``history["learning_rate"]``, schedules included
    (Keras logs it only when a callback such as ``ReduceLROnPlateau`` changes the rate)."""

    def on_epoch_begin(self, epoch, logs=None):
        self.rate = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = self.rate
