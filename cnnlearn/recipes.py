"""Named training recipes for ``cnnlearn train``: a network, its optimizer, its schedule.

=========  ==============================================================
name       what it is
=========  ==============================================================
seed       the series' CNN (notebook 01): RMSprop, ReduceLROnPlateau on
           val_accuracy, augmentation. The teaching default.
baseline   keras-io's "Simple MNIST convnet": Adam, no augmentation.
fast       a small network with BatchNorm after pooling and a Dense(128)
           layer, Adam whose rate falls from 5e-3 to 0 along a cosine over
           3 epochs, label smoothing 0.1, batches of 128, no augmentation:
           the quickest route to 99% on a CPU.
strided24  BatchNorm and stride-2 convolutions, Adam whose rate falls from
           2e-3 to 0 along a cosine over 24 epochs, augmentation.
strided44  the same network and rate over 44 epochs: the best single model
           measured (benchmarks/RESULTS.md), about 26 minutes on 2 cores.
elastic    ensemble member: the strided network trained on elastic
           distortions instead of rotate/zoom/shift, over 30 epochs, with an
           exponential moving average of its weights (Adam's ``use_ema``).
bn_cnn     ensemble member: the series' CNN with BatchNorm after every layer,
           Adam on a cosine from 2e-3 over 24 epochs, augmentation.
=========  ==============================================================

Importing this module does not import TensorFlow (``cnnlearn --help`` stays quick).
"""

from dataclasses import dataclass
from typing import Callable

from cnnlearn import CnnlearnError


def _seed(steps):
    import keras
    from cnnlearn import models, training

    return models.build_cnn(), keras.optimizers.RMSprop(1e-3), [training.annealer()]


def _baseline(steps):
    import keras
    from cnnlearn import models

    return models.build_baseline(), keras.optimizers.Adam(1e-3), []


def _cosine_adam(initial, steps, use_ema=False):
    import keras

    return keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(initial, decay_steps=steps), use_ema=use_ema)


def _fast(steps):
    from cnnlearn import models

    return models.build_fast_cnn(), _cosine_adam(5e-3, steps), []


def _strided24(steps):
    from cnnlearn import models

    return models.build_strided_cnn(), _cosine_adam(2e-3, steps), []


def _elastic(steps):
    from cnnlearn import models

    return models.build_strided_cnn(name="strided_cnn_elastic"), _cosine_adam(2e-3, steps, use_ema=True), []


def _bn_cnn(steps):
    from cnnlearn import models

    return models.build_cnn(batch_norm=True, name="bn_cnn"), _cosine_adam(2e-3, steps), []


@dataclass(frozen=True)
class Recipe:
    """How to build and train one model: ``make(steps)`` returns a fresh ``(model, optimizer,
    callbacks)`` for a run of ``steps`` optimizer steps (a cosine schedule needs the run's length)."""

    name: str
    make: Callable
    epochs: int
    batch_size: int
    augment: bool = True
    label_smoothing: float = 0.0
    elastic: bool = False  # augment with elastic distortion instead of rotate/zoom/shift

    def compile(self, steps, augment=False, seed=None):
        """A fresh model for ``steps`` optimizer steps, compiled; returns ``(model, callbacks)``.

        With ``augment`` the model starts with :func:`cnnlearn.augment.augmenter`'s layers (or, for a
        recipe with ``elastic``, a :class:`cnnlearn.augment.RandomElastic`), seeded by ``seed``, which
        transform digits in training only.
        """
        import keras

        from cnnlearn.augment import RandomElastic, augmenter

        model, optimizer, callbacks = self.make(max(1, steps))
        if augment:
            first = [RandomElastic(seed=seed, name="elastic")] if self.elastic else augmenter(seed=seed).layers
            model = keras.Sequential([keras.Input(model.input_shape[1:]), *first, *model.layers], name=model.name)
        loss = keras.losses.CategoricalCrossentropy(label_smoothing=self.label_smoothing) if self.label_smoothing \
            else "categorical_crossentropy"
        model.compile(optimizer=optimizer, loss=loss, metrics=["accuracy"])
        return model, callbacks


RECIPES = {
    "seed": Recipe("seed", _seed, epochs=30, batch_size=86),
    "baseline": Recipe("baseline", _baseline, epochs=15, batch_size=128, augment=False),
    "fast": Recipe("fast", _fast, epochs=3, batch_size=128, augment=False, label_smoothing=0.1),
    "strided24": Recipe("strided24", _strided24, epochs=24, batch_size=64),
    "strided44": Recipe("strided44", _strided24, epochs=44, batch_size=64),
    "elastic": Recipe("elastic", _elastic, epochs=30, batch_size=64, elastic=True),
    "bn_cnn": Recipe("bn_cnn", _bn_cnn, epochs=24, batch_size=64),
}


def get(name):
    """The recipe called ``name``; see :data:`RECIPES`."""
    if name not in RECIPES:
        raise CnnlearnError(f"unknown recipe {name!r}; expected one of {', '.join(RECIPES)}")
    return RECIPES[name]
