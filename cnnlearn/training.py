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


class LearningRateFinder(keras.callbacks.Callback):
    """The learning-rate range test (Smith 2015; fastai's ``lr_find``): one short ``fit`` at a rising rate.

    Batch ``i`` trains at ``min_rate * (max_rate / min_rate) ** (i / (steps - 1))``, so the rate rises
    geometrically from ``min_rate`` to ``max_rate`` over ``steps`` batches. Training stops after them, or as
    soon as the smoothed loss exceeds ``stop_factor`` times its lowest value (the loss has exploded). At the
    end the model's weights and the optimizer's state (rate, step count, moments) are put back as they were,
    so the test leaves the model as untrained as it found it. Give ``fit`` enough epochs for ``steps`` batches.

    Parameters
    ----------
    min_rate, max_rate : float, default 1e-5 and 1.0
    steps : int, default 100
    smoothing : float, default 0.9
        The loss is averaged as ``average = smoothing * average + (1 - smoothing) * loss``, bias-corrected.
    stop_factor : float, default 4.0

    Attributes
    ----------
    rates : list of float
        The learning rate of each batch trained.
    losses : list of float
        The smoothed loss up to each batch trained.
    """

    def __init__(self, min_rate=1e-5, max_rate=1.0, steps=100, smoothing=0.9, stop_factor=4.0):
        super().__init__()
        self.min_rate, self.max_rate, self.steps = min_rate, max_rate, steps
        self.smoothing, self.stop_factor = smoothing, stop_factor

    def on_train_begin(self, logs=None):
        self.rates, self.losses, self._average = [], [], 0.0
        if not self.model.optimizer.built:  # create its moments now, so that they are put back too
            self.model.optimizer.build(self.model.trainable_variables)
        self._saved = [v.numpy() for v in self.model.weights + self.model.optimizer.variables]

    def on_train_batch_begin(self, batch, logs=None):
        self.model.reset_metrics()  # Keras logs the epoch's running mean: after a reset, this batch's loss
        self.rates.append(self.min_rate * (self.max_rate / self.min_rate) ** (len(self.rates) / (self.steps - 1)))
        self.model.optimizer.learning_rate = self.rates[-1]

    def on_train_batch_end(self, batch, logs=None):
        self._average = self.smoothing * self._average + (1 - self.smoothing) * float(logs["loss"])
        self.losses.append(self._average / (1 - self.smoothing ** (len(self.losses) + 1)))
        if len(self.losses) == self.steps or not self.losses[-1] <= self.stop_factor * min(self.losses):
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        for variable, value in zip(self.model.weights + self.model.optimizer.variables, self._saved):
            variable.assign(value)
