"""The setup cell at the top of every notebook: the same text everywhere, and the decision it takes in
each situation (cnnlearn there or not, a wheel given or not, TensorFlow and Keras there or not),
checked without a network: pip is replaced by a recorder."""

import importlib.metadata
import importlib.util
import json
import subprocess
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CELL = (ROOT / "notebooks" / "setup_cell.py").read_text(encoding="utf-8")
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_notebook_starts_with_the_setup_cell(path):
    code = [c for c in json.loads(path.read_text(encoding="utf-8"))["cells"] if c["cell_type"] == "code"]
    assert "".join(code[0]["source"]) == CELL.rstrip("\n"), "its first code cell should be notebooks/setup_cell.py"
    assert code[0]["outputs"] == [], "in a clone the setup cell prints nothing"


def test_the_default_source_is_the_repository_in_pyproject():
    with open(ROOT / "pyproject.toml", "rb") as f:
        repository = tomllib.load(f)["project"]["urls"]["Repository"]
    assert f'"cnnlearn @ git+{repository}"' in CELL


@pytest.fixture
def run_cell(monkeypatch):
    """Run the cell in a world of our making: which packages import, their versions, the environment;
    return what it printed, the pip command it ran (or None) and the versions it told pip to keep."""

    def run(importable, versions=None, environ=None, pip_fails=False):
        calls = []

        def fake_pip(command):
            calls.append(command)
            if pip_fails:
                raise subprocess.CalledProcessError(1, command)
            return 0

        monkeypatch.setattr(importlib.util, "find_spec", lambda name: object() if name in importable else None)
        monkeypatch.setattr(importlib.metadata, "version", lambda name: (versions or {})[name])
        monkeypatch.setattr(subprocess, "check_call", fake_pip)
        monkeypatch.delenv("CNNLEARN_SOURCE", raising=False)
        for name, value in (environ or {}).items():
            monkeypatch.setenv(name, value)
        exec(compile(CELL, "setup_cell", "exec"), {"__name__": "__main__"})
        if not calls:
            return None, None
        command = calls[0]
        keep = Path(command[command.index("-c") + 1]).read_text().split()
        return command, keep

    return run


def test_in_a_clone_it_does_nothing(run_cell, capsys):
    assert run_cell({"cnnlearn", "tensorflow", "keras"}) == (None, None)
    assert capsys.readouterr().out == ""


def test_on_kaggle_it_installs_from_the_repository_keeping_tensorflow_and_keras(run_cell, capsys):
    command, keep = run_cell({"tensorflow", "keras"}, {"tensorflow": "2.18.0", "keras": "3.8.0"})
    assert command[1:5] == ["-m", "pip", "install", "-q"]
    assert command[5].startswith("cnnlearn @ git+https://")
    assert keep == ["tensorflow==2.18.0", "keras==3.8.0"]
    assert "kept tensorflow==2.18.0, keras==3.8.0" in capsys.readouterr().out


def test_a_wheel_path_set_by_the_user_is_installed(run_cell, capsys, tmp_path):
    wheel = str(tmp_path / "cnnlearn-0.1.0-py3-none-any.whl")
    command, keep = run_cell({"tensorflow"}, {"tensorflow": "2.21.0"}, {"CNNLEARN_SOURCE": wheel})
    assert command[5] == wheel and keep == ["tensorflow==2.21.0"]
    assert f"Installed cnnlearn from {wheel}" in capsys.readouterr().out


def test_without_tensorflow_pip_may_add_it(run_cell, capsys):
    command, keep = run_cell(set())
    assert command is not None and keep == []
    assert "pip added them" in capsys.readouterr().out


def test_a_failed_install_stops_the_notebook(run_cell, capsys):
    with pytest.raises(subprocess.CalledProcessError):
        run_cell({"keras"}, {"keras": "3.3.0"}, pip_fails=True)
    assert "Installed" not in capsys.readouterr().out


def colab_lines():
    """Notebook 10's lines that turn on Colab's widget manager."""
    cells = json.loads((ROOT / "notebooks" / "10_play.ipynb").read_text(encoding="utf-8"))["cells"]
    source = next("".join(c["source"]) for c in cells if 'if "google.colab" in sys.modules' in "".join(c["source"]))
    lines = source.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith('if "google.colab"'))
    return "import sys\n" + "\n".join(lines[start:start + 3]) + "\n"


@pytest.mark.parametrize("on_colab", [True, False])
def test_notebook_10_enables_colabs_widget_manager_only_on_colab(monkeypatch, on_colab):
    import sys
    import types

    calls = []
    if on_colab:
        colab = types.ModuleType("google.colab")
        colab.output = types.SimpleNamespace(enable_custom_widget_manager=lambda: calls.append("enabled"))
        monkeypatch.setitem(sys.modules, "google", types.ModuleType("google"))
        monkeypatch.setitem(sys.modules, "google.colab", colab)
    else:
        monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    exec(compile(colab_lines(), "10_play", "exec"), {})
    assert calls == (["enabled"] if on_colab else [])
