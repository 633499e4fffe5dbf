"""Kaggle's file formats: ``train.csv``/``test.csv`` in, ``submission.csv`` out.

Bad files get one :class:`cnnlearn.CnnlearnError` naming the file, the row and
the column, and what was expected; a submission is never left half-written.
(:mod:`cnnlearn.data` offers these functions too.)
"""

import gzip
import io
import os
import re
import sys
import threading
from pathlib import Path

import numpy as np
import pandas as pd

from cnnlearn import CnnlearnError

N_PIXELS = 28 * 28
KAGGLE_TEST_ROWS = 28_000
PIXEL_COLUMNS = [f"pixel{i}" for i in range(N_PIXELS)]
DATA_HELP = ("put Kaggle's train.csv and test.csv (or .csv.gz) in data/ or point CNNLEARN_DATA_DIR at them; "
             "see data/README.md")


# --- Kaggle's CSV files ---

#: Rows parsed at a time: memory stays near the final uint8 array, whatever the file's size.
CHUNK_ROWS = 4096
#: The longest line read: a Kaggle row is at most about 3,200 characters (785 values of up to 3 digits).
MAX_LINE = 65_536
HEADER_HELP = "Kaggle's header is 'label,pixel0,...,pixel783', or 'pixel0,...,pixel783' for test.csv"


def _open_text(path):
    """The file as text, gunzipped when it starts with gzip's magic bytes (so pipes work too).

    Opening a pipe waits for its writer; after 2 s, say so on stderr.
    """
    waiting = threading.Timer(2.0, lambda: print(f"{path}: waiting for data (a pipe with no writer yet?) ...",
                                                 file=sys.stderr, flush=True))
    waiting.start()
    try:
        raw = open(path, "rb")
    finally:
        waiting.cancel()
    stream = gzip.GzipFile(fileobj=raw) if raw.peek(2)[:2] == b"\x1f\x8b" else raw
    return io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")


class _ShortLines:
    """A text stream that refuses a line longer than :data:`MAX_LINE` (a wrong file, or /dev/zero)."""

    def __init__(self, stream, path, line):
        self.stream, self.path, self.line, self.run = stream, path, line, 0

    def read(self, size=-1):
        text = self.stream.read(size if size and size > 0 else MAX_LINE)
        for part in text.split("\n")[:-1] if "\n" in text else []:
            self._check(self.run + len(part))
            self.line, self.run = self.line + 1, 0
        self.run += len(text) - (text.rfind("\n") + 1)
        self._check(self.run)
        return text

    def _check(self, length):
        if length > MAX_LINE:
            raise CnnlearnError(f"{self.path}: line {self.line} is longer than {MAX_LINE:,} characters; a row of "
                                "Kaggle's digits is about 3,000 (is this a CSV of digits?)")


def _check_header(path, line):
    """The header's columns; raise unless they are Kaggle's (with or without 'label' first)."""
    if not line.strip():
        raise CnnlearnError(f"{path}: the file is empty; expected a header line ({HEADER_HELP})")
    columns = [c.strip().strip('"') for c in line.strip().split(",")]
    for delimiter, name in ((";", "semicolons"), ("\t", "tabs")):
        if len(columns) == 1 and delimiter in line:
            raise CnnlearnError(f"{path}: the values are separated by {name}; expected commas ({HEADER_HELP})")
    pixels = columns[1:] if columns[0] == "label" else columns
    for i, name in enumerate(pixels[:N_PIXELS]):
        if name != f"pixel{i}":
            where = "; the label must be the first column" if name == "label" else ""
            raise CnnlearnError(f"{path}: header column {i + 1 + len(columns) - len(pixels)} is {name[:40]!r}; "
                                f"expected 'pixel{i}' ({HEADER_HELP}){where}")
    if len(pixels) != N_PIXELS:
        raise CnnlearnError(f"{path}: the header has {len(pixels)} pixel columns; expected {N_PIXELS} "
                            "(pixel0..pixel783, one per pixel of a 28x28 digit)")
    return columns


def _check_chunk(path, chunk, columns, first_row):
    """A parsed chunk of rows as float64 (n, len(columns)); raise at its first bad cell, in reading order."""
    where = lambda r, c: f"{path}: row {first_row + r + 1} (line {first_row + r + 2}), column {columns[c]!r}"
    if chunk.shape[1] > len(columns):  # the widest row, if it came first, set pandas's width
        r = int(np.flatnonzero(chunk.iloc[:, len(columns):].notna().any(axis=1).to_numpy())[0])
        n_values = int(np.flatnonzero(chunk.iloc[r].notna().to_numpy())[-1]) + 1
        raise CnnlearnError(f"{path}: row {first_row + r + 1} (line {first_row + r + 2}) has {n_values} values; "
                            f"expected {len(columns)}, one per header column")
    chunk = chunk.reindex(columns=range(len(columns)))  # missing trailing cells become blanks
    numbers = chunk.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=np.float64)
    limits = np.where(np.arange(len(columns)) == 0, 9 if columns[0] == "label" else 255, 255)
    bad = np.isnan(numbers) | (numbers != np.round(numbers)) | (numbers < 0) | (numbers > limits)
    if bad.any():
        r, c = (int(i) for i in np.argwhere(bad)[0])
        raw, value = chunk.iat[r, c], numbers[r, c]
        if pd.isna(raw):
            problem = "the cell is blank or NaN; expected a whole number"
        elif np.isnan(value):
            problem = f"{str(raw)[:40]!r} is not a number; expected a whole number"
        elif columns[c] == "label":
            problem = f"label {value:g} is not a digit; expected 0..9"
        else:
            problem = f"pixel value {value:g} is out of range; expected a whole number 0..255"
        raise CnnlearnError(f"{where(r, c)}: {problem}")
    return numbers


def load_kaggle_csv(path, require_labels=False):
    """Read Kaggle's ``train.csv`` or ``test.csv`` (plain or gzipped), in one pass.

    Parameters
    ----------
    path : str or Path
        A CSV with header ``label,pixel0,...,pixel783`` (train) or
        ``pixel0,...,pixel783`` (test), one digit per row, pixels 0..255.
        Read once, front to back, :data:`CHUNK_ROWS` rows at a time, so a
        pipe works and memory stays near the size of the result.
    require_labels : bool, default False
        Refuse a file without a ``label`` column (a test file given where
        training data is needed).

    Returns
    -------
    images : ndarray of uint8, shape (n, 28, 28)
    labels : ndarray of int64, shape (n,), or None for a file without labels

    Raises
    ------
    cnnlearn.CnnlearnError
        For a missing, empty or malformed file: the message names the file,
        and the row and column where the problem is.
    """
    path = Path(path)
    if not path.exists():
        raise CnnlearnError(f"{path}: no such file; expected Kaggle's train.csv or test.csv ({DATA_HELP})")
    if path.is_dir():
        raise CnnlearnError(f"{path}: is a directory; expected a CSV file such as {path / 'train.csv'}")
    rows = []
    try:
        with _open_text(path) as f:
            header = f.readline(MAX_LINE + 1)
            if len(header) > MAX_LINE:
                raise CnnlearnError(f"{path}: line 1 is longer than {MAX_LINE:,} characters; expected a header "
                                    f"({HEADER_HELP})")
            columns = _check_header(path, header)
            if require_labels and columns[0] != "label":
                raise CnnlearnError(f"{path}: has no 'label' column, but labelled digits are needed here (it looks "
                                    "like Kaggle's test.csv); expected a file like train.csv, header "
                                    "'label,pixel0,...,pixel783'")
            for chunk in pd.read_csv(_ShortLines(f, path, 2), header=None, chunksize=CHUNK_ROWS,
                                     skipinitialspace=True):
                rows.append(_check_chunk(path, chunk, columns, sum(map(len, rows))).astype(np.uint8))
    except pd.errors.EmptyDataError:
        pass
    except pd.errors.ParserError as e:
        found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(e))
        if not found:
            raise CnnlearnError(f"{path}: not a well-formed CSV file ({e})") from None
        row = int(found[2])
        raise CnnlearnError(f"{path}: row {row} (line {row + 1}) has {found[3]} values; "
                            f"expected {len(columns)}, one per header column") from None
    except (OSError, EOFError, UnicodeDecodeError) as e:
        raise CnnlearnError(f"{path}: cannot read it as a text CSV file ({e})") from None
    if not rows:
        raise CnnlearnError(f"{path}: has a header but no rows; expected one digit per row")
    values = np.concatenate(rows)
    if columns[0] != "label":
        return values.reshape(-1, 28, 28), None
    return values[:, 1:].reshape(-1, 28, 28), values[:, 0].astype(np.int64)


# --- Kaggle submissions ---

def write_atomically(path, write):
    """Call ``write(partial_path)``, then rename the file to ``path``: readers see the old file or the
    whole new one, never half of it. On failure nothing is left behind (a process killed mid-write
    leaves ``.NAME.partial-PID.EXT``, which :func:`cnnlearn.runs.fit` removes)."""
    path = Path(path)
    partial = path.with_name(f".{path.stem}.partial-{os.getpid()}{path.suffix}")
    try:
        write(partial)
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return path


def _check_submission_labels(labels, expected_rows, where):
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.size == 0:
        raise CnnlearnError(f"{where}: expected a non-empty 1-D array of predicted digits; got shape {labels.shape}")
    if not np.issubdtype(labels.dtype, np.integer) or labels.min() < 0 or labels.max() > 9:
        raise CnnlearnError(f"{where}: predicted labels must be whole numbers 0..9")
    if expected_rows is not None and len(labels) != expected_rows:
        raise CnnlearnError(f"{where}: has {len(labels):,} predictions; expected {expected_rows:,} "
                            "(one per test digit)")
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
    return write_atomically(path, lambda partial: frame.to_csv(partial, index=False))


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
    numbers = frame.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=np.float64)
    bad = np.column_stack([numbers[:, 0] != np.arange(1, len(frame) + 1), ~np.isin(numbers[:, 1], np.arange(10))])
    if bad.any():
        row, col = (int(i) for i in np.argwhere(bad)[0])
        wanted = f"{row + 1}" if col == 0 else "a digit 0..9"
        raise CnnlearnError(f"{path}: row {row + 1} (line {row + 2}), column {frame.columns[col]!r}: "
                            f"is {frame.iat[row, col]!r}; expected {wanted}")
    return _check_submission_labels(numbers[:, 1].astype(np.int64), expected_rows, f"{path}")
