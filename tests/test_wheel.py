"""cnnlearn as a wheel: built from this checkout, unpacked outside it, it carries every module the
notebooks import and runs ``cnnlearn train --fast`` from an empty folder (what a Kaggle or Colab
notebook gets when it installs the wheel instead of cloning the repository)."""

import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def package_modules():
    """Every importable module of the source tree: 'cnnlearn', 'cnnlearn.data', 'cnnlearn.exercises', ..."""
    names = set()
    for path in (ROOT / "cnnlearn").rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        names.add(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names - {"cnnlearn.__main__"}


def notebook_imports():
    """The cnnlearn modules the notebooks' code cells import."""
    found = set()
    for notebook in sorted((ROOT / "notebooks").glob("[0-9]*.ipynb")):
        cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
        code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
        found |= set(re.findall(r"^\s*import (cnnlearn[\w.]*)", code, re.M))
        imports = re.findall(r"^\s*from (cnnlearn[\w.]*) import (?:\(([\w,\s]+)\)|([\w, ]+))", code, re.M)
        for package, in_brackets, on_one_line in imports:
            names = in_brackets or on_one_line
            found.add(package)
            for name in re.split(r"[,\s]+", names.strip()):
                if name and name != "as" and f"{package}.{name}" in package_modules():
                    found.add(f"{package}.{name}")
    return found


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    """The wheel, built without a network from this checkout (the build backend the venv has)."""
    dist = tmp_path_factory.mktemp("dist")
    result = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                             "--disable-pip-version-check", "-q", "-w", str(dist), str(ROOT)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    wheels = list(dist.glob("cnnlearn-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


@pytest.fixture(scope="module")
def unpacked(wheel, tmp_path_factory):
    folder = tmp_path_factory.mktemp("site")
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(folder)
    return folder


def test_the_notebooks_import_only_modules_of_the_package():
    imported = notebook_imports()
    assert {"cnnlearn", "cnnlearn.data", "cnnlearn.exercises.pooling", "cnnlearn.drawing"} <= imported
    assert imported <= package_modules(), imported - package_modules()


def test_the_wheel_carries_every_module_and_the_command(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        entry_points = next(archive.read(n).decode() for n in names if n.endswith(".dist-info/entry_points.txt"))
    in_wheel = {n[:-3].replace("/", ".").removesuffix(".__init__") for n in names if n.endswith(".py")}
    assert package_modules() <= in_wheel, package_modules() - in_wheel
    assert "cnnlearn = cnnlearn.cli:main" in entry_points
    assert not any(n.startswith(("tests/", "notebooks/", "benchmarks/")) for n in names)


def outside_the_repository(unpacked, tmp_path):
    """An environment that finds cnnlearn only in the unpacked wheel, and an empty working folder."""
    env = {k: v for k, v in os.environ.items() if k not in {"CNNLEARN_DATA_DIR", "PYTHONPATH"}}
    env["PYTHONPATH"] = str(unpacked)
    working = tmp_path / "working"
    working.mkdir()
    return env, working


def test_every_module_imports_from_the_unpacked_wheel(unpacked, tmp_path):
    env, working = outside_the_repository(unpacked, tmp_path)
    modules = sorted(package_modules() | notebook_imports())
    script = ("import importlib, cnnlearn\n"
              f"for name in {modules!r}:\n    importlib.import_module(name)\n"
              "print('FROM', cnnlearn.__file__)\n")
    # -I would also drop PYTHONPATH; -P keeps the working folder off sys.path but not the repository's
    # editable install, so the check is on the printed file, not only on a clean exit.
    result = subprocess.run([sys.executable, "-c", script], cwd=working, env=env, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"FROM {unpacked / 'cnnlearn' / '__init__.py'}" in result.stdout


def test_train_fast_from_an_empty_folder_with_the_wheel(unpacked, tmp_path):
    env, working = outside_the_repository(unpacked, tmp_path)
    result = subprocess.run([sys.executable, "-m", "cnnlearn", "train", "--fast", "--epochs", "1", "--out", "run"],
                            cwd=working, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Using the bundled sample" in result.stdout
    assert {"model.keras", "metrics.json", "history.csv"} <= {p.name for p in (working / "run").iterdir()}
