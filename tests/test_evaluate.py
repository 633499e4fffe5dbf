"""Tests for cnnlearn.evaluate: predictions, test-time augmentation, metrics, errors, loading models."""

import subprocess
import sys

import keras
import numpy as np
import pytest

from cnnlearn import CnnlearnError
from cnnlearn import data, evaluate, models, training


@pytest.fixture(scope="module")
def digits(sample):
    """600 training digits and 200 held-out digits of the bundled sample (conftest.py)."""
    x, y = data.subsample(*sample, 800, seed=1)
    return data.train_val_split(x, y, val_fraction=0.25, seed=1)


@pytest.fixture(scope="module")
def model(digits):
    """A small CNN trained for a few seconds: right most of the time, wrong sometimes."""
    x_train, y_train, x_val, y_val = digits
    training.set_seed(0)
    model = models.build_baseline()
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    model.fit(training.dataset(x_train, y_train, batch_size=32, shuffle=True, seed=0), epochs=3, verbose=0)
    return model


@pytest.fixture(scope="module")
def val(digits):
    return digits[2], digits[3]


# --------------------------------------------------------------------------
# predictions
# --------------------------------------------------------------------------

def test_predict_proba_shapes_and_dtypes(model, val):
    images, _ = val
    probabilities = evaluate.predict_proba(model, images)
    assert probabilities.shape == (len(images), 10)
    assert probabilities.dtype == np.float32
    assert np.all(probabilities >= 0)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1, atol=1e-5)
    # uint8 (n, 28, 28) and float (n, 28, 28, 1) inputs give the same answer
    np.testing.assert_allclose(evaluate.predict_proba(model, data.prepare(images), batch_size=7), probabilities,
                               atol=1e-6)


def test_predict_labels(model, val):
    images, labels = val
    predicted = evaluate.predict_labels(model, images)
    assert predicted.shape == (len(images),)
    assert predicted.dtype == np.int64
    assert set(np.unique(predicted)) <= set(range(10))
    np.testing.assert_array_equal(predicted, evaluate.predict_proba(model, images).argmax(axis=1))
    assert evaluate.accuracy(labels, predicted) > 0.5  # the fixture model learned something


def test_predicting_with_several_models_in_turn_prints_no_retracing_warning():
    # In a fresh process, as in a notebook: three models, each predicting with and without TTA, made
    # TensorFlow print "... triggered tf.function retracing" twice on stderr before evaluate filtered it.
    script = """
import cnnlearn, keras, numpy as np
from cnnlearn import evaluate
x = np.random.default_rng(0).random((500, 28, 28, 1)).astype("float32")
networks = [keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Conv2D(4, 3), keras.layers.Flatten(),
                              keras.layers.Dense(10, activation="softmax")]) for _ in range(3)]
for network in networks:
    network.compile(loss="categorical_crossentropy")
for tta in (False, True):
    for network in networks:
        evaluate.predict_proba(network, x, tta=tta)
print("predicted")
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and "predicted" in done.stdout, done.stderr
    assert "retracing" not in done.stderr


def test_tta(model, val):
    images, labels = val
    plain = evaluate.predict_proba(model, images)
    tta = evaluate.predict_proba(model, images, tta=True)
    assert tta.shape == plain.shape and tta.dtype == np.float32
    np.testing.assert_allclose(tta.sum(axis=1), 1, atol=1e-5)
    assert not np.allclose(tta, plain)  # the shifts do change the probabilities ...
    # ... and tta is their average over the five shifted copies
    prepared = data.prepare(images)
    expected = np.mean([model.predict(evaluate.shift(prepared, dy, dx), verbose=0)
                        for dy, dx in evaluate.TTA_SHIFTS], axis=0)
    np.testing.assert_allclose(tta, expected, atol=1e-5)
    # a CNN with pooling hardly cares about one-pixel shifts: the labels mostly agree
    tta_labels = evaluate.predict_labels(model, images, tta=True)
    assert tta_labels.shape == (len(images),) and tta_labels.dtype == np.int64
    assert np.mean(tta_labels == plain.argmax(axis=1)) > 0.85


# --------------------------------------------------------------------------
# shift
# --------------------------------------------------------------------------

@pytest.mark.parametrize("dy, dx", [*evaluate.TTA_SHIFTS, (3, -2), (-5, 4), (0, 27)])
def test_shift_moves_a_pixel(dy, dx):
    images = np.zeros((2, 28, 28, 1), dtype=np.float32)
    images[0, 10, 12, 0] = 1.0
    images[1, 20, 5, 0] = 0.5
    moved = evaluate.shift(images, dy, dx)
    assert moved.shape == images.shape and moved.dtype == images.dtype
    for i, (row, col, value) in enumerate([(10, 12, 1.0), (20, 5, 0.5)]):
        r, c = row + dy, col + dx
        if 0 <= r < 28 and 0 <= c < 28:
            assert moved[i, r, c, 0] == value
            assert np.count_nonzero(moved[i]) == 1
        else:
            assert np.count_nonzero(moved[i]) == 0  # moved out of the picture
    assert images[0, 10, 12, 0] == 1.0  # the input is left alone


def test_tta_shifts_are_the_image_and_four_neighbours():
    assert evaluate.TTA_SHIFTS[0] == (0, 0)
    assert sorted(evaluate.TTA_SHIFTS[1:]) == sorted([(1, 0), (-1, 0), (0, 1), (0, -1)])


@pytest.mark.parametrize("dy, dx", evaluate.TTA_SHIFTS)
def test_shift_fills_with_background(dy, dx):
    ones = np.ones((1, 28, 28, 1), dtype=np.float32)
    moved = evaluate.shift(ones, dy, dx)
    # exactly one row or column (or none) became background, the rest is kept
    assert np.count_nonzero(moved == 0) == 28 * (abs(dy) + abs(dx))
    if dy == 1:
        assert np.all(moved[0, 0] == 0) and np.all(moved[0, 1:] == 1)
    if dy == -1:
        assert np.all(moved[0, -1] == 0) and np.all(moved[0, :-1] == 1)
    if dx == 1:
        assert np.all(moved[0, :, 0] == 0) and np.all(moved[0, :, 1:] == 1)
    if dx == -1:
        assert np.all(moved[0, :, -1] == 0) and np.all(moved[0, :, :-1] == 1)


def test_shift_by_the_whole_image_leaves_background():
    images = np.ones((1, 28, 28, 1), dtype=np.float32)
    for dy, dx in [(28, 0), (0, -28), (28, 28)]:
        assert np.count_nonzero(evaluate.shift(images, dy, dx)) == 0


@pytest.mark.parametrize("dy, dx", [(29, 0), (-29, 0), (0, 40)])
def test_shift_by_more_than_the_image_leaves_background(dy, dx):
    images = np.ones((1, 28, 28, 1), dtype=np.float32)
    assert np.count_nonzero(evaluate.shift(images, dy, dx)) == 0


def test_shift_round_trip_of_a_digit(val):
    prepared = data.prepare(val[0][:5])
    # real digits have a blank border, so shifting there and back loses nothing
    for dy, dx in evaluate.TTA_SHIFTS:
        np.testing.assert_array_equal(evaluate.shift(evaluate.shift(prepared, dy, dx), -dy, -dx), prepared)


# --------------------------------------------------------------------------
# metrics
# --------------------------------------------------------------------------

def test_accuracy():
    assert evaluate.accuracy([1, 2, 3, 4], [1, 2, 0, 4]) == 0.75
    assert evaluate.accuracy(np.arange(10), np.arange(10)) == 1.0
    assert evaluate.accuracy([0, 0], [1, 1]) == 0.0
    assert isinstance(evaluate.accuracy([1], [1]), float)
    with pytest.raises(CnnlearnError, match="3 labels but 2 predictions"):
        evaluate.accuracy([1, 2, 3], [1, 2])


def test_confusion_matrix():
    labels = np.array([0, 0, 1, 2, 2, 2])
    predicted = np.array([0, 1, 1, 2, 2, 7])  # digits 3..9 never appear as labels
    matrix = evaluate.confusion_matrix(labels, predicted)
    assert matrix.shape == (10, 10)
    assert np.issubdtype(matrix.dtype, np.integer)
    assert matrix.sum() == len(labels)
    assert matrix[0, 0] == 1 and matrix[0, 1] == 1 and matrix[1, 1] == 1 and matrix[2, 2] == 2 and matrix[2, 7] == 1
    np.testing.assert_array_equal(matrix.sum(axis=1), np.bincount(labels, minlength=10))
    np.testing.assert_array_equal(matrix.sum(axis=0), np.bincount(predicted, minlength=10))
    assert np.trace(matrix) == np.sum(labels == predicted)
    # a single digit only: still 10 x 10
    single = evaluate.confusion_matrix([4, 4, 4], [4, 4, 9])
    assert single.shape == (10, 10) and single[4, 4] == 2 and single[4, 9] == 1 and single.sum() == 3


def test_confusion_matrix_of_the_model(model, val):
    images, labels = val
    predicted = evaluate.predict_labels(model, images)
    matrix = evaluate.confusion_matrix(labels, predicted)
    assert matrix.sum() == len(labels)
    assert np.trace(matrix) / len(labels) == pytest.approx(evaluate.accuracy(labels, predicted))


def test_classification_report():
    report = evaluate.classification_report([0, 1, 2, 2], [0, 1, 2, 1])
    assert isinstance(report, str)
    rows = {line.split()[0]: line.split()[1:] for line in report.splitlines() if line.strip()}
    for digit in range(10):  # every digit has a row, also those absent from the labels
        assert str(digit) in rows
    assert rows["1"] == ["0.5000", "1.0000", "0.6667", "1"]  # precision, recall, F1, support
    assert rows["2"] == ["1.0000", "0.5000", "0.6667", "2"]
    assert rows["9"] == ["0.0000", "0.0000", "0.0000", "0"]


# --------------------------------------------------------------------------
# worst errors
# --------------------------------------------------------------------------

def test_worst_errors(model, val):
    images, labels = val
    probabilities = evaluate.predict_proba(model, images)
    predicted = probabilities.argmax(axis=1)
    n_wrong = int(np.sum(predicted != labels))
    assert n_wrong >= 3, "the fixture model should make a few mistakes"

    errors = evaluate.worst_errors(model, images, labels, k=3)
    assert isinstance(errors, evaluate.Errors)
    assert all(len(field) == 3 for field in errors)
    assert np.all(predicted[errors.indices] != labels[errors.indices])  # all real mistakes
    np.testing.assert_array_equal(errors.labels, labels[errors.indices])
    np.testing.assert_array_equal(errors.predicted, predicted[errors.indices])
    np.testing.assert_allclose(errors.confidence, probabilities[errors.indices, errors.predicted], atol=1e-6)
    assert np.all(np.diff(errors.confidence) <= 0)  # most confident first
    # they are the three most confident of all the mistakes
    wrong = np.flatnonzero(predicted != labels)
    top = np.sort(probabilities[wrong, predicted[wrong]])[::-1][:3]
    np.testing.assert_allclose(errors.confidence, top, atol=1e-6)

    everything = evaluate.worst_errors(model, images, labels, k=len(images))
    assert len(everything.indices) == n_wrong  # fewer than k when there are fewer mistakes
    assert sorted(everything.indices) == sorted(wrong)
    assert np.all(np.diff(everything.confidence) <= 0)


def test_worst_errors_with_chosen_mistakes(model, val):
    images, _ = val
    probabilities = evaluate.predict_proba(model, images)
    predicted = probabilities.argmax(axis=1)
    # labels that agree with the model: no mistakes at all
    none = evaluate.worst_errors(model, images, predicted)
    assert len(none.indices) == 0 and len(none.confidence) == 0
    # make exactly three of them wrong
    labels = predicted.copy()
    chosen = np.array([5, 17, 42])
    labels[chosen] = (labels[chosen] + 1) % 10
    errors = evaluate.worst_errors(model, images, labels, k=9)
    assert sorted(errors.indices.tolist()) == chosen.tolist()
    expected_order = chosen[np.argsort(-probabilities[chosen, predicted[chosen]], kind="stable")]
    np.testing.assert_array_equal(errors.indices, expected_order)


# --------------------------------------------------------------------------
# load_model
# --------------------------------------------------------------------------

def test_load_model_round_trip(model, val, tmp_path):
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = evaluate.load_model(path)
    assert isinstance(loaded, keras.Model)
    np.testing.assert_allclose(evaluate.predict_proba(loaded, val[0]), evaluate.predict_proba(model, val[0]),
                               atol=1e-6)
    assert evaluate.load_model(str(path)).count_params() == model.count_params()  # str paths too


def test_load_model_missing_file(tmp_path):
    with pytest.raises(CnnlearnError, match="no such model file"):
        evaluate.load_model(tmp_path / "nothing.keras")
    with pytest.raises(CnnlearnError, match="no such model file"):
        evaluate.load_model(tmp_path)  # a folder is not a model file


def test_load_model_wrong_suffix(model, tmp_path):
    path = tmp_path / "m.keras"
    model.save(path)
    renamed = path.rename(tmp_path / "m.h5")
    with pytest.raises(CnnlearnError, match=r"\.keras"):
        evaluate.load_model(renamed)


def test_load_model_corrupt_file(tmp_path):
    path = tmp_path / "x.keras"
    path.write_bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    with pytest.raises(CnnlearnError, match="corrupt"):
        evaluate.load_model(path)
    empty = tmp_path / "empty.keras"
    empty.write_bytes(b"")
    with pytest.raises(CnnlearnError):
        evaluate.load_model(empty)


@pytest.mark.parametrize("right, n", [(471, 500), (500, 500), (0, 10), (1, 3), (4151, 4200)])
def test_accuracy_interval_is_wilsons(right, n):
    from scipy.stats import binomtest

    expected = binomtest(right, n).proportion_ci(confidence_level=0.95, method="wilson")
    np.testing.assert_allclose(evaluate.accuracy_interval(right / n, n), (expected.low, expected.high), atol=1e-12)


def test_accuracy_interval_narrows_with_more_digits_and_less_confidence():
    widths = [np.diff(evaluate.accuracy_interval(0.94, n)).item() for n in (500, 5000)]
    assert widths[1] < widths[0] / 3  # about 1 / sqrt(10)
    low95, high95 = evaluate.accuracy_interval(0.94, 500)
    low80, high80 = evaluate.accuracy_interval(0.94, 500, confidence=0.8)
    assert low95 < low80 < 0.94 < high80 < high95
    assert evaluate.accuracy_interval(0.0, 10)[0] == pytest.approx(0, abs=1e-12)
    assert evaluate.accuracy_interval(1.0, 10)[1] == pytest.approx(1, abs=1e-12)
    assert evaluate.accuracy_interval(1.0, 10)[0] < 0.75  # not 0 wide at 100%


@pytest.mark.parametrize("accuracy, n", [(1.2, 10), (-0.1, 10), (0.5, 0)])
def test_accuracy_interval_refuses_what_is_not_an_accuracy(accuracy, n):
    with pytest.raises(CnnlearnError, match="accuracy_interval: expected an accuracy in \\[0, 1\\] and n >= 1"):
        evaluate.accuracy_interval(accuracy, n)
