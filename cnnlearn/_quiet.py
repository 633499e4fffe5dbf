"""Hide TensorFlow's C++ start-up log lines.

``TF_CPP_MIN_LOG_LEVEL`` hides most of them, but a few (e.g. "Could not
find cuda drivers on your machine") are written by the C++ logger before
that setting is read. The only way to hide those is to point the process's
stderr (file descriptor 2) at /dev/null while ``tensorflow`` is imported.
We do that once, on the first import of TensorFlow, through an import hook;
Python exceptions raised by the import still reach you.
"""

import contextlib
import importlib.abc
import importlib.machinery
import os
import sys


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


class _MutedLoader(importlib.abc.Loader):
    """Wraps TensorFlow's own loader: runs its import with stderr muted."""

    def __init__(self, loader):
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        with _stderr_to_devnull():
            self.loader.exec_module(module)


class _QuietTensorFlowImport(importlib.abc.MetaPathFinder):
    """Finds ``tensorflow`` as usual, but loads it muted; then steps aside."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "tensorflow":
            return None
        sys.meta_path.remove(self)
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is not None and spec.loader is not None:
            spec.loader = _MutedLoader(spec.loader)
        return spec


_MARKER = "CNNLEARN_SET_TF_CPP_MIN_LOG_LEVEL"  # the level was set by cnnlearn, not by the user


def silence_tensorflow():
    """Quiet TensorFlow's start-up, unless the user chose a log level.

    A child process (e.g. from ``multiprocessing``) inherits the level that
    cnnlearn set in its parent; the marker tells it apart from a user's choice.
    """
    if "TF_CPP_MIN_LOG_LEVEL" in os.environ and os.environ.get(_MARKER) != "1":
        return
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    os.environ[_MARKER] = "1"
    if "tensorflow" not in sys.modules and not any(
        isinstance(f, _QuietTensorFlowImport) for f in sys.meta_path
    ):
        sys.meta_path.insert(0, _QuietTensorFlowImport())
