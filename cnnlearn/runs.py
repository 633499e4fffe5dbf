"""Run folders for ``cnnlearn train``: checkpoints, resuming, the whole history.

A run folder holds, while and after a recipe trains into it:

- ``backup/``: Keras's ``BackupAndRestore`` state, kept only while the run is
  unfinished, so that Ctrl-C or a killed job resumes at the last finished
  epoch when the same folder is trained into again;
- ``history.csv``: one row per finished epoch, across interruptions;
- ``model.keras``: the epoch with the best validation accuracy.

Notebooks do not use this module: they call ``model.fit`` themselves.
"""

import contextlib
import math
import shutil
from pathlib import Path

import keras
import pandas as pd

from cnnlearn import training
from cnnlearn.augment import augmenter


def fit(recipe, x_train, y_train, x_val, y_val, out, epochs=None, batch_size=None, augment=None, seed=None,
        strategy=None, callbacks=(), verbose=2):
    """Train a fresh model of ``recipe`` into the run folder ``out``, resuming an unfinished run there.

    Parameters
    ----------
    recipe : cnnlearn.recipes.Recipe
    x_train, x_val : uint8 (n, 28, 28) or float32 (n, 28, 28, 1)
    y_train, y_val : int (n,) or one-hot (n, 10)
    out : str or Path, optional
        The run folder; made if missing. None: train without one (no
        checkpoints, nothing written).
    epochs, batch_size : int, optional
        Default: the recipe's.
    augment : bool, optional
        Default: the recipe's. True augments with :func:`cnnlearn.augment.augmenter`.
    seed : int, optional
        Seed of the shuffle and the augmentation (call :func:`cnnlearn.training.set_seed` too).
    strategy : tf.distribute.Strategy, optional
        The model and its optimizer are built in its scope, e.g. ``tf.distribute.MirroredStrategy()``.
    callbacks : sequence of keras.callbacks.Callback
        Extra callbacks.
    verbose : 0, 1 or 2
        Keras's progress output.

    Returns
    -------
    model : keras.Model
        The model as trained to the last epoch (``out/model.keras`` holds the best epoch).
    history : pandas.DataFrame
        One row per epoch of the whole run: "epoch" (from 0), "loss", "accuracy",
        "val_loss", "val_accuracy", "learning_rate".
    """
    epochs = epochs or recipe.epochs
    batch_size = batch_size or recipe.batch_size
    augment = recipe.augment if augment is None else augment
    callbacks = [training.LearningRateLog(), *callbacks]
    best_so_far = None
    if out is not None:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        backup, history_csv = out / "backup", out / "history.csv"
        resuming = backup.is_dir() and any(backup.iterdir())
        if not resuming:
            history_csv.unlink(missing_ok=True)
        if history_csv.exists():
            best_so_far = pd.read_csv(history_csv)["val_accuracy"].max()
        callbacks += [
            # Log and save before the backup, so an interruption in between repeats an epoch
            # (the repeated row is dropped below) rather than losing one.
            keras.callbacks.CSVLogger(str(history_csv), append=resuming),
            keras.callbacks.ModelCheckpoint(str(out / "model.keras"), monitor="val_accuracy", mode="max",
                                            save_best_only=True, initial_value_threshold=best_so_far),
            keras.callbacks.BackupAndRestore(str(backup)),
        ]

    with strategy.scope() if strategy is not None else contextlib.nullcontext():
        model, recipe_callbacks = recipe.compile(steps=epochs * math.ceil(len(x_train) / batch_size))
    fitted = model.fit(
        training.dataset(x_train, y_train, batch_size, shuffle=True,
                         augment=augmenter(seed=seed) if augment else None, seed=seed),
        validation_data=training.dataset(x_val, y_val, batch_size=max(batch_size, 256)),
        epochs=epochs, callbacks=[*recipe_callbacks, *callbacks], verbose=verbose,
    )
    if out is None:
        return model, pd.DataFrame({"epoch": fitted.epoch, **fitted.history})
    history = pd.read_csv(history_csv).drop_duplicates("epoch", keep="last").sort_values("epoch")
    if len(history) >= epochs:
        shutil.rmtree(backup, ignore_errors=True)
    return model, history.reset_index(drop=True)
