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


# The learning-rate finder ---------------------------------------------------------

class RatesTrainedAt(keras.callbacks.Callback):
    """Record the optimizer's rate as each batch starts (after the finder, listed before it, has set it)."""

    def on_train_begin(self, logs=None):
        self.rates = []

    def on_train_batch_begin(self, batch, logs=None):
        self.rates.append(float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate)))


def find(sample, finder, n=128, optimizer="adam", epochs=10):
    x, y = data.subsample(*sample, n, seed=0)
    training.set_seed(0)
    model = models.build_baseline()
    model.compile(optimizer=optimizer, loss="categorical_crossentropy")
    seen = RatesTrainedAt()
    model.fit(training.dataset(x, y, shuffle=True, seed=0), epochs=epochs, callbacks=[finder, seen], verbose=0)
    return model, seen.rates


def test_finder_raises_the_rate_geometrically_one_loss_per_batch(sample):
    finder = training.LearningRateFinder(min_rate=1e-5, max_rate=1e-2, steps=7)
    _, trained_at = find(sample, finder)  # 2 batches an epoch, 10 epochs: it must stop after 7 batches
    np.testing.assert_allclose(finder.rates, np.geomspace(1e-5, 1e-2, 7), rtol=1e-6)
    np.testing.assert_allclose(trained_at, finder.rates, rtol=1e-5)  # the optimizer really used them
    assert len(finder.losses) == len(finder.rates) == 7
    assert all(np.isfinite(finder.losses))


def test_finder_logs_each_batch_loss_not_the_epoch_mean(sample):
    x, y = data.subsample(*sample, 200, seed=0)  # batches of 64, 64, 64, 8
    training.set_seed(0)
    model = models.build_baseline(dropout=0.0)
    model.compile(optimizer=keras.optimizers.SGD(), loss="categorical_crossentropy")
    finder = training.LearningRateFinder(min_rate=1e-12, max_rate=1e-12, steps=4, smoothing=0.0)
    model.fit(training.dataset(x, y), epochs=1, callbacks=[finder], verbose=0)  # a rate too small to move
    loss = keras.losses.CategoricalCrossentropy()
    by_batch = [float(loss(labels, model(images))) for images, labels in training.dataset(x, y)]
    np.testing.assert_allclose(finder.losses, by_batch, rtol=1e-4)
    assert not np.allclose(finder.losses, np.cumsum(by_batch) / np.arange(1, 5), rtol=1e-3)


def test_finder_smooths_with_a_bias_corrected_average(sample):
    finder = training.LearningRateFinder(min_rate=1e-5, max_rate=1e-3, steps=3, smoothing=0.5)
    x, y = data.subsample(*sample, 192, seed=0)
    training.set_seed(0)
    model = models.build_baseline(dropout=0.0)
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    raw = training.LearningRateFinder(min_rate=1e-5, max_rate=1e-3, steps=3, smoothing=0.0)
    model.fit(training.dataset(x, y), epochs=1, callbacks=[raw], verbose=0)  # restored afterwards
    model.fit(training.dataset(x, y), epochs=1, callbacks=[finder], verbose=0)
    a, b, c = raw.losses
    np.testing.assert_allclose(finder.losses, [a, (0.5 * a + b) / 1.5, (0.25 * a + 0.5 * b + c) / 1.75], rtol=1e-5)


def test_finder_stops_when_the_loss_explodes(sample):
    finder = training.LearningRateFinder(min_rate=1e-3, max_rate=1e4, steps=100)
    find(sample, finder, optimizer=keras.optimizers.SGD(), epochs=50)
    assert 2 < len(finder.losses) < 100
    last, before = finder.losses[-1], finder.losses[:-1]
    assert not last <= 4 * min(finder.losses)  # exploded (or became nan) at the last batch...
    assert all(loss <= 4 * min(before[:i + 1]) for i, loss in enumerate(before))  # ...and not before it
    assert len(finder.rates) == len(finder.losses)


def test_finder_puts_the_weights_and_the_optimizer_back(sample):
    x, y = data.subsample(*sample, 128, seed=0)
    training.set_seed(0)
    model = models.build_baseline()
    model.compile(optimizer=keras.optimizers.Adam(2e-3), loss="categorical_crossentropy")
    model.fit(training.dataset(x, y), epochs=1, verbose=0)  # moments and step count are not zero any more
    before = [v.numpy().copy() for v in model.weights + model.optimizer.variables]
    finder = training.LearningRateFinder(min_rate=1e-4, max_rate=10.0, steps=20)
    model.fit(training.dataset(x, y), epochs=10, callbacks=[finder], verbose=0)
    assert len(finder.losses) > 2  # it trained...
    after = [v.numpy() for v in model.weights + model.optimizer.variables]
    for old, new in zip(before, after, strict=True):  # ...and left no trace
        np.testing.assert_array_equal(old, new)
    assert float(model.optimizer.learning_rate) == pytest.approx(2e-3)
    assert int(model.optimizer.iterations) == 2


def test_finder_puts_a_fresh_optimizer_back_to_zero_moments(sample):
    x, y = data.subsample(*sample, 128, seed=0)
    training.set_seed(0)
    model = models.build_baseline()
    model.compile(optimizer=keras.optimizers.SGD(momentum=0.9), loss="categorical_crossentropy")
    weights = [w.copy() for w in model.get_weights()]
    finder = training.LearningRateFinder(min_rate=1e-3, max_rate=1e-1, steps=4)
    model.fit(training.dataset(x, y), epochs=2, callbacks=[finder], verbose=0)
    assert len(finder.losses) == 4
    for old, new in zip(weights, model.get_weights(), strict=True):
        np.testing.assert_array_equal(old, new)
    assert all(not np.any(v.numpy()) for v in model.optimizer.variables if "velocity" in v.path or "momentum" in v.path)
    assert len([v for v in model.optimizer.variables if "momentum" in v.path or "velocity" in v.path]) > 0
    assert int(model.optimizer.iterations) == 0 and float(model.optimizer.learning_rate) == pytest.approx(0.01)
