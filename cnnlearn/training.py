"""Training: seeds, the annealer, and one ``train`` function.

``train`` compiles a model, feeds it a shuffled, batched, prefetched
``tf.data`` pipeline (augmenting each batch on the fly when asked) and
returns Keras's ``History``. With a ``checkpoint_dir`` an interrupted run
resumes where it stopped.
"""

import random
import shutil
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

from cnnlearn import CnnlearnError
from cnnlearn.augment import augmenter
from cnnlearn.data import model_input, one_hot


_deterministic = False  # set_seed turns TensorFlow's op determinism on


def set_seed(seed):
    """Seed Python, NumPy, Keras and TensorFlow, and make TensorFlow's ops deterministic.

    The same seed then gives the same weights, the same shuffles, the same
    augmentations and so the same training history (on the same machine).
    """
    random.seed(seed)
    np.random.seed(seed)
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
    global _deterministic
    _deterministic = True


def annealer(patience=3, factor=0.5, min_lr=1e-5, verbose=0):
    """Halve the learning rate when validation accuracy stops improving.

    A ``ReduceLROnPlateau`` callback that watches ``"val_accuracy"``: after
    ``patience`` epochs without a new best, the learning rate is multiplied
    by ``factor`` (never below ``min_lr``).
    """
    return keras.callbacks.ReduceLROnPlateau(
        monitor="val_accuracy", mode="max", patience=patience, factor=factor, min_lr=min_lr, verbose=verbose
    )


_default_annealer = annealer  # ``train`` has an argument of the same name


class LearningRateLog(keras.callbacks.Callback):
    """Put each epoch's learning rate in the history, as ``"learning_rate"``."""

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))


def dataset(images, labels, batch_size=64, shuffle=False, augment=None, seed=None):
    """A ``tf.data`` pipeline of (images, one-hot labels) batches.

    Shuffled every epoch when ``shuffle``; ``augment`` (a Keras layer) is
    applied to each batch on the fly, in parallel with training.
    """
    data = tf.data.Dataset.from_tensor_slices((images, labels))
    if shuffle:
        data = data.shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
    data = data.batch(batch_size)
    if augment is not None:
        # After set_seed (op determinism), TensorFlow runs random maps one at a
        # time anyway, and logs an error if asked for a parallel one.
        parallel = None if _deterministic else tf.data.AUTOTUNE
        data = data.map(lambda x, y: (augment(x, training=True), y), num_parallel_calls=parallel)
    return data.prefetch(tf.data.AUTOTUNE)


def _resume_history(history_csv, resuming):
    """Earlier epochs' rows when resuming; otherwise start the file afresh."""
    if resuming and history_csv.exists():
        return pd.read_csv(history_csv)
    history_csv.unlink(missing_ok=True)
    return None


def train(model, x_train, y_train, x_val, y_val, epochs=10, batch_size=64, optimizer="rmsprop",
          augment=True, annealer=True, checkpoint_dir=None, strategy=None, seed=None, callbacks=(),
          verbose="auto"):
    """Compile and fit a model; return its ``keras.callbacks.History``.

    Parameters
    ----------
    model : keras.Model, or a function that returns one
        With ``strategy`` give the function: the model must be built inside
        ``strategy.scope()``. The trained model is ``history.model``.
    x_train, x_val : images, uint8 (n, 28, 28) or float32 (n, 28, 28, 1)
        uint8 images are scaled with :func:`cnnlearn.data.prepare`.
    y_train, y_val : labels, int (n,) or one-hot (n, 10)
    epochs, batch_size : int
    optimizer : str or keras.optimizers.Optimizer
        Compiled with categorical crossentropy and accuracy.
    augment : bool or keras layer
        True: :func:`cnnlearn.augment.augmenter` with its defaults;
        a layer: that one; False/None: no augmentation.
    annealer : bool or keras.callbacks.Callback
        True: :func:`annealer` with its defaults; False/None: constant
        learning rate; a callback (e.g. a ``LearningRateScheduler``): that one.
    checkpoint_dir : str or Path, optional
        Keep a backup each epoch (Keras ``BackupAndRestore``) so an
        interrupted run resumes at its last finished epoch when called again
        with the same folder; save the best model (by validation accuracy)
        as ``model.keras`` and every epoch's metrics in ``history.csv`` there.
    strategy : tf.distribute.Strategy, optional
        Train with TensorFlow's distribution engine (several GPUs or workers).
    seed : int, optional
        Seed for the shuffle and the augmentation (see also :func:`set_seed`).
    callbacks : sequence of keras.callbacks.Callback
        Extra callbacks.
    verbose : "auto", 0, 1 or 2
        Keras's per-epoch progress.

    Returns
    -------
    keras.callbacks.History
        ``history.history`` maps "loss", "accuracy", "val_loss",
        "val_accuracy" and "learning_rate" to one value per epoch (all
        epochs, also across an interrupted and resumed run).
    """
    x_train, x_val = model_input(x_train), model_input(x_val)
    y_train = one_hot(y_train) if np.ndim(y_train) == 1 else np.asarray(y_train, dtype=np.float32)
    y_val = one_hot(y_val) if np.ndim(y_val) == 1 else np.asarray(y_val, dtype=np.float32)
    if strategy is not None and isinstance(model, keras.Model):
        raise CnnlearnError("train: with a strategy, pass a function that builds the model (e.g. models.build_cnn)")
    if augment is True:
        augment = augmenter(seed=seed)
    elif augment is False:
        augment = None

    def build_and_compile():
        built = model() if callable(model) and not isinstance(model, keras.Model) else model
        if isinstance(optimizer, str):
            chosen = keras.optimizers.get(optimizer)
        elif strategy is not None:  # its variables must be created inside the strategy's scope
            chosen = optimizer.__class__.from_config(optimizer.get_config())
        else:
            chosen = optimizer
        built.compile(optimizer=chosen, loss="categorical_crossentropy", metrics=["accuracy"])
        return built

    if strategy is not None:
        with strategy.scope():
            model = build_and_compile()
    else:
        model = build_and_compile()

    callbacks = [LearningRateLog(), *callbacks]
    if annealer is True:
        callbacks.append(_default_annealer())
    elif annealer:
        callbacks.append(annealer)

    if checkpoint_dir is not None:
        checkpoint_dir = Path(checkpoint_dir)
        checkpoint_dir.mkdir(parents=True, exist_ok=True)
        backup_dir = checkpoint_dir / "backup"
        resuming = backup_dir.is_dir() and any(backup_dir.iterdir())
        history_csv = checkpoint_dir / "history.csv"
        previous = _resume_history(history_csv, resuming)
        best_so_far = previous["val_accuracy"].max() if previous is not None and len(previous) else None
        callbacks += [
            # Log and save before the backup, so an interruption in between repeats an epoch
            # (the repeated row is dropped below) rather than losing one.
            keras.callbacks.CSVLogger(str(history_csv), append=resuming),
            keras.callbacks.ModelCheckpoint(
                str(checkpoint_dir / "model.keras"), monitor="val_accuracy", mode="max",
                save_best_only=True, initial_value_threshold=best_so_far,
            ),
            keras.callbacks.BackupAndRestore(str(backup_dir)),
        ]

    history = model.fit(
        dataset(x_train, y_train, batch_size, shuffle=True, augment=augment, seed=seed),
        validation_data=dataset(x_val, y_val, batch_size=max(batch_size, 256)),
        epochs=epochs, callbacks=callbacks, verbose=verbose, shuffle=False,  # the dataset shuffles
    )
    if checkpoint_dir is not None and history_csv.exists():
        # The whole run's history, including epochs from before an interruption.
        rows = pd.read_csv(history_csv).drop_duplicates("epoch", keep="last").sort_values("epoch")
        history.epoch = rows["epoch"].astype(int).tolist()
        history.history = {name: rows[name].tolist() for name in rows.columns if name != "epoch"}
        if (checkpoint_dir / "backup").exists() and len(history.epoch) >= epochs:
            shutil.rmtree(checkpoint_dir / "backup", ignore_errors=True)
    return history
