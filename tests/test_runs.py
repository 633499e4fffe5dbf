"""Tests for cnnlearn.runs: the command line's run folders, resuming, strategies.

Each run is tiny: a few hundred digits of the bundled sample, keras-io's small
convnet, 1-4 epochs.
"""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from cnnlearn import data, models, runs, training
from cnnlearn.recipes import Recipe

HISTORY_COLUMNS = {"epoch", "loss", "accuracy", "val_loss", "val_accuracy", "learning_rate"}
REPO_ROOT = Path(__file__).resolve().parents[1]


def split(sample, n, val_fraction=0.25, seed=0):
    x, y = data.subsample(*sample, n, seed=seed)
    return data.train_val_split(x, y, val_fraction=val_fraction, seed=seed)


def tiny(optimizer=lambda steps: "adam", callbacks=list, epochs=4, batch_size=64):
    """A recipe of keras-io's convnet, without augmentation."""
    return Recipe("tiny", lambda steps: (models.build_baseline(), optimizer(steps), callbacks()), epochs, batch_size,
                  augment=False)


class Interrupted(Exception):
    """Stands in for Ctrl-C or a killed job."""


class InterruptAt(keras.callbacks.Callback):
    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        # At the start of an epoch the backup of the previous one is written.
        if epoch == self.epoch:
            raise Interrupted(f"interrupted at the start of epoch {epoch}")


def test_without_a_folder_nothing_is_written(sample, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    x_train, y_train, x_val, y_val = split(sample, 200)
    model, history = runs.fit(tiny(epochs=2), x_train, y_train, x_val, y_val, out=None, verbose=0)
    assert set(history.columns) == HISTORY_COLUMNS
    assert history["epoch"].tolist() == [0, 1]
    assert model.output_shape == (None, 10)
    assert list(tmp_path.iterdir()) == []


def test_interrupted_run_resumes(sample, tmp_path):
    x_train, y_train, x_val, y_val = split(sample, 400)
    recipe = tiny(callbacks=lambda: [training.annealer(patience=1, factor=0.5, min_lr=1e-12)])

    def run(extra_callbacks=()):
        return runs.fit(recipe, x_train, y_train, x_val, y_val, tmp_path, seed=0, callbacks=extra_callbacks,
                        verbose=0)

    training.set_seed(0)
    with pytest.raises(Interrupted):
        run([InterruptAt(2)])
    assert (tmp_path / "backup").is_dir() and any((tmp_path / "backup").iterdir())
    before = pd.read_csv(tmp_path / "history.csv")
    assert before["epoch"].tolist() == [0, 1]

    _, history = run()  # a fresh model, the same folder
    assert history["epoch"].tolist() == [0, 1, 2, 3]
    assert set(history.columns) == HISTORY_COLUMNS
    # the first two epochs are the interrupted run's, not re-run
    assert history["loss"][:2].tolist() == before["loss"].tolist()
    # training went on from the restored weights, not from scratch
    assert history["loss"][2] < history["loss"][0]
    assert pd.read_csv(tmp_path / "history.csv")["epoch"].tolist() == [0, 1, 2, 3]
    assert not (tmp_path / "backup").exists()
    best = keras.saving.load_model(tmp_path / "model.keras")  # a real, loadable model
    assert best.output_shape == (None, 10)


def test_cosine_schedule_continues_its_curve_across_a_resume(sample, tmp_path):
    x_train, y_train, x_val, y_val = split(sample, 80, val_fraction=0.2)  # 64 training digits: 4 batches of 16
    rates = []

    class Record(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            rates.append(float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate)))

    cosine = tiny(optimizer=lambda steps: keras.optimizers.Adam(
        keras.optimizers.schedules.CosineDecay(4e-3, decay_steps=steps)), epochs=3, batch_size=16)

    def run(extra_callbacks=()):
        return runs.fit(cosine, x_train, y_train, x_val, y_val, tmp_path, callbacks=[Record(), *extra_callbacks],
                        verbose=0)

    def half_cosine(steps):  # over the run's 12 batches
        return 4e-3 * (1 + np.cos(np.pi * np.asarray(steps) / 12)) / 2

    with pytest.raises(Interrupted):
        run([InterruptAt(2)])
    np.testing.assert_allclose(rates, half_cosine(range(8)), rtol=1e-5)  # the first two epochs
    rates.clear()
    run()
    np.testing.assert_allclose(rates, half_cosine(range(8, 12)), rtol=1e-5)  # the third, after the resume


def test_interrupt_while_saving_the_model_loses_no_epoch_and_no_file(sample, tmp_path, monkeypatch):
    x_train, y_train, x_val, y_val = split(sample, 160)
    save = keras.Model.save

    def killed_while_saving(self, path, *args, **kwargs):
        save(self, path, *args, **kwargs)
        Path(path).write_bytes(b"half a zip")  # the save got this far
        raise Interrupted("Ctrl-C while saving model.keras")

    training.set_seed(0)
    runs.fit(tiny(epochs=1), x_train, y_train, x_val, y_val, tmp_path, verbose=0)
    first_model = (tmp_path / "model.keras").read_bytes()
    with monkeypatch.context() as patch:
        patch.setattr(keras.Model, "save", killed_while_saving)
        with pytest.raises(Interrupted):
            runs.fit(tiny(), x_train, y_train, x_val, y_val, tmp_path, verbose=0)
    assert (tmp_path / "model.keras").read_bytes() == first_model  # the model saved before, untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["history.csv", "model.keras"]  # nothing half-written
    _, history = runs.fit(tiny(), x_train, y_train, x_val, y_val, tmp_path, verbose=0)
    assert history["epoch"].tolist() == [0, 1, 2, 3]
    assert history.notna().all().all()


def test_a_resumed_run_has_the_history_of_an_uninterrupted_one(sample, tmp_path):
    """Shuffles, dropout, augmentation and the annealer's counters all continue where they stopped."""
    x_train, y_train, x_val, y_val = split(sample, 320)
    recipe = Recipe("random", lambda steps: (models.build_cnn(filters=(8, 16), dense_units=32),
                                             keras.optimizers.RMSprop(1e-3), [training.annealer(patience=1)]),
                    epochs=4, batch_size=32, augment=True)

    def run(folder, extra_callbacks=()):
        training.set_seed(0)
        return runs.fit(recipe, x_train, y_train, x_val, y_val, folder, seed=0, callbacks=extra_callbacks,
                        verbose=0)[1]

    uninterrupted = run(tmp_path / "a")
    with pytest.raises(Interrupted):
        run(tmp_path / "b", [InterruptAt(2)])
    resumed = run(tmp_path / "b")
    pd.testing.assert_frame_equal(resumed, uninterrupted, rtol=1e-5)
    assert pd.read_csv(tmp_path / "b" / "history.csv")["epoch"].tolist() == [0, 1, 2, 3]  # no repeated row


def test_a_finished_folder_without_interruption(sample, tmp_path):
    x_train, y_train, x_val, y_val = split(sample, 200)
    folder = tmp_path / "new" / "folder"
    frozen = tiny(optimizer=lambda steps: keras.optimizers.SGD(learning_rate=0.0), epochs=2)
    _, history = runs.fit(frozen, x_train, y_train, x_val, y_val, folder, verbose=0)
    assert history["epoch"].tolist() == [0, 1]
    assert history["learning_rate"].tolist() == [0.0, 0.0]  # no schedule: the rate stays put
    assert history["val_accuracy"][0] == history["val_accuracy"][1]  # SGD at rate 0 learns nothing
    assert sorted(p.name for p in folder.iterdir()) == ["history.csv", "model.keras"]
    # a second, complete run in the same folder starts afresh: its history is not appended to the first
    _, again = runs.fit(tiny(epochs=1), x_train, y_train, x_val, y_val, folder, verbose=0)
    assert again["epoch"].tolist() == [0]
    assert pd.read_csv(folder / "history.csv")["epoch"].tolist() == [0]


def test_a_strategy_builds_the_model_and_optimizer_in_its_scope(sample):
    x_train, y_train, x_val, y_val = split(sample, 100)
    strategy = tf.distribute.OneDeviceStrategy("/cpu:0")
    model, history = runs.fit(tiny(optimizer=lambda steps: keras.optimizers.Adam(1e-3), epochs=1),
                              x_train, y_train, x_val, y_val, out=None, strategy=strategy, verbose=0)
    assert history["epoch"].tolist() == [0]
    assert model.distribute_strategy is strategy


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

    from cnnlearn import data, models, runs, training
    from cnnlearn.recipes import Recipe

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
            recipe = Recipe("small", lambda steps: (build(), "adam", []), epochs, batch_size, augment=False)
            _, history = runs.fit(recipe, x_train, y_train, x_val, y_val, out=None, strategy=s, seed=0, verbose=0)
            out[f"{run}_{name}"] = {"loss": history["loss"].tolist(), "val_loss": history["val_loss"].tolist()}
    print("RESULT " + json.dumps(out))
""")

# The command line's flag, in a process of its own (two MirroredStrategy objects in one
# process can mix up their collective ops): all local devices, here two logical CPUs.
CLI_SCRIPT = textwrap.dedent("""
    import sys

    import cnnlearn
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    from cnnlearn import cli

    sys.exit(cli.main(["train", "--demo", "--fast", "--epochs", "1", "--recipe", "baseline", "--mirrored",
                       "--verbose", "0", "--out", sys.argv[1]]))
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


def test_cli_trains_under_mirrored_strategy_on_all_local_devices(tmp_path):
    result = subprocess.run([sys.executable, "-c", CLI_SCRIPT, str(tmp_path / "run")], capture_output=True,
                            text=True, cwd=REPO_ROOT, timeout=240)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "MirroredStrategy on 2 device(s)" in result.stdout
    assert "Validation accuracy" in result.stdout
    assert (tmp_path / "run" / "model.keras").is_file()


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


def test_a_run_killed_after_its_last_epoch_finishes_without_training_again(sample, tmp_path, monkeypatch):
    x_train, y_train, x_val, y_val = split(sample, 200)
    def killed(self, logs=None):
        raise Interrupted("killed once the last epoch is backed up, before Keras cleans up")

    with monkeypatch.context() as patch:
        patch.setattr(keras.callbacks.BackupAndRestore, "on_train_end", killed)
        with pytest.raises(Interrupted):
            runs.fit(tiny(epochs=2), x_train, y_train, x_val, y_val, tmp_path, verbose=0)
    before = pd.read_csv(tmp_path / "history.csv")
    _, history = runs.fit(tiny(epochs=2), x_train, y_train, x_val, y_val, tmp_path, verbose=0)
    pd.testing.assert_frame_equal(history, before)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["history.csv", "model.keras"]


# --- the run folder's lock ---

def test_the_lock_holds_the_pid_and_is_removed_on_release(tmp_path):
    with runs.lock(tmp_path):
        assert (tmp_path / ".lock").read_text() == str(os.getpid())
        with pytest.raises(runs.CnnlearnError, match=f"pid {os.getpid()}"):
            with runs.lock(tmp_path):
                pass
    assert not (tmp_path / ".lock").exists(), "a released lock leaves no stale pid behind"
    with runs.lock(tmp_path):  # and it can be taken again
        pass


def test_a_lock_file_removed_by_its_last_holder_is_not_held(tmp_path, monkeypatch):
    """A process that opened .lock just before its holder removed it, and then flock-ed that
    removed file, must not count as holding the lock: it locks the file now at that path."""
    import builtins

    path = tmp_path / ".lock"
    with runs.lock(tmp_path):
        stale = builtins.open(path, "a+")  # opened while held; released and removed below
    opens = []

    def open_stale_first(name, mode="r", *args, **kwargs):
        opens.append(name)
        return stale if len(opens) == 1 else builtins.open(name, mode, *args, **kwargs)

    monkeypatch.setattr(runs, "open", open_stale_first, raising=False)
    with runs.lock(tmp_path):
        assert len(opens) == 2 and path.read_text() == str(os.getpid())
    assert stale.closed and not path.exists()


def test_threads_taking_the_lock_in_turn_never_hold_it_together(tmp_path):
    import threading

    holders, most, taken = [0], [0], [0]
    guard = threading.Lock()

    def worker():
        for _ in range(200):
            try:
                with runs.lock(tmp_path):
                    with guard:
                        holders[0] += 1
                        most[0] = max(most[0], holders[0])
                        taken[0] += 1
                    with guard:
                        holders[0] -= 1
            except runs.CnnlearnError:
                pass  # held by another thread: refused at once, as it should be

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert most[0] == 1 and taken[0] > 0
    assert not (tmp_path / ".lock").exists()
