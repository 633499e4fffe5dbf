"""Tests for cnnlearn.training: learning, seeds, the annealer, resuming, strategies.

Every run is tiny (a few hundred digits of the bundled sample, small models,
1-4 epochs) so the file runs in a couple of minutes on a laptop CPU. The
bundled sample comes from the session fixture ``sample`` in conftest.py.
"""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from cnnlearn import CnnlearnError
from cnnlearn import data, models, training

HISTORY_KEYS = {"loss", "accuracy", "val_loss", "val_accuracy", "learning_rate"}
REPO_ROOT = Path(__file__).resolve().parents[1]


def split(sample, n, val_fraction=0.25, seed=0):
    """A stratified subset of n digits, split into training and validation digits."""
    x, y = data.subsample(*sample, n, seed=seed)
    return data.train_val_split(x, y, val_fraction=val_fraction, seed=seed)


def small_cnn(dropout=(0.25, 0.25, 0.5)):
    return models.build_cnn(filters=(8, 16), dense_units=32, dropout=dropout)


def test_tiny_run_learns(sample):
    x_train, y_train, x_val, y_val = split(sample, 800)  # 600 + 200
    assert len(x_train) == 600
    training.set_seed(0)
    history = training.train(models.build_baseline(), x_train, y_train, x_val, y_val, epochs=3, batch_size=32,
                             optimizer="adam", augment=False, seed=0, verbose=0)
    assert set(history.history) == HISTORY_KEYS
    assert history.epoch == [0, 1, 2]
    for name, values in history.history.items():
        assert len(values) == 3, name
        assert all(np.isfinite(values)), name
    assert history.history["val_accuracy"][-1] > 0.5  # chance is 0.1
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert history.history["learning_rate"] == pytest.approx([0.001] * 3)  # Adam's default, no plateau yet
    # the trained model is the one returned with the history
    predictions = history.model.predict(data.prepare(x_val), verbose=0).argmax(axis=1)
    assert np.mean(predictions == y_val) == pytest.approx(history.history["val_accuracy"][-1], abs=1e-6)


def _seeded_run(sample, seed):
    x_train, y_train, x_val, y_val = split(sample, 240)
    training.set_seed(seed)
    model = models.build_baseline()  # with dropout: seeded too
    return training.train(model, x_train, y_train, x_val, y_val, epochs=2, optimizer="adam",
                          augment=True, seed=seed, verbose=0).history


def test_same_seed_same_history(sample):
    first, second = _seeded_run(sample, 0), _seeded_run(sample, 0)
    for name in HISTORY_KEYS:
        assert first[name] == second[name], name  # exactly equal, not just close
    other = _seeded_run(sample, 1)
    assert other["loss"] != first["loss"]


def test_annealer_watches_validation_accuracy():
    callback = training.annealer(patience=2, factor=0.25, min_lr=1e-6)
    assert isinstance(callback, keras.callbacks.ReduceLROnPlateau)
    assert callback.monitor == "val_accuracy"
    assert (callback.patience, callback.factor, callback.min_lr) == (2, 0.25, 1e-6)
    assert callback.mode == "max"  # higher accuracy is better
    assert isinstance(training.annealer(), keras.callbacks.ReduceLROnPlateau)
    assert training.annealer().monitor == "val_accuracy"


def test_annealer_halves_the_learning_rate_on_a_plateau(sample):
    x_train, y_train, x_val, y_val = split(sample, 300, val_fraction=1 / 3)
    # one-hot labels and float images are accepted too
    x_train, x_val = data.prepare(x_train), data.prepare(x_val)
    y_train, y_val = data.one_hot(y_train), data.one_hot(y_val)
    training.set_seed(0)
    history = training.train(
        models.build_baseline(), x_train, y_train, x_val, y_val, epochs=4,
        optimizer=keras.optimizers.Adam(learning_rate=1e-9),  # too small to move val_accuracy
        augment=False, annealer=training.annealer(patience=1, factor=0.5, min_lr=1e-12), seed=0, verbose=0,
    ).history
    rates = history["learning_rate"]
    assert len(rates) == 4
    assert rates[0] == pytest.approx(1e-9)
    assert all(later <= earlier for earlier, later in zip(rates, rates[1:]))
    assert min(rates) < rates[0]
    # each drop is by the factor 0.5
    for earlier, later in zip(rates, rates[1:]):
        if later < earlier:
            assert later == pytest.approx(earlier * 0.5, rel=1e-5)


class Interrupted(Exception):
    """Stands in for Ctrl-C or a killed job."""


class InterruptAt(keras.callbacks.Callback):
    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        # At the start of an epoch the backup of the previous one is written
        # (BackupAndRestore runs after user callbacks at epoch end).
        if epoch == self.epoch:
            raise Interrupted(f"interrupted at the start of epoch {epoch}")


def test_interrupted_run_resumes(sample, tmp_path):
    x_train, y_train, x_val, y_val = split(sample, 400)

    def run(extra_callbacks=()):
        return training.train(models.build_baseline(), x_train, y_train, x_val, y_val, epochs=4, optimizer="adam",
                              augment=False, checkpoint_dir=tmp_path, seed=0, callbacks=extra_callbacks,
                              annealer=training.annealer(patience=1, factor=0.5, min_lr=1e-12), verbose=0)

    training.set_seed(0)
    with pytest.raises(Interrupted):
        run([InterruptAt(2)])
    assert (tmp_path / "backup").is_dir() and any((tmp_path / "backup").iterdir())
    before = pd.read_csv(tmp_path / "history.csv")
    assert before["epoch"].tolist() == [0, 1]

    history = run()  # a fresh model, the same folder
    assert history.epoch == [0, 1, 2, 3]
    assert set(history.history) == HISTORY_KEYS
    for name, values in history.history.items():
        assert len(values) == 4, name
    # the first two epochs are the interrupted run's, not re-run
    assert history.history["loss"][:2] == before["loss"].tolist()
    # training went on from the restored weights, not from scratch
    assert history.history["loss"][2] < history.history["loss"][0]
    assert (tmp_path / "model.keras").is_file()
    rows = pd.read_csv(tmp_path / "history.csv")
    assert rows["epoch"].tolist() == [0, 1, 2, 3]
    assert not (tmp_path / "backup").exists()
    # the best model saved is a real, loadable model
    best = keras.saving.load_model(tmp_path / "model.keras")
    assert best.output_shape == (None, 10)


def test_cosine_decay_follows_half_a_cosine_also_across_a_resume(sample, tmp_path):
    from cnnlearn.recipes import CosineDecay

    x_train, y_train, x_val, y_val = split(sample, 80, val_fraction=0.2)  # 64 training digits: 4 batches of 16
    rates = []

    class Record(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            rates.append(float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate)))

    def run(extra_callbacks=()):
        return training.train(models.build_baseline(), x_train, y_train, x_val, y_val, epochs=3, batch_size=16,
                              optimizer=keras.optimizers.Adam(), augment=False, annealer=CosineDecay(4e-3),
                              checkpoint_dir=tmp_path, callbacks=[Record(), *extra_callbacks], verbose=0)

    def cosine(steps):  # half a cosine over the run's 12 batches
        return 4e-3 * (1 + np.cos(np.pi * np.asarray(steps) / 12)) / 2

    with pytest.raises(Interrupted):
        run([InterruptAt(2)])
    np.testing.assert_allclose(rates, cosine(range(8)), rtol=1e-5)  # the first two epochs
    rates.clear()
    run()
    np.testing.assert_allclose(rates, cosine(range(8, 12)), rtol=1e-5)  # the third, after the resume


def test_interrupt_while_saving_the_model_loses_no_epoch(sample, tmp_path, monkeypatch):
    x_train, y_train, x_val, y_val = split(sample, 160)
    save = keras.callbacks.ModelCheckpoint.on_epoch_end

    def interrupted_save(self, epoch, logs=None):
        if epoch == 1:
            raise Interrupted("Ctrl-C while saving model.keras")
        return save(self, epoch, logs)

    def run():
        return training.train(models.build_baseline(), x_train, y_train, x_val, y_val, epochs=4, optimizer="adam",
                              augment=False, checkpoint_dir=tmp_path, verbose=0)

    training.set_seed(0)
    with monkeypatch.context() as patch:
        patch.setattr(keras.callbacks.ModelCheckpoint, "on_epoch_end", interrupted_save)
        with pytest.raises(Interrupted):
            run()
    history = run()
    assert history.epoch == [0, 1, 2, 3]
    assert all(len(values) == 4 for values in history.history.values())


def test_checkpoint_dir_without_interruption(sample, tmp_path):
    x_train, y_train, x_val, y_val = split(sample, 200)
    checkpoints = tmp_path / "new" / "folder"
    history = training.train(models.build_baseline(), x_train, y_train, x_val, y_val, epochs=2,
                             optimizer=keras.optimizers.SGD(learning_rate=0.0), augment=False, annealer=False,
                             checkpoint_dir=checkpoints, verbose=0)
    assert history.epoch == [0, 1]
    # no annealer: the learning rate stays put; SGD at rate 0 learns nothing
    assert history.history["learning_rate"] == [0.0, 0.0]
    assert history.history["val_accuracy"][0] == history.history["val_accuracy"][1]
    assert pd.read_csv(checkpoints / "history.csv")["epoch"].tolist() == [0, 1]
    assert (checkpoints / "model.keras").is_file()
    assert not (checkpoints / "backup").exists()
    # a second, complete run in the same folder starts afresh: its history is not appended to the first
    again = training.train(models.build_baseline(), x_train, y_train, x_val, y_val, epochs=1, optimizer="adam",
                           augment=False, checkpoint_dir=checkpoints, verbose=0)
    assert again.epoch == [0]
    assert pd.read_csv(checkpoints / "history.csv")["epoch"].tolist() == [0]


def test_strategy_needs_a_builder(sample):
    x_train, y_train, x_val, y_val = split(sample, 100)
    strategy = tf.distribute.OneDeviceStrategy("/cpu:0")
    with pytest.raises(CnnlearnError, match="function"):
        training.train(models.build_baseline(), x_train, y_train, x_val, y_val, epochs=1, strategy=strategy,
                       verbose=0)


def test_strategy_with_an_optimizer_instance(sample):
    x_train, y_train, x_val, y_val = split(sample, 100)
    strategy = tf.distribute.OneDeviceStrategy("/cpu:0")
    history = training.train(lambda: small_cnn(dropout=(0, 0, 0)), x_train, y_train, x_val, y_val, epochs=1,
                             optimizer=keras.optimizers.Adam(1e-3), augment=False, strategy=strategy, verbose=0)
    assert history.epoch == [0]


# --------------------------------------------------------------------------
# MirroredStrategy on two logical CPUs, in a fresh process
# --------------------------------------------------------------------------

MIRRORED_SCRIPT = textwrap.dedent("""
    import json

    import cnnlearn  # quiets TensorFlow's start-up
    import tensorflow as tf

    # Logical devices must be set before TensorFlow initialises its devices.
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

    from cnnlearn import data, models, training

    images, labels = data.load_sample()
    x, y = data.subsample(images, labels, 320, seed=0)
    x_train, y_train, x_val, y_val = data.train_val_split(x, y, val_fraction=0.2, seed=0)  # 256 + 64


    def build():  # no dropout and no augmentation: nothing random differs between replicas
        return models.build_cnn(filters=(8, 16), dense_units=32, dropout=(0, 0, 0))


    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    out = {"replicas": strategy.num_replicas_in_sync, "n_train": len(x_train)}
    # minibatch: 8 steps of 32 digits an epoch; fullbatch: one step of all 256 digits an epoch.
    for run, batch_size, epochs in (("minibatch", 32, 2), ("fullbatch", len(x_train), 2)):
        for name, s in (("mirrored", strategy), ("single", None)):
            training.set_seed(0)
            history = training.train(build, x_train, y_train, x_val, y_val, epochs=epochs, batch_size=batch_size,
                                     optimizer="adam", augment=False, annealer=False, strategy=s, seed=0,
                                     verbose=0)
            out[f"{run}_{name}"] = {"loss": history.history["loss"], "val_loss": history.history["val_loss"]}
    print("RESULT " + json.dumps(out))
""")


@pytest.fixture(scope="module", autouse=True)
def mirrored_process(request):
    """Start the two-replica script at the start of this module, so it runs while the other tests do.

    Only when a MirroredStrategy test was selected.
    """
    wanted = any(item.module is request.module and "mirrored" in item.name for item in request.session.items)
    process = None
    if wanted:
        process = subprocess.Popen([sys.executable, "-c", MIRRORED_SCRIPT], stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True, cwd=REPO_ROOT)
    yield process
    if process is not None and process.poll() is None:
        process.kill()
        process.communicate()


@pytest.fixture(scope="module")
def mirrored_runs(mirrored_process):
    assert mirrored_process is not None
    try:
        stdout, stderr = mirrored_process.communicate(timeout=240)
    except subprocess.TimeoutExpired:
        mirrored_process.kill()
        stdout, stderr = mirrored_process.communicate()
        pytest.fail(f"the MirroredStrategy script ran over 240 s:\n{stderr[-3000:]}")
    assert mirrored_process.returncode == 0, stderr[-3000:]
    lines = [line for line in stdout.splitlines() if line.startswith("RESULT ")]
    assert lines, stdout[-3000:] + stderr[-3000:]
    return json.loads(lines[-1][len("RESULT "):])


def test_mirrored_strategy_trains_on_two_replicas(mirrored_runs):
    assert mirrored_runs["replicas"] == 2
    for run in ("minibatch", "fullbatch"):
        for name in ("mirrored", "single"):
            loss = mirrored_runs[f"{run}_{name}"]["loss"]
            assert all(np.isfinite(loss))
            assert loss[-1] < loss[0], f"{run} {name} did not learn: {loss}"


def test_mirrored_strategy_full_batch_equals_one_device(mirrored_runs):
    # One batch per epoch: the shuffle only reorders digits inside the batch, so
    # the gradient (the mean over the 256 digits, split 128 + 128 between the
    # replicas and summed) is the single-device gradient up to float32 rounding.
    for key in ("loss", "val_loss"):
        np.testing.assert_allclose(mirrored_runs["fullbatch_mirrored"][key], mirrored_runs["fullbatch_single"][key],
                                   rtol=1e-4)


def test_mirrored_strategy_minibatch_close_to_one_device(mirrored_runs):
    # With several batches an epoch the two runs see the digits in different
    # orders: the distributed input pipeline draws a different sequence of
    # seeded reshuffles than the single-device one (with shuffling off the two
    # agree to ~1e-7). So the losses are close, not equal.
    mirrored, single = mirrored_runs["minibatch_mirrored"], mirrored_runs["minibatch_single"]
    np.testing.assert_allclose(mirrored["loss"][-1], single["loss"][-1], rtol=0.05)
    np.testing.assert_allclose(mirrored["val_loss"][-1], single["val_loss"][-1], rtol=0.05)
