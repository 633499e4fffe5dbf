"""Run folders for ``cnnlearn train``: one run per folder, resumable, never half-written.

A run folder holds ``run.json`` (what the run is: recipe, seed, epochs, data
fingerprint...; ``"finished"`` once everything is written), ``history.csv``
(one row per finished epoch), ``model.keras`` (the best epoch by validation
accuracy) and, while unfinished, ``backup/`` (weights, optimizer and random
state), so Ctrl-C or a killed job resumes at the last finished epoch and goes
on as if never stopped. Every file is written to a temporary name, then renamed.
Notebooks call ``fit`` themselves.
"""

import contextlib
import json
import math
import os
import shutil
from pathlib import Path

import keras
import numpy as np
import pandas as pd

from cnnlearn import CnnlearnError, training
from cnnlearn.data import model_input, one_hot
from cnnlearn.kaggle import write_atomically


def _open_locked(path):
    """``path`` opened and flock-ed by this process alone; None if it was unlinked or replaced meanwhile.

    Raise, naming the holder's pid, if another process holds it.
    """
    import fcntl

    f = open(path, "a+")
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        f.seek(0)
        holder = f.read().strip() or "?"
        f.close()
        raise CnnlearnError(f"{path.parent}: another cnnlearn process (pid {holder}) is training into this run "
                            "folder; wait for it, or choose another --out") from None
    try:
        current = os.stat(path)
    except FileNotFoundError:
        current = None
    opened = os.fstat(f.fileno())
    if current is None or (current.st_dev, current.st_ino) != (opened.st_dev, opened.st_ino):
        f.close()  # the holder before us removed this file as it let go: lock the one there now
        return None
    return f


@contextlib.contextmanager
def lock(folder):
    """Hold ``folder/.lock`` for one process; refuse at once, naming the holder, if another has it.

    The file holds the holder's pid while it is held, and is removed on release (while still
    locked), so a finished run folder keeps no stale pid. A process that locked a file just
    removed sees that the path no longer names it, and locks the new one instead: two processes
    never hold the lock at once.
    """
    path = Path(folder) / ".lock"
    f = None
    while f is None:
        f = _open_locked(path)
    try:
        f.truncate(0)
        f.write(str(os.getpid()))
        f.flush()
        yield
    finally:
        with contextlib.suppress(OSError):  # a folder made read-only meanwhile keeps its .lock
            path.unlink()
        f.close()


def check_folder(folder, manifest, restart=False):
    """What to do with ``folder`` for a run described by ``manifest``: "new", "resume" or "finished".

    A folder of another run (a different recipe, seed, data...) is refused, naming what differs,
    unless ``restart``, which deletes that run's files first.
    """
    folder = Path(folder)
    path = folder / "run.json"
    if restart:
        for name in ("run.json", "history.csv", "model.keras", "metrics.json", "curves.png", "confusion.png",
                     "errors.png", "submission.csv"):
            (folder / name).unlink(missing_ok=True)
        shutil.rmtree(folder / "backup", ignore_errors=True)
    if not path.exists():
        if any(p.name != ".lock" for p in folder.iterdir()):
            raise CnnlearnError(f"--out {folder}: the folder holds files that are not a cnnlearn run; "
                                "choose an empty or new folder")
        return "new"
    try:
        old = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise CnnlearnError(f"{path}: cannot read this run's record ({e}); choose another --out") from None
    differ = [f"{key} {old.get(key)!r} -> {value!r}" for key, value in manifest.items() if old.get(key) != value]
    if differ:
        raise CnnlearnError(f"--out {folder}: holds another run ({'; '.join(differ)}). Choose a new --out, or "
                            "add --restart to delete that run and start this one there")
    return "finished" if old.get("finished") else "resume"


def fingerprint(images, labels):
    """A short hash of the training digits and labels: runs on other data are told apart."""
    import hashlib

    digest = hashlib.sha256(np.ascontiguousarray(images).tobytes())
    digest.update(np.ascontiguousarray(labels).tobytes())
    return digest.hexdigest()[:16]


class _History(keras.callbacks.Callback):
    """Write the whole run's history to history.csv after each epoch (atomically, no repeated rows)."""

    def __init__(self, path, rows):
        super().__init__()
        self.path, self.rows = path, rows

    def on_epoch_end(self, epoch, logs=None):
        self.rows = [row for row in self.rows if row["epoch"] < epoch] + [{"epoch": epoch, **logs}]
        write_atomically(self.path, lambda p: pd.DataFrame(self.rows).to_csv(p, index=False))


class _BestModel(keras.callbacks.Callback):
    """Save the model to ``path`` (atomically) whenever validation accuracy beats ``best``."""

    def __init__(self, path, best):
        super().__init__()
        self.path, self.best = path, best

    def on_epoch_end(self, epoch, logs=None):
        if logs["val_accuracy"] > self.best:
            self.best = logs["val_accuracy"]
            write_atomically(self.path, self.model.save)


class _RandomState(keras.callbacks.Callback):
    """Back up what Keras's backup leaves out: the model's random state (dropout, augmentation) and
    the plateau callbacks' counters, so a resumed run draws what an uninterrupted one would."""

    def __init__(self, folder, callbacks):
        super().__init__()
        self.folder, self.callbacks, self.restored = Path(folder), callbacks, False

    def _variables(self):
        weights = {id(v) for v in self.model.weights}
        return [v for v in self.model.variables if id(v) not in weights]

    def _plateaus(self):
        return [c for c in self.callbacks if isinstance(c, keras.callbacks.ReduceLROnPlateau)]

    def on_epoch_begin(self, epoch, logs=None):
        path = self.folder / f"random_state_{epoch - 1}.npz"
        if not self.restored and path.exists():
            saved = np.load(path)
            for i, v in enumerate(self._variables()):
                v.assign(saved[f"v{i}"])
            for i, c in enumerate(self._plateaus()):
                c.wait, c.best, c.cooldown_counter = saved[f"p{i}"].tolist()
        self.restored = True

    def on_epoch_end(self, epoch, logs=None):
        self.folder.mkdir(exist_ok=True)
        state = {f"v{i}": keras.ops.convert_to_numpy(v) for i, v in enumerate(self._variables())}
        state.update({f"p{i}": np.array([c.wait, c.best, c.cooldown_counter], dtype=np.float64)
                      for i, c in enumerate(self._plateaus())})
        write_atomically(self.folder / f"random_state_{epoch}.npz", lambda p: np.savez(p, **state))
        (self.folder / f"random_state_{epoch - 1}.npz").unlink(missing_ok=True)


def _batches(images, labels, batch_size, seed, first, last):
    """Training batches for epochs ``first`` to ``last - 1``, each epoch in an order fixed by (seed, epoch)."""
    import tensorflow as tf

    images = tf.convert_to_tensor(model_input(images))
    labels = tf.convert_to_tensor(one_hot(labels) if np.ndim(labels) == 1 else np.asarray(labels, np.float32))
    epochs = range(first, max(last, first + 1))  # at least one: a run killed after its last epoch trains none
    orders = np.stack([np.random.default_rng([seed or 0, e]).permutation(len(images)) for e in epochs])
    data = tf.data.Dataset.from_tensor_slices(orders).flat_map(
        lambda order: tf.data.Dataset.from_tensor_slices(order).batch(batch_size))
    return data.map(lambda i: (tf.gather(images, i), tf.gather(labels, i))).prefetch(tf.data.AUTOTUNE)


def fit(recipe, x_train, y_train, x_val, y_val, out, epochs=None, batch_size=None, augment=None, seed=None,
        strategy=None, callbacks=(), verbose=2):
    """Train a fresh model of ``recipe`` into the run folder ``out``, resuming an unfinished run there.

    Parameters
    ----------
    recipe : cnnlearn.recipes.Recipe
    x_train, y_train, x_val, y_val : images and labels, as :func:`cnnlearn.training.dataset` takes them
    out : str or Path, optional
        The run folder, made if missing; None trains without one (nothing written).
    epochs, batch_size, augment : optional
        Default: the recipe's. ``augment=True`` puts :func:`cnnlearn.augment.augmenter`'s layers first in
        the model (active only in training), so their random state is backed up with the model's.
    seed : int, optional
        Seed of the shuffle (epoch ``e``'s order is fixed by ``(seed, e)``) and of the augmentation;
        call :func:`cnnlearn.training.set_seed` too.
    strategy : tf.distribute.Strategy, optional
        Model and optimizer are built in its scope.
    callbacks : extra keras callbacks
    verbose : 0, 1 or 2

    Returns
    -------
    model : keras.Model, as trained to the last epoch
    history : pandas.DataFrame, one row per epoch of the whole run ("epoch" from 0, "loss", "accuracy",
        "val_loss", "val_accuracy", "learning_rate")
    """
    epochs = epochs or recipe.epochs
    batch_size = batch_size or recipe.batch_size
    steps = math.ceil(len(x_train) / batch_size)
    with strategy.scope() if strategy is not None else contextlib.nullcontext():
        model, recipe_callbacks = recipe.compile(epochs * steps, augment=recipe.augment if augment is None else augment,
                                                 seed=seed)
    callbacks = [*recipe_callbacks, training.LearningRateLog(), *callbacks]
    resumed_at = 0
    if out is not None:
        out, backup = Path(out), Path(out) / "backup"
        out.mkdir(parents=True, exist_ok=True)
        for stale in out.glob(".*.partial*"):  # left by a process killed while writing
            stale.unlink()
        if (backup / "training_metadata.json").exists():
            resumed_at = json.loads((backup / "training_metadata.json").read_text())["epoch"]
        rows = pd.read_csv(out / "history.csv").to_dict("records") if resumed_at else []
        rows = [row for row in rows if row["epoch"] < resumed_at]
        callbacks += [
            _History(out / "history.csv", rows),
            _BestModel(out / "model.keras", max([row["val_accuracy"] for row in rows], default=-np.inf)),
            _RandomState(backup, recipe_callbacks),
            keras.callbacks.BackupAndRestore(str(backup), double_checkpoint=True),
        ]
    fitted = model.fit(_batches(x_train, y_train, batch_size, seed, resumed_at, epochs), steps_per_epoch=steps,
                       validation_data=training.dataset(x_val, y_val, batch_size=max(batch_size, 256)),
                       epochs=epochs, callbacks=callbacks, verbose=verbose)
    if out is None:
        return model, pd.DataFrame({"epoch": fitted.epoch, **fitted.history})
    shutil.rmtree(backup, ignore_errors=True)
    return model, pd.read_csv(out / "history.csv")
