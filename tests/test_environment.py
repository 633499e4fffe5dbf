"""The environment: environment.yml (conda) must agree with pyproject.toml, the single list of
dependencies, and TensorFlow must start quietly, also in child processes."""

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def pyproject():
    with open(ROOT / "pyproject.toml", "rb") as f:
        return tomllib.load(f)


@pytest.fixture(scope="module")
def conda_env():
    with open(ROOT / "environment.yml", encoding="utf-8") as f:
        return yaml.safe_load(f)


def requirement_name(requirement):
    """'scikit-learn>=1.4' -> 'scikit-learn' (normalised as in PEP 503)."""
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    assert match, f"cannot read a package name in {requirement!r}"
    return re.sub(r"[-_.]+", "-", match.group(1)).lower()


def conda_packages(env):
    return [d for d in env["dependencies"] if isinstance(d, str)]


def pip_section(env):
    sections = [d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d]
    assert len(sections) == 1, "environment.yml needs exactly one 'pip:' section"
    return sections[0]


def test_python_version_matches_pyproject(pyproject, conda_env):
    requires = pyproject["project"]["requires-python"].replace(" ", "")
    specs = [p for p in conda_packages(conda_env) if re.fullmatch(r"python(\W.*)?", p.strip())]
    assert len(specs) == 1, f"expected one python entry, got {specs}"
    spec = specs[0].split("#")[0].strip()[len("python"):].replace(" ", "")
    assert spec == requires


def test_python_range_is_one_tensorflow_supports(pyproject):
    """conda and pip pick the newest Python the range allows: TensorFlow must support every one."""
    from importlib.metadata import metadata

    low, high = re.fullmatch(r">=3\.(\d+),<3\.(\d+)", pyproject["project"]["requires-python"].replace(" ", "")).groups()
    supported = {int(c.rsplit(".", 1)[1]) for c in metadata("tensorflow").get_all("Classifier")
                 if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)}
    assert set(range(int(low), int(high))) <= supported, (low, high, sorted(supported))


def test_pip_is_a_dependency(conda_env):
    assert "pip" in [requirement_name(p) for p in conda_packages(conda_env)]


def test_conda_lists_only_python_and_pip(conda_env):
    assert sorted(requirement_name(p) for p in conda_packages(conda_env)) == ["pip", "python"]


def test_pip_installs_this_project_with_dev_and_docs_extras_and_nothing_else(conda_env):
    """What `make setup` installs: the tests (dev) and the book (docs) need both."""
    entries = pip_section(conda_env)
    assert len(entries) == 1, f"the pip section must only install the project; got {entries}"
    entry = re.sub(r"\s+", " ", entries[0].strip())
    match = re.fullmatch(r"(-e|--editable)[ =]?(['\"]?)\.\/?\[([\w, -]+)\]\2", entry)
    assert match, entry
    assert sorted(extra.strip() for extra in match.group(3).split(",")) == ["dev", "docs"], entry


def test_makefile_installs_the_same_extras():
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"pip install .*-e \"\.\[dev,docs\]\"", makefile), "make setup should install .[dev,docs]"


def test_dev_extra(pyproject):
    dev = {requirement_name(r) for r in pyproject["project"]["optional-dependencies"]["dev"]}
    assert {"pytest", "nbval", "pyyaml", "selenium", "setuptools"} <= dev


def test_docs_extra(pyproject):
    docs = {requirement_name(r) for r in pyproject["project"]["optional-dependencies"]["docs"]}
    assert {"sphinx", "myst-nb", "sphinx-book-theme", "sphinx-mathjax-offline", "beautifulsoup4"} <= docs


def test_runtime_dependencies(pyproject):
    runtime = {requirement_name(r) for r in pyproject["project"]["dependencies"]}
    assert {"tensorflow", "keras", "mlxtend"} <= runtime


@pytest.mark.parametrize("user_level", [None, "0"])
def test_child_processes_start_tensorflow_quietly_too(user_level):
    """A child inherits the log level cnnlearn set in its parent, and must still hide TF's start-up lines."""
    child = "import cnnlearn, tensorflow"
    parent = f"import cnnlearn, subprocess, sys; subprocess.run([sys.executable, '-c', {child!r}], check=True)"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TF_CPP_MIN_LOG_LEVEL", "CNNLEARN_SET_"))}
    if user_level is not None:
        env["TF_CPP_MIN_LOG_LEVEL"] = user_level  # the user's choice: cnnlearn leaves it alone
    result = subprocess.run([sys.executable, "-c", parent], capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    if user_level is None:
        assert "cuda drivers" not in result.stderr, result.stderr
    else:
        assert "cuda drivers" in result.stderr  # the check above can fail: TensorFlow does print it
