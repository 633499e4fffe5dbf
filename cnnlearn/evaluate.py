"""How good is a trained model, and where does it go wrong?

Importing this module loads neither Keras nor scikit-learn; the functions that need them do, so
:func:`check_model_file` answers in a moment.
"""

import logging
import os
import zipfile
from pathlib import Path
from typing import NamedTuple

import numpy as np

from cnnlearn import CnnlearnError
from cnnlearn.data import model_input

# Predicting with several models in turn traces each one's predict step once per batch shape, and
# TensorFlow then warns of "frequent retracing" on stderr: expected here, so the warning is dropped.
logging.getLogger("tensorflow").addFilter(lambda record: "triggered tf.function retracing" not in record.getMessage())

#: Test-time augmentation: the image itself and one-pixel shifts (down, up, right, left).
TTA_SHIFTS = ((0, 0), (1, 0), (-1, 0), (0, 1), (0, -1))


def shift(images, dy, dx):
    """Move images (n, 28, 28, 1) by (dy, dx) pixels, filling with background (0)."""
    out = np.zeros_like(images)
    h, w = images.shape[1:3]
    if abs(dy) >= h or abs(dx) >= w:
        return out
    out[:, max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
        images[:, max(-dy, 0):h + min(-dy, 0), max(-dx, 0):w + min(-dx, 0)]
    return out


def predict_proba(model, images, batch_size=256, tta=False):
    """Class probabilities, float32 (n, 10).

    Parameters
    ----------
    model : keras.Model
    images : uint8 (n, 28, 28) or float32 (n, 28, 28, 1)
    batch_size : int
    tta : bool
        Test-time augmentation: average the probabilities of the image and
        of its one-pixel shifts (:data:`TTA_SHIFTS`). Costs 5 predictions.
    """
    images = model_input(images)
    shifts = TTA_SHIFTS if tta else ((0, 0),)
    total = sum(model.predict(shift(images, dy, dx), batch_size=batch_size, verbose=0) for dy, dx in shifts)
    return (total / len(shifts)).astype(np.float32)


def predict_labels(model, images, batch_size=256, tta=False):
    """The predicted digit for each image, int64 (n,). See :func:`predict_proba`."""
    return predict_proba(model, images, batch_size, tta).argmax(axis=1).astype(np.int64)


def accuracy(labels, predictions):
    """Share of predictions equal to the labels, a float in [0, 1]."""
    labels, predictions = np.asarray(labels), np.asarray(predictions)
    if labels.shape != predictions.shape:
        raise CnnlearnError(f"accuracy: {labels.shape[0]} labels but {predictions.shape[0]} predictions")
    return float(np.mean(labels == predictions))


def accuracy_interval(accuracy, n, confidence=0.95):
    """Wilson's confidence interval for an accuracy measured on ``n`` digits.

    An accuracy on 500 digits is a sample: another 500 digits like them would give another number.
    The interval holds the accuracy on all such digits with probability ``confidence``, if each digit
    is right or wrong independently with the same chance (a binomial). Wilson's interval, unlike the
    textbook ``p ± z * sqrt(p(1 - p)/n)``, stays inside [0, 1] and is not 0 wide at 100%.

    Parameters
    ----------
    accuracy : float in [0, 1]
        The share right, e.g. from :func:`accuracy`.
    n : int
        How many digits it was measured on.
    confidence : float, default 0.95

    Returns
    -------
    (low, high) : two floats in [0, 1]
    """
    from statistics import NormalDist

    if not 0 <= accuracy <= 1 or n < 1:
        raise CnnlearnError(f"accuracy_interval: expected an accuracy in [0, 1] and n >= 1; got {accuracy} and {n}")
    z = NormalDist().inv_cdf(0.5 + confidence / 2)  # 1.96 for 95%
    centre = (accuracy + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z / (1 + z**2 / n) * np.sqrt(accuracy * (1 - accuracy) / n + z**2 / (4 * n**2))
    return float(max(0.0, centre - half)), float(min(1.0, centre + half))


def confusion_matrix(labels, predictions):
    """int64 (10, 10): row = true digit, column = predicted digit."""
    import sklearn.metrics

    return sklearn.metrics.confusion_matrix(labels, predictions, labels=range(10))


def classification_report(labels, predictions):
    """Precision, recall and F1 for each digit, as text (scikit-learn's report)."""
    import sklearn.metrics

    return sklearn.metrics.classification_report(labels, predictions, labels=range(10), digits=4, zero_division=0)


class Errors(NamedTuple):
    """The model's mistakes, most confident first: indices into the images,
    their true labels, the predicted labels and the probability given to the
    prediction. Each an array of shape (k,)."""

    indices: np.ndarray
    labels: np.ndarray
    predicted: np.ndarray
    confidence: np.ndarray


def worst_errors(model, images, labels, k=9, batch_size=256):
    """The ``k`` mistakes the model was most sure of (fewer if it made fewer)."""
    probabilities = predict_proba(model, images, batch_size)
    predicted = probabilities.argmax(axis=1)
    labels = np.asarray(labels)
    wrong = np.flatnonzero(predicted != labels)
    confidence = probabilities[wrong, predicted[wrong]]
    order = wrong[np.argsort(-confidence, kind="stable")][:k]
    return Errors(order, labels[order], predicted[order], probabilities[order, predicted[order]])


MODEL_HELP = "expected a .keras file saved by cnnlearn train (or keras.Model.save)"


def check_model_file(path):
    """Raise :class:`cnnlearn.CnnlearnError` unless ``path`` looks like a Keras model file; needs no Keras.

    Checks that it is a readable file ending in ``.keras`` and a zip archive (as every ``.keras`` file
    is); the message names the file and says what it is instead (missing, a folder, empty, not a zip).
    """
    path = Path(path)
    if path.is_dir():
        raise CnnlearnError(f"{path}: no such model file (it is a folder); {MODEL_HELP}")
    if not path.is_file():
        raise CnnlearnError(f"{path}: no such model file; {MODEL_HELP}")
    if path.suffix != ".keras":
        raise CnnlearnError(f"{path}: expected a Keras model file ending in .keras")
    if not os.access(path, os.R_OK):
        raise CnnlearnError(f"{path}: permission denied; cannot read this model file")
    try:
        with open(path, "rb") as f:
            head = f.read(4)
        zipped = zipfile.is_zipfile(path)
    except OSError as e:
        raise CnnlearnError(f"{path}: cannot read this model file ({e.strerror or e}); {MODEL_HELP}") from None
    if not head:
        raise CnnlearnError(f"{path}: cannot load the model: the file is empty (0 bytes); {MODEL_HELP}")
    if not zipped:
        raise CnnlearnError(f"{path}: cannot load the model: the file is corrupt or not a Keras model (it is not "
                            f"a zip archive, as a .keras file is; it starts with {head!r}); {MODEL_HELP}")
    return path


def load_model(path):
    """Load a model saved as ``.keras``, with Keras's ``safe_mode`` on.

    Safe mode refuses files that would run arbitrary code (lambda layers).
    Raises :class:`cnnlearn.CnnlearnError` for a missing, unreadable or corrupt
    file (see :func:`check_model_file`).
    """
    import keras

    path = check_model_file(path)
    try:
        return keras.saving.load_model(path, safe_mode=True)
    except Exception as e:  # Keras raises many kinds for a corrupt file
        raise CnnlearnError(f"{path}: cannot load the model; the file is corrupt or not a Keras model ({e})") from None
