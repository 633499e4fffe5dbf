"""Hide TensorFlow's C++ start-up log lines ("Could not find cuda drivers", "oneDNN ...").

``TF_CPP_MIN_LOG_LEVEL=3`` hides most of them, but a few are written before
that setting is read. So the first ``import tensorflow`` runs with the
process's stderr (file descriptor 2) pointed at /dev/null, through an import
hook; Python exceptions raised by the import still reach you.
"""

import contextlib
import importlib.machinery
import os
import sys

_MARKER = "CNNLEARN_SET_TF_CPP_MIN_LOG_LEVEL"  # the level was set by cnnlearn, not by the user


@contextlib.contextmanager
def _stderr_to_devnull():
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real fd 2 (some embedded consoles)
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(devnull)
        os.close(saved)


class _QuietTensorFlowImport:
    """A meta-path finder: finds ``tensorflow`` as usual but runs its import muted, then steps aside."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "tensorflow":
            return None
        sys.meta_path.remove(self)
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is not None and spec.loader is not None:
            load = spec.loader.exec_module

            def exec_module(module):
                with _stderr_to_devnull():
                    load(module)

            spec.loader.exec_module = exec_module
        return spec


def silence_tensorflow():
    """Quiet TensorFlow's start-up, unless the user chose a log level.

    A child process (e.g. from ``multiprocessing``) inherits the level that
    cnnlearn set in its parent; the marker tells it apart from a user's choice.
    """
    if "TF_CPP_MIN_LOG_LEVEL" in os.environ and os.environ.get(_MARKER) != "1":
        return
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    os.environ[_MARKER] = "1"
    if "tensorflow" not in sys.modules and not any(isinstance(f, _QuietTensorFlowImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _QuietTensorFlowImport())
