"""Named training recipes: an architecture plus how to train it.

``cnnlearn train --recipe NAME`` and the notebooks use these, so a recipe's
settings live in one place.

=========  ==============================================================
name       what it is
=========  ==============================================================
seed       the series' CNN (Kaggle "Introduction to CNN Keras"): RMSprop,
           ReduceLROnPlateau on val_accuracy, augmentation. Teaching default.
baseline   keras-io "Simple MNIST convnet": Adam, no augmentation.
strided    BatchNorm + stride-2 convolutions (width 32), Adam with the
           learning rate decayed 5% per epoch, augmentation, 30 epochs.
strided20  the same network in 20 epochs, the learning rate decayed 12% per
           epoch (tenfold over the run): about 23 minutes on 2 CPU cores.
strided24  the same network in 24 epochs, Adam whose learning rate falls from
           2e-3 to 0 along a cosine: fills the 30 minutes.
fast       keras-io's convnet with BatchNorm and dropout 0.3, no augmentation,
           batches of 128, Adam whose learning rate falls from 5e-3 to 0
           along a cosine over 6 epochs: the quickest route to 99% on a CPU.
=========  ==============================================================
"""

import math
from dataclasses import dataclass
from typing import Callable

import keras

from cnnlearn import CnnlearnError, models, training


def exponential_decay(initial=1e-3, rate=0.95):
    """A callback that sets the learning rate to ``initial * rate ** epoch``."""
    return keras.callbacks.LearningRateScheduler(lambda epoch: initial * rate ** epoch)


class CosineDecay(keras.callbacks.Callback):
    """Lower the learning rate from ``initial`` to 0 along half a cosine, batch by batch, over the whole run.

    The rate before batch ``t`` of ``T`` (all epochs' batches) is
    ``initial * (1 + cos(pi * t / T)) / 2``. ``T`` comes from the run itself
    (Keras tells callbacks the epochs and the batches per epoch), so the same
    callback fits any number of epochs. It needs training data of known
    length, as :func:`cnnlearn.training.train` gives it; a resumed run
    continues the curve from the optimizer's step count.
    """

    def __init__(self, initial=1e-3):
        super().__init__()
        self.initial = initial

    def on_train_begin(self, logs=None):
        self.total = max(1, (self.params.get("steps") or 1) * (self.params.get("epochs") or 1))

    def on_train_batch_begin(self, batch, logs=None):
        done = min(self.model.optimizer.iterations.numpy(), self.total)
        self.model.optimizer.learning_rate = self.initial * (1 + math.cos(math.pi * done / self.total)) / 2


@dataclass(frozen=True)
class Recipe:
    """How to build and train one model.

    ``build``, ``optimizer`` and ``schedule`` are functions, so each run gets
    fresh objects.
    """

    name: str
    build: Callable[[], keras.Model]
    optimizer: Callable[[], keras.optimizers.Optimizer]
    schedule: Callable[[], keras.callbacks.Callback] | None
    epochs: int
    batch_size: int
    augment: bool = True

    def train(self, x_train, y_train, x_val, y_val, epochs=None, batch_size=None, augment=None, **kwargs):
        """Build a fresh model and :func:`cnnlearn.training.train` it; return the History."""
        return training.train(
            self.build(), x_train, y_train, x_val, y_val,
            epochs=epochs or self.epochs,
            batch_size=batch_size or self.batch_size,
            optimizer=self.optimizer(),
            augment=self.augment if augment is None else augment,
            annealer=self.schedule() if self.schedule else None,
            **kwargs,
        )


RECIPES = {
    "seed": Recipe("seed", models.build_cnn, lambda: keras.optimizers.RMSprop(1e-3),
                   training.annealer, epochs=30, batch_size=86),
    "baseline": Recipe("baseline", models.build_baseline, lambda: keras.optimizers.Adam(1e-3),
                       None, epochs=15, batch_size=128, augment=False),
    "strided": Recipe("strided", models.build_strided_cnn, lambda: keras.optimizers.Adam(1e-3),
                      exponential_decay, epochs=30, batch_size=64),
    "strided20": Recipe("strided20", models.build_strided_cnn, lambda: keras.optimizers.Adam(1e-3),
                        lambda: exponential_decay(1e-3, 0.88), epochs=20, batch_size=64),
    "strided24": Recipe("strided24", models.build_strided_cnn, lambda: keras.optimizers.Adam(2e-3),
                        lambda: CosineDecay(2e-3), epochs=24, batch_size=64),
    "fast": Recipe("fast", lambda: models.build_baseline(batch_norm=True, dropout=0.3, name="fast_cnn"),
                   lambda: keras.optimizers.Adam(5e-3), lambda: CosineDecay(5e-3), epochs=6, batch_size=128,
                   augment=False),
}


def get(name):
    """The recipe called ``name``; see :data:`RECIPES`."""
    if name not in RECIPES:
        raise CnnlearnError(f"unknown recipe {name!r}; expected one of {', '.join(RECIPES)}")
    return RECIPES[name]
