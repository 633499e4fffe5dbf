"""Claims about training, checked with a margin.

A lesson says what a technique does ("dropout narrows the loss gap"); the cell that measured it
checks it in one line::

    claims.check("loss gap, with dropout / without", ratio, below=0.85)

``check`` raises ``AssertionError`` naming the claim, the measured value and its bound when the
claim fails, and returns nothing (so a cell that ends with it shows no output). Its **margin** is how
far the value is inside its bound, in the value's own units (``below - value``, or ``value - above``),
negative when the claim fails: :func:`margin` computes it, and the log records it.

One run is one seed on one CPU. ``benchmarks/claims.py`` reruns the notebooks and the training
exercises with other seeds (``CNNLEARN_SEED``) and other floating-point kernels, and collects every
margin: with ``CNNLEARN_CLAIMS_LOG`` set to a file, each check appends one JSON line to it. Each
bound is set from the spread measured there, with room (``benchmarks/RESULTS.md``, "Claims").
"""

import json
import os

from cnnlearn import settings


def margin(value, below=None, above=None):
    """How far ``value`` is inside its bound(s): ``below - value`` and/or ``value - above``, the
    smaller when both are given. Positive: the claim holds."""
    if below is None and above is None:
        raise ValueError("give a bound: below=..., above=... or both")
    margins = [bound - value for bound in [below] if bound is not None]
    margins += [value - bound for bound in [above] if bound is not None]
    return float(min(margins))


def check(claim, value, below=None, above=None):
    """Check that ``value`` is below ``below`` and/or above ``above``.

    With ``CNNLEARN_CLAIMS_LOG`` set, the check is also appended to that file as one JSON line
    (claim, value, bounds, margin, seed, mode), passed or not.

    Parameters
    ----------
    claim : str
        What is measured, as a reader would say it ("loss gap, with dropout / without").
    value : float
        The measured number.
    below, above : float, optional
        The bounds the claim puts on it (at least one).

    Raises
    ------
    AssertionError
        When the margin (see :func:`margin`) is not positive, naming the claim, value and bounds.
    """
    value = float(value)
    result = margin(value, below, above)
    log = os.environ.get("CNNLEARN_CLAIMS_LOG")
    if log:
        record = {"claim": claim, "value": value, "below": below, "above": above, "margin": result,
                  "seed": settings.SEED, "mode": settings.mode()}
        with open(log, "a") as file:
            file.write(json.dumps(record) + "\n")
    bounds = " and ".join(f"{word} {bound:.4g}" for word, bound in (("below", below), ("above", above))
                          if bound is not None)
    assert result > 0, f"claim failed: {claim}: measured {value:.4g}, expected {bounds}"
