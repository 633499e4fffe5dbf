"""Tests for cnnlearn.training: the pipeline, seeds, the annealer and the learning-rate log.

Training here is written as the notebooks write it: ``compile``, then ``fit``
on :func:`cnnlearn.training.dataset`. Every run is tiny (a few hundred digits
of the bundled sample, 1-4 epochs).
"""

import keras
import numpy as np
import pytest

from cnnlearn import data, models, training

HISTORY_KEYS = {"loss", "accuracy", "val_loss", "val_accuracy", "learning_rate"}


def split(sample, n, val_fraction=0.25, seed=0):
    """A stratified subset of n digits, split into training and validation digits."""
    x, y = data.subsample(*sample, n, seed=seed)
    return data.train_val_split(x, y, val_fraction=val_fraction, seed=seed)


def fit(model, x_train, y_train, x_val, y_val, epochs, optimizer="adam", callbacks=(), augment=None, seed=0,
        batch_size=64):
    model.compile(optimizer=optimizer, loss="categorical_crossentropy", metrics=["accuracy"])
    return model.fit(training.dataset(x_train, y_train, batch_size, shuffle=True, augment=augment, seed=seed),
                     validation_data=training.dataset(x_val, y_val), epochs=epochs,
                     callbacks=[training.LearningRateLog(), *callbacks], verbose=0)


def test_dataset_batches_scaled_images_and_one_hot_labels(sample):
    images, labels = sample[0][:130], sample[1][:130]
    batches = list(training.dataset(images, labels, batch_size=64))
    assert [len(x) for x, _ in batches] == [64, 64, 2]
    x, y = batches[0]
    assert x.shape == (64, 28, 28, 1) and x.dtype == "float32"
    assert float(np.max(x)) <= 1.0 and float(np.max(x)) > 0.5
    np.testing.assert_array_equal(x.numpy(), data.prepare(images[:64]))
    np.testing.assert_array_equal(y.numpy(), data.one_hot(labels[:64]))
    # one-hot labels and float images go through unchanged
    x2, y2 = next(iter(training.dataset(data.prepare(images), data.one_hot(labels), batch_size=64)))
    np.testing.assert_array_equal(x2.numpy(), x.numpy())
    np.testing.assert_array_equal(y2.numpy(), y.numpy())


def test_dataset_shuffles_every_epoch_reproducibly(sample):
    images = sample[0][:200]
    ids = np.repeat(np.arange(200, dtype=np.float32)[:, None], 10, axis=1)  # "labels" that name each digit

    def epoch_orders(seed):
        pipeline = training.dataset(images, ids, batch_size=200, shuffle=True, seed=seed)
        return [y.numpy()[:, 0].astype(int).tolist() for _ in range(2) for _, y in pipeline]

    first, again = epoch_orders(3), epoch_orders(3)
    assert first == again  # the same seed, the same orders
    assert first[0] != first[1]  # reshuffled each epoch
    assert first[0] != list(range(200))  # not the original order
    assert sorted(first[0]) == list(range(200))  # every digit once


def test_dataset_augments_each_batch(sample):
    images, labels = sample[0][:32], sample[1][:32]
    flip = keras.layers.RandomFlip("horizontal", seed=0)
    x, y = next(iter(training.dataset(images, labels, batch_size=32, augment=flip)))
    assert x.shape == (32, 28, 28, 1)
    assert not np.array_equal(x.numpy(), data.prepare(images))  # some digits were mirrored
    np.testing.assert_array_equal(y.numpy(), data.one_hot(labels))  # labels untouched


def test_tiny_run_learns(sample):
    x_train, y_train, x_val, y_val = split(sample, 800)  # 600 + 200
    training.set_seed(0)
    model = models.build_baseline()
    history = fit(model, x_train, y_train, x_val, y_val, epochs=3)
    assert set(history.history) == HISTORY_KEYS
    for name, values in history.history.items():
        assert len(values) == 3 and all(np.isfinite(values)), name
    assert history.history["val_accuracy"][-1] > 0.5  # chance is 0.1
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert history.history["learning_rate"] == pytest.approx([0.001] * 3)  # Adam's default
    predictions = model.predict(data.prepare(x_val), verbose=0).argmax(axis=1)
    assert np.mean(predictions == y_val) == pytest.approx(history.history["val_accuracy"][-1], abs=1e-6)


def _seeded_run(sample, seed):
    x_train, y_train, x_val, y_val = split(sample, 240)
    training.set_seed(seed)
    from cnnlearn.augment import augmenter

    return fit(models.build_baseline(), x_train, y_train, x_val, y_val, epochs=2, augment=augmenter(seed=seed),
               seed=seed).history


def test_same_seed_same_history(sample):
    first, second = _seeded_run(sample, 0), _seeded_run(sample, 0)
    for name in HISTORY_KEYS:
        assert first[name] == second[name], name  # exactly equal, not just close
    assert _seeded_run(sample, 1)["loss"] != first["loss"]


def test_annealer_watches_validation_accuracy():
    callback = training.annealer(patience=2, factor=0.25, min_lr=1e-6)
    assert isinstance(callback, keras.callbacks.ReduceLROnPlateau)
    assert callback.monitor == "val_accuracy"
    assert (callback.patience, callback.factor, callback.min_lr) == (2, 0.25, 1e-6)
    assert callback.mode == "max"  # higher accuracy is better
    assert (training.annealer().patience, training.annealer().factor, training.annealer().min_lr) == (3, 0.5, 1e-5)


@pytest.mark.parametrize("log_first", [True, False])
def test_annealer_halves_the_learning_rate_on_a_plateau_and_the_log_shows_the_rate_trained_at(sample, log_first):
    x_train, y_train, x_val, y_val = split(sample, 300, val_fraction=1 / 3)
    training.set_seed(0)
    model = models.build_baseline()
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-9),  # too small to move val_accuracy
                  loss="categorical_crossentropy", metrics=["accuracy"])
    seen = []

    class Seen(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            if batch == 0:
                seen.append(float(self.model.optimizer.learning_rate))

    annealer = training.annealer(patience=1, factor=0.5, min_lr=1e-12)
    callbacks = [training.LearningRateLog(), annealer] if log_first else [annealer, training.LearningRateLog()]
    rates = model.fit(training.dataset(x_train, y_train), validation_data=training.dataset(x_val, y_val), epochs=4,
                      callbacks=[Seen(), *callbacks], verbose=0).history["learning_rate"]
    assert rates == pytest.approx(seen, rel=1e-6)  # the rate each epoch trained at, whatever the order
    assert rates[0] == pytest.approx(1e-9)
    assert min(rates) < rates[0]
    for earlier, later in zip(rates, rates[1:]):  # each drop is by the factor 0.5
        assert later == pytest.approx(earlier, rel=1e-5) or later == pytest.approx(earlier * 0.5, rel=1e-5)


def test_learning_rate_log_follows_a_keras_schedule(sample):
    x_train, y_train, x_val, y_val = split(sample, 160)  # 120 training digits: 2 batches of 64
    schedule = keras.optimizers.schedules.CosineDecay(4e-3, decay_steps=6)
    training.set_seed(0)
    history = fit(models.build_baseline(), x_train, y_train, x_val, y_val, epochs=3,
                  optimizer=keras.optimizers.Adam(schedule))
    # each epoch starts after 2 more steps of the half cosine
    expected = [4e-3 * (1 + np.cos(np.pi * step / 6)) / 2 for step in (0, 2, 4)]
    np.testing.assert_allclose(history.history["learning_rate"], expected, rtol=1e-5)
