"""Kaggle's file formats: ``train.csv``/``test.csv`` in, ``submission.csv`` out.

Bad files get one :class:`cnnlearn.CnnlearnError` naming the file, the row and
the column, and what was expected; a submission is never left half-written.
(:mod:`cnnlearn.data` offers these functions too.)
"""

import contextlib
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


#: ``--input -``: read standard input.
STDIN = "-"


def _name(path):
    """How messages name an input ``path``: the path, or "standard input" for ``-``."""
    return "standard input" if str(path) == STDIN else str(path)


def _open_text(path):
    """The file (or standard input, for ``-``) as text, gunzipped when it starts with gzip's magic
    bytes (so pipes work too).

    Opening a pipe waits for its writer; after 2 s, say so on stderr.
    """
    if str(path) == STDIN:
        raw = open(sys.stdin.fileno(), "rb", closefd=False)
    else:
        waiting = threading.Timer(2.0, lambda: print(f"{path}: waiting for data (a pipe with no writer yet?) ...",
                                                     file=sys.stderr, flush=True))
        waiting.start()
        try:
            raw = open(path, "rb")
        finally:
            waiting.cancel()
    stream = gzip.GzipFile(fileobj=raw) if raw.peek(2)[:2] == b"\x1f\x8b" else raw
    return io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")


class _Lines:
    """A text stream that refuses a line longer than :data:`MAX_LINE` (a wrong file, or /dev/zero),
    and notes the line number and the number of values of each row it passes on.

    Rows are the lines that are not blank (pandas skips blank lines); :meth:`take` hands over the
    notes of the next rows and forgets them, so only the rows read ahead are kept.
    """

    def __init__(self, stream, path, line):
        self.stream, self.path, self.line = stream, path, line  # line: the number of the line being read
        self.run, self.commas, self.blank = 0, 0, True  # that line so far: characters, commas, only spaces?
        self.lines, self.values = [], []  # of the rows read and not yet taken

    def read(self, size=-1):
        text = self.stream.read(size if size and size > 0 else MAX_LINE)
        *ends, rest = text.split("\n")
        for part in ends:
            self._add(part)
            self._end()
        self._add(rest)
        if not text and self.run:  # a last line without a newline
            self._end()
        return text

    def _add(self, part):
        self.run += len(part)
        self.commas += part.count(",")
        self.blank = self.blank and not part.strip()
        if self.run > MAX_LINE:
            raise CnnlearnError(f"{_name(self.path)}: line {self.line} is longer than {MAX_LINE:,} characters; a "
                                "row of Kaggle's digits is about 3,000 (is this a CSV of digits?)")

    def _end(self):
        if not self.blank:
            self.lines.append(self.line)
            self.values.append(self.commas + 1)
        self.line, self.run, self.commas, self.blank = self.line + 1, 0, 0, True

    def take(self, n):
        """Line numbers and numbers of values, int64 (n,) each, of the next ``n`` rows."""
        lines, values = np.array(self.lines[:n], np.int64), np.array(self.values[:n], np.int64)
        del self.lines[:n], self.values[:n]
        return lines, values


def _check_header(path, line):
    """The header's columns; raise unless they are Kaggle's (with or without 'label' first)."""
    path = _name(path)
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


def _wrong_width(path, row, line, values, columns):
    """The error for a row with another number of values than the header has columns."""
    row, line, values = int(row), int(line), int(values)
    return CnnlearnError(f"{_name(path)}: row {row} (line {line}) has {values} value{'s' * (values != 1)}; "
                         f"expected {len(columns)}, one per header column")


def _check_chunk(path, chunk, columns, first_row, lines, values):
    """A parsed chunk of rows as float64 (n, len(columns)); raise at its first bad row or cell, in reading order.

    ``lines`` and ``values`` are each row's line number and number of values (from :class:`_Lines`).
    """
    wide = chunk.shape[1] > len(columns) and chunk.iloc[:, len(columns):].notna().any(axis=1).to_numpy()
    wrong = np.flatnonzero((values != len(columns)) | wide)
    chunk = chunk.reindex(columns=range(len(columns)))  # missing trailing cells become blanks
    if all(pd.api.types.is_numeric_dtype(t) for t in chunk.dtypes):
        numbers = chunk.to_numpy(dtype=np.float64)
    else:
        numbers = chunk.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=np.float64)
    limits = np.where(np.arange(len(columns)) == 0, 9 if columns[0] == "label" else 255, 255)
    bad = np.isnan(numbers) | (numbers != np.round(numbers)) | (numbers < 0) | (numbers > limits)
    first_bad = np.argwhere(bad)[0] if bad.any() else None
    if len(wrong) and (first_bad is None or wrong[0] <= first_bad[0]):
        r = int(wrong[0])
        raise _wrong_width(path, first_row + r + 1, lines[r], values[r], columns)
    if first_bad is not None:
        r, c = (int(i) for i in first_bad)
        raw, value = chunk.iat[r, c], numbers[r, c]
        if pd.isna(raw):
            problem = "the cell is blank or NaN; expected a whole number"
        elif np.isnan(value):
            problem = f"{str(raw)[:40]!r} is not a number; expected a whole number"
        elif columns[c] == "label":
            problem = f"label {value:g} is not a digit; expected a whole number 0..9"
        elif value != np.round(value):
            problem = f"pixel value {value:g} is not a whole number; expected a whole number 0..255"
        else:
            problem = f"pixel value {value:g} is out of range; expected a whole number 0..255"
        raise CnnlearnError(f"{_name(path)}: row {first_row + r + 1} (line {lines[r]}), column {columns[c]!r}: "
                            f"{problem}")
    return numbers


class KaggleChunks:
    """Kaggle's ``train.csv`` or ``test.csv`` read :data:`CHUNK_ROWS` rows at a time; see :func:`iter_kaggle_csv`.

    Attributes
    ----------
    labelled : bool
        Whether the file has a ``label`` column (known once made: the header is read then).
    rows : int
        The rows handed out so far.
    """

    def __init__(self, path, require_labels=False, chunk_rows=None):
        chunk_rows = chunk_rows or CHUNK_ROWS
        self.path, self.chunk_rows, self.rows, self._file, self._chunks = path, chunk_rows, 0, None, iter(())
        name = _name(path)
        if str(path) != STDIN:
            path = Path(path)
            if not path.exists():
                raise CnnlearnError(f"{name}: no such file; expected Kaggle's train.csv or test.csv ({DATA_HELP})")
            if path.is_dir():
                raise CnnlearnError(f"{name}: is a directory; expected a CSV file such as {path / 'train.csv'}")
        try:
            self._file = _open_text(path)
            header = self._file.readline(MAX_LINE + 1)
        except (OSError, EOFError, UnicodeDecodeError) as e:
            self._close_file()
            raise CnnlearnError(f"{name}: cannot read it as a text CSV file ({e})") from None
        try:
            if len(header) > MAX_LINE:
                raise CnnlearnError(f"{name}: line 1 is longer than {MAX_LINE:,} characters; expected a header "
                                    f"({HEADER_HELP})")
            self.columns = _check_header(path, header)
            self.labelled = self.columns[0] == "label"
            if require_labels and not self.labelled:
                raise CnnlearnError(f"{name}: has no 'label' column, but labelled digits are needed here (it looks "
                                    "like Kaggle's test.csv); expected a file like train.csv, header "
                                    "'label,pixel0,...,pixel783'")
        except CnnlearnError:
            self._close_file()
            raise

        self._chunks = self._read()

    def __iter__(self):
        return self

    def __next__(self):
        """The next chunk's ``(images, labels)``: uint8 (n, 28, 28), and int64 (n,) or None."""
        return next(self._chunks)

    def _read(self):
        name, columns = _name(self.path), self.columns
        lines = _Lines(self._file, self.path, 2)
        try:
            for chunk in pd.read_csv(lines, header=None, chunksize=self.chunk_rows, skipinitialspace=True):
                values = _check_chunk(self.path, chunk, columns, self.rows, *lines.take(len(chunk))).astype(np.uint8)
                self.rows += len(values)
                if self.labelled:
                    yield values[:, 1:].reshape(-1, 28, 28), values[:, 0].astype(np.int64)
                else:
                    yield values.reshape(-1, 28, 28), None
        except pd.errors.EmptyDataError:
            pass
        except pd.errors.ParserError as e:
            found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(e))
            if not found:
                raise CnnlearnError(f"{name}: not a well-formed CSV file ({e})") from None
            row = int(found[2])
            raise _wrong_width(self.path, row, row + 1, int(found[3]), columns) from None
        except (OSError, EOFError, UnicodeDecodeError) as e:
            raise CnnlearnError(f"{name}: cannot read it as a text CSV file ({e})") from None
        finally:
            self._close_file()
        if not self.rows:
            raise CnnlearnError(f"{name}: has a header but no rows; expected one digit per row")

    def close(self):
        """Stop reading and close the file; reading to the end closes it too."""
        chunks, self._chunks = self._chunks, iter(())
        if hasattr(chunks, "close"):
            chunks.close()
        self._close_file()

    def _close_file(self):
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def iter_kaggle_csv(path, require_labels=False, chunk_rows=None):
    """Read Kaggle's ``train.csv`` or ``test.csv`` (plain or gzipped) in chunks, once, front to back.

    Memory stays near one chunk, whatever the file's size; a pipe works.

    Parameters
    ----------
    path : str or Path
        A CSV with header ``label,pixel0,...,pixel783`` (train) or
        ``pixel0,...,pixel783`` (test), one digit per row, pixels 0..255;
        ``"-"`` reads standard input.
    require_labels : bool, default False
        Refuse a file without a ``label`` column (a test file given where
        training data is needed).
    chunk_rows : int, optional
        Rows per chunk (the last may have fewer); default :data:`CHUNK_ROWS`.

    Returns
    -------
    KaggleChunks
        The header is read and checked at once; iterating yields ``(images,
        labels)`` per chunk, uint8 (n, 28, 28) and int64 (n,) or None for a
        file without labels, and checks each chunk before handing it out.
        Use it in a ``with`` block (or iterate it to the end) to close the file.

    Raises
    ------
    cnnlearn.CnnlearnError
        For a missing, empty or malformed file: the message names the file,
        and the row, line and column where the problem is, and what was
        expected. A bad row is found when its chunk is reached.
    """
    return KaggleChunks(path, require_labels, chunk_rows)


def load_kaggle_csv(path, require_labels=False):
    """Read Kaggle's ``train.csv`` or ``test.csv`` (plain or gzipped) whole, in one pass.

    Parameters
    ----------
    path : str or Path
        As :func:`iter_kaggle_csv` takes it. Read once, front to back,
        :data:`CHUNK_ROWS` rows at a time, so a pipe works and memory stays
        near twice the size of the result.
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
    with iter_kaggle_csv(path, require_labels) as chunks:
        parts = list(chunks)
    images = np.concatenate([images for images, _ in parts])
    return images, (np.concatenate([labels for _, labels in parts]) if chunks.labelled else None)


# --- Kaggle submissions ---

def _named(error, path, partial=None):
    """``error`` (an OSError) naming ``path``, the user's file, rather than none or the temporary one."""
    if error.filename is None or str(error.filename) == str(partial):
        error.filename, error.filename2 = str(path), None
    return error


def write_atomically(path, write):
    """Call ``write(partial_path)``, then rename the file to ``path``: readers see the old file or the
    whole new one, never half of it. On failure nothing is left behind (a process killed mid-write
    leaves ``.NAME.partial-PID.EXT``, which :func:`cnnlearn.runs.fit` removes), and an OSError names
    ``path``, not the temporary file."""
    path = Path(path)
    partial = path.with_name(f".{path.stem}.partial-{os.getpid()}{path.suffix}")
    try:
        write(partial)
        os.replace(partial, path)
    except BaseException as e:
        with contextlib.suppress(OSError):  # on a read-only disk even removing a missing file fails
            partial.unlink(missing_ok=True)
        raise _named(e, path, partial) if isinstance(e, OSError) else e
    return path


#: ``--out -``: write standard output.
STDOUT = "-"


def _open_device(path):
    """An existing file that is not a regular one (a device, a FIFO), opened for writing as it is.

    Opening a FIFO waits for its reader; after 2 s, say so on stderr.
    """
    waiting = threading.Timer(2.0, lambda: print(f"{path}: waiting for a reader (a pipe that nobody reads yet?) "
                                                 "...", file=sys.stderr, flush=True))
    waiting.start()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_NOCTTY)  # never O_CREAT: the file is there
    except OSError as e:
        raise _named(e, path) from None
    finally:
        waiting.cancel()
    return os.fdopen(fd, "w", encoding="utf-8", newline="")


def write_output(path, write):
    """Call ``write(file)`` with a text file open for ``path``, chosen by what ``path`` is.

    - ``"-"``: standard output.
    - An existing file that is not regular (a character device such as ``/dev/null``, a FIFO): the
      file itself, written to directly, never replaced (what was written stays written on failure).
    - A regular file, or a new name in an existing folder: a temporary file, renamed to ``path`` once
      ``write`` returns (:func:`write_atomically`), so a failure leaves the old file or none.

    A folder, or a name in a folder that does not exist, is refused with :class:`cnnlearn.CnnlearnError`;
    an OSError names ``path``.
    """
    if str(path) == STDOUT:
        try:
            write(sys.stdout)
            sys.stdout.flush()
        except OSError as e:
            raise _named(e, "standard output") from None
        return path
    path = Path(path)
    if path.is_dir():
        raise CnnlearnError(f"{path}: is a directory; expected a file name such as {path / 'submission.csv'}")
    if path.exists() and not path.is_file():
        f = _open_device(path)
        try:
            write(f)
            f.close()
        except BaseException as e:
            with contextlib.suppress(OSError):  # what could not be written still waits in the buffer
                f.close()
            raise _named(e, path) if isinstance(e, OSError) else e from None
        return path
    if not path.parent.is_dir():
        raise CnnlearnError(f"{path}: the folder {path.parent} does not exist; expected a file name in an "
                            "existing folder")

    def write_partial(partial):
        with open(partial, "w", encoding="utf-8", newline="") as f:
            write(f)

    return write_atomically(path, write_partial)


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


def _write_rows(f, chunks, expected_rows, where):
    """Write the header, then each chunk's rows as it comes; return the number of rows."""
    f.write("ImageId,Label\n")
    f.flush()
    rows = 0
    for labels in chunks:
        labels = _check_submission_labels(labels, None, where)
        f.write("".join(f"{i},{label}\n" for i, label in enumerate(labels.tolist(), start=rows + 1)))
        f.flush()  # each chunk's rows go out as they come
        rows += len(labels)
    if not rows:
        raise CnnlearnError(f"{where}: no predictions to write; expected at least one")
    if expected_rows is not None and rows != expected_rows:
        raise CnnlearnError(f"{where}: has {rows:,} predictions; expected {expected_rows:,} (one per test digit)")
    return rows


def write_submission_chunks(chunks, path, expected_rows=None):
    """Write Kaggle's ``submission.csv`` from predictions that come a chunk at a time.

    Parameters
    ----------
    chunks : iterable of int arrays, shape (n,)
        The predicted digits, chunk after chunk, in the test file's row order
        (a generator that reads and predicts as it goes: memory stays near a chunk).
    path : str or Path
        Where to write, as :func:`write_output` takes it: a regular file is
        written under a temporary name and renamed at the end, so a failure
        (a bad row late in the input, a full disk) leaves no half-written
        submission; ``"-"`` (standard output) and an existing device or FIFO
        are written to directly.
    expected_rows : int or None
        Refuse any other number of predictions.

    Returns
    -------
    int
        The number of rows written.
    """
    counted = []
    where = "standard output" if str(path) == STDOUT else str(path)
    write_output(path, lambda f: counted.append(_write_rows(f, chunks, expected_rows, where)))
    return counted[0]


def write_submission(labels, path, expected_rows=KAGGLE_TEST_ROWS):
    """Write Kaggle's ``submission.csv``: header ``ImageId,Label``, ImageId from 1.

    Parameters
    ----------
    labels : array of int, shape (n,)
        The predicted digit for each test image, in the test file's row order.
    path : str or Path
        As :func:`write_output` takes it (``"-"`` is standard output).
    expected_rows : int or None
        Refuse any other number of predictions (Kaggle's test.csv has 28,000).

    A regular file is written to a temporary name and renamed, so a failure
    never leaves a half-written submission behind.
    """
    labels = _check_submission_labels(labels, expected_rows, str(path))
    write_submission_chunks([labels], path, expected_rows)
    return path if str(path) == STDOUT else Path(path)


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
