"""cnnlearn: learn convolutional neural networks on Kaggle's Digit Recognizer.

A toolkit of small functions a learner could have written; the notebooks
call Keras themselves. ``import cnnlearn`` is cheap (no TensorFlow) and makes
TensorFlow's start-up quiet, unless you set ``TF_CPP_MIN_LOG_LEVEL``.

- ``data``: where the data is, the bundled 5,000-digit sample, scaling, splits
- ``kaggle``: Kaggle's train.csv/test.csv, checked; submission.csv, written atomically
- ``ops``: convolution, pooling, dropout, softmax, crossentropy in NumPy
- ``models``: the series' networks as ``keras.Sequential`` builders
- ``augment``: augmentation with Keras preprocessing layers
- ``training``: seeds, the ``tf.data`` pipeline, callbacks
- ``evaluate``: predictions, test-time augmentation, errors, loading models
- ``plots``: the notebooks' figures
- ``explain``: what the network looks at: Grad-CAM, saliency maps, occlusion
- ``photos``: colour photos bundled in installed packages, digit scenes as image files, a folder check
- ``drawing``: a drawing prepared the MNIST way (crop, fit 20x20, centre of mass)
- ``recipes``, ``runs``, ``cli``: the ``cnnlearn`` command and its run folders
- ``settings``: full vs fast mode (``CNNLEARN_FAST=1``)
"""

import importlib

from cnnlearn import _quiet

_quiet.silence_tensorflow()

__version__ = "0.1.0"


def __getattr__(name):
    # ``cnnlearn.models`` works after a bare ``import cnnlearn``; TensorFlow loads when first used.
    if name in {"augment", "data", "drawing", "evaluate", "exercises", "explain", "kaggle", "models", "ops", "photos",
                "plots", "recipes", "runs", "settings", "training"}:
        return importlib.import_module(f"cnnlearn.{name}")
    raise AttributeError(f"module 'cnnlearn' has no attribute {name!r}")


class CnnlearnError(ValueError):
    """An input cnnlearn cannot use: the message names the file (row, column) and says what was expected."""
