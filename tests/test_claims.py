"""cnnlearn.claims (a claim checked with a margin, logged for the benchmark) and benchmarks/claims.py."""

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from cnnlearn import claims

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import claims as claims_script  # noqa: E402


@pytest.fixture(autouse=True)
def no_claims_log(monkeypatch):
    """These tests check claims that fail on purpose: keep them out of a benchmark's log."""
    monkeypatch.delenv("CNNLEARN_CLAIMS_LOG", raising=False)


def test_margin_is_the_distance_inside_the_bound():
    assert claims.margin(0.7, below=0.85) == pytest.approx(0.15)
    assert claims.margin(0.9, above=0.85) == pytest.approx(0.05)
    assert claims.margin(0.5, below=0.6, above=0.45) == pytest.approx(0.05)  # the nearer bound
    assert claims.margin(1.0, below=0.85) == pytest.approx(-0.15)
    with pytest.raises(ValueError, match="give a bound"):
        claims.margin(1.0)


def test_check_passes_silently_and_fails_naming_the_claim():
    assert claims.check("loss gap ratio", 0.7, below=0.85) is None  # no Out[] under a notebook cell
    with pytest.raises(AssertionError, match=r"claim failed: loss gap ratio: measured 0.9, expected below 0.85"):
        claims.check("loss gap ratio", 0.9, below=0.85)
    with pytest.raises(AssertionError, match="expected below 1 and above 0.5"):
        claims.check("a share", 0.2, below=1, above=0.5)


def test_check_logs_every_check_passed_or_not(tmp_path, monkeypatch):
    log = tmp_path / "checks.jsonl"
    monkeypatch.setenv("CNNLEARN_CLAIMS_LOG", str(log))
    claims.check("holds", 1.0, above=0.5)
    with pytest.raises(AssertionError):
        claims.check("fails", 0.0, above=0.5)
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(r["claim"], r["margin"]) for r in records] == [("holds", 0.5), ("fails", -0.5)]
    assert {"seed", "mode", "value", "below", "above"} <= set(records[0])


def test_nothing_is_logged_without_the_variable(tmp_path, monkeypatch):
    monkeypatch.delenv("CNNLEARN_CLAIMS_LOG", raising=False)
    monkeypatch.chdir(tmp_path)
    claims.check("holds", 1.0, above=0.5)
    assert list(tmp_path.iterdir()) == []


def test_the_benchmark_runs_a_notebook_per_seed_and_reports_the_smallest_margin(tmp_path, monkeypatch, capsys):
    (tmp_path / "notebooks").mkdir()
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "from cnnlearn import claims, settings\n"
        "claims.check('seed is even', settings.SEED % 2, below=0.5)\n"), nbformat.v4.new_code_cell("1 / 0")])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, tmp_path / "notebooks" / "01_tiny.ipynb")
    monkeypatch.setattr(claims_script, "ROOT", tmp_path)
    log = tmp_path / "log.jsonl"
    code = claims_script.main(["--seeds", "0", "1", "--log", str(log)])
    out = capsys.readouterr().out
    assert code == 1  # seed 1 breaks the claim, and a cell raised
    assert "| 01 | fast | seed is even | below 0.5 | 0 to 1 | -0.5 to 0.5 | 2 | **-0.5** |" in out
    assert "RESULT claims=1 configurations=2 failed=1" in out
    assert "problem: notebooks/01_tiny.ipynb cell 1: ZeroDivisionError" in out
    assert claims_script.main(["--report", str(log)]) == 1  # the same table from the log alone
    assert "failed=1" in capsys.readouterr().out



def test_the_seed_comes_from_cnnlearn_seed_and_a_bad_one_is_named():
    run = [sys.executable, "-c", "from cnnlearn import settings; print(settings.SEED); print(settings.describe())"]
    for value, seed in [(None, 0), ("", 0), ("3", 3)]:
        env = {k: v for k, v in os.environ.items() if k != "CNNLEARN_SEED"}
        env.update({} if value is None else {"CNNLEARN_SEED": value})
        out = subprocess.run(run, capture_output=True, text=True, env=env, check=True).stdout.splitlines()
        assert out[0] == str(seed) and f"Seed {seed} (CNNLEARN_SEED sets another)." in out[1]
    bad = subprocess.run(run, capture_output=True, text=True, env={**os.environ, "CNNLEARN_SEED": "one"})
    assert bad.returncode != 0
    assert "CNNLEARN_SEED must be a whole number such as 0 or 1, got 'one'" in bad.stderr


# The main claims, and the value each would measure with its technique removed: the two runs
# would then be one run (same seed, same digits), so a ratio of them is 1 and a difference 0.
WITHOUT_THE_TECHNIQUE = [
    ("01", "MLP with ReLU - the better linear model", 0.0),
    ("01", "CNN - MLP, validation accuracy", 0.0),
    ("01", "shuffled pixels: CNN's loss - MLP's loss", 0.0),
    ("03", "seconds per step, without pooling / with", 1.0),
    ("03", "change after pooling - before, the largest over shifts and both blocks", 0.0),
    ("04", "mean over the seeds: loss gap, with dropout / without", 1.0),
    ("04", "last validation loss, with dropout / without", 1.0),
    ("04", "validation loss, early stopped / full run", 1.0),
    ("06", "last epoch's training loss, annealer / constant", 1.0),
    ("06", "last epoch's validation loss, annealer - constant", 0.0),
    ("06", "last epoch's validation accuracy, annealer - constant", 0.0),
    ("06", "final val. loss: the worst schedule from 0.1 - the constant 0.1", 0.0),
    ("07", "moved validation digits, rotate/zoom/shift - none", 0.0),
    ("07", "gap, rotate/zoom/shift - none", 0.0),
    ("08", "training loss, mean over the epochs, with BatchNorm / without", 1.0),
    ("09", "validation accuracy, transfer (fine-tuned) - from scratch", 0.0),
]


def literal_claims(notebook):
    """{claim: (below, above)} for each ``claims.check("...", value, below=..., above=...)`` in a
    notebook whose claim and bounds are written as literals."""
    found = {}
    for cell in nbformat.read(notebook, as_version=4).cells:
        if cell.cell_type != "code" or "claims.check" not in cell.source:
            continue
        for node in ast.walk(ast.parse(cell.source)):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "check"
                    and isinstance(node.func.value, ast.Name) and node.func.value.id == "claims"
                    and isinstance(node.args[0], ast.Constant)):
                try:
                    bounds = {k.arg: ast.literal_eval(k.value) for k in node.keywords if k.arg in ("below", "above")}
                except ValueError:  # a bound computed in the cell (``below=epochs - 1``)
                    continue
                found[node.args[0].value] = (bounds.get("below"), bounds.get("above"))
    return found


@pytest.mark.parametrize("prefix, claim, removed", WITHOUT_THE_TECHNIQUE,
                         ids=[f"{p}-{c[:40]}" for p, c, _ in WITHOUT_THE_TECHNIQUE])
def test_a_main_claim_fails_with_its_technique_removed(prefix, claim, removed):
    (notebook,) = Path(__file__).resolve().parents[1].glob(f"notebooks/{prefix}_*.ipynb")
    found = literal_claims(notebook)
    assert claim in found, f"{notebook.name} no longer checks {claim!r}: update this list"
    below, above = found[claim]
    with pytest.raises(AssertionError, match="claim failed"):
        claims.check(claim, removed, below=below, above=above)
