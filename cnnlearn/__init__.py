"""cnnlearn: learn convolutional neural networks on Kaggle's Digit Recognizer.

Importing ``cnnlearn`` is cheap: it does not import TensorFlow. It does make
TensorFlow quiet for the rest of the session: the C++ start-up messages
("Could not find cuda drivers", "oneDNN custom operations", ...) are hidden
when TensorFlow is first imported, unless you set ``TF_CPP_MIN_LOG_LEVEL``
yourself.

The modules, each small enough to read in one sitting:

- ``cnnlearn.data``      Kaggle CSVs, the bundled 5,000-digit sample, splits, submissions
- ``cnnlearn.ops``       convolution, pooling, dropout, softmax, crossentropy in NumPy
- ``cnnlearn.models``    the CNN architectures (Keras)
- ``cnnlearn.augment``   data augmentation with Keras preprocessing layers
- ``cnnlearn.training``  seeds, the annealer, ``train``
- ``cnnlearn.evaluate``  predictions, accuracy, confusion matrix, worst errors
- ``cnnlearn.plots``     every figure the notebooks draw
- ``cnnlearn.settings``  full vs fast mode (``CNNLEARN_FAST=1``)
"""

import importlib

from cnnlearn import _quiet

_quiet.silence_tensorflow()

__version__ = "0.1.0"

_SUBMODULES = {
    "augment", "data", "evaluate", "exercises", "models", "ops", "plots",
    "recipes", "settings", "training",
}


def __getattr__(name):
    # ``cnnlearn.models`` works after a bare ``import cnnlearn`` but only
    # imports TensorFlow when first used.
    if name in _SUBMODULES:
        return importlib.import_module(f"cnnlearn.{name}")
    raise AttributeError(f"module 'cnnlearn' has no attribute {name!r}")


class CnnlearnError(ValueError):
    """An input cnnlearn cannot use: a bad file, path or argument.

    The message names the file (and row/column where it applies) and says
    what was expected.
    """
