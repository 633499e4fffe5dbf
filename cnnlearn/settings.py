"""Full mode and fast mode.

Notebooks and the test suite run the same cells in two modes:

- full mode (the default): all the data found (Kaggle's 42,000 digits if
  they are in ``data/``, else the bundled 5,000) and epochs that make sense
  on a laptop CPU;
- fast mode (``CNNLEARN_FAST=1``): a small slice of the data and few
  epochs, so CI can run every notebook in minutes.

Cells never test the mode themselves; they ask this module for sizes:

>>> from cnnlearn import settings
>>> epochs = settings.pick(full=10, fast=2)

Every run that trains starts from one seed, ``CNNLEARN_SEED`` (default 0), so that a
learner, or a check of the lessons' claims, can rerun a notebook with another seed without
editing its cells: ``training.set_seed(settings.SEED)``.
"""

import os

FAST = os.environ.get("CNNLEARN_FAST", "").strip().lower() in {"1", "true", "yes", "on"}



def _seed(text):
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"CNNLEARN_SEED must be a whole number such as 0 or 1, got {text!r}") from None


#: The seed every notebook and training experiment starts from (``CNNLEARN_SEED``, default 0).
SEED = _seed(os.environ.get("CNNLEARN_SEED", "0").strip() or "0")

#: How many training digits fast mode keeps (None: keep them all).
FAST_TRAIN_DIGITS = 2000


def pick(full, fast):
    """Return ``fast`` in fast mode and ``full`` otherwise."""
    return fast if FAST else full


def mode():
    """``"fast"`` or ``"full"``."""
    return "fast" if FAST else "full"


def describe():
    """One line for the top of a notebook: the mode, what it means, how to switch."""
    seed = f" Seed {SEED} (CNNLEARN_SEED sets another)."
    if FAST:
        return "Running in fast mode (CNNLEARN_FAST is set): a slice of the digits, few epochs." + seed
    return "Running in full mode: all the digits, all the epochs. CNNLEARN_FAST=1 gives a quick run." + seed
