"""The committed notebooks are what a reader sees on GitHub: check they are clean.

(nbval, run by ``make test``, executes them; these checks read the committed
outputs.)
"""

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
NOISE = re.compile(r"cuda|oneDNN|cpu_feature_guard|absl::|W0000|I0000|E0000|rebuild TensorFlow|"
                   r"computation placer|TF-TRT|Unable to register", re.IGNORECASE)
EXPECTED = [
    "00_the_data", "01_your_first_networks", "02_convolution", "03_pooling", "04_dropout",
    "05_crossentropy_and_gradient_descent", "06_the_annealer", "07_augmentation", "08_digit_recognizer",
    "09_beyond_digits", "10_play",
]
# What JupyterLab writes on save: anything else marks a notebook modified the moment it is opened.
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


def source(path):
    return "\n".join("".join(c["source"]) for c in code_cells(path))


def code_cells(path):
    return [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]


def output_text(output):
    text = output.get("text", "")
    plain = output.get("data", {}).get("text/plain", "")
    return "".join(text) + "".join(plain)


def test_the_series_is_complete():
    assert [p.stem for p in NOTEBOOKS] == EXPECTED


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_was_run_top_to_bottom(path):
    counts = [c["execution_count"] for c in code_cells(path)]
    assert counts and None not in counts, "some code cells were never run"
    assert counts == list(range(1, len(counts) + 1)), f"cells run out of order: {counts}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_outputs_have_no_errors_or_log_noise(path):
    for number, cell in enumerate(code_cells(path), start=1):
        for output in cell.get("outputs", []):
            assert output["output_type"] != "error", f"code cell {number} has an error output"
            assert not NOISE.search(output_text(output)), f"code cell {number} shows TensorFlow log noise"
            if output.get("name") == "stderr":
                assert "Warning" not in output_text(output), f"code cell {number} prints a warning"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_shows_its_figures(path):
    images = sum("image/png" in o.get("data", {}) for c in code_cells(path) for o in c.get("outputs", []))
    assert images >= 1, "no figure in the committed outputs"


def test_readme_links_every_notebook():
    readme = (ROOT / "README.md").read_text()
    for path in NOTEBOOKS:
        assert f"notebooks/{path.name}" in readme, f"README's table of contents misses {path.name}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_has_the_kernel_name_jupyterlab_writes(path):
    assert json.loads(path.read_text())["metadata"]["kernelspec"] == KERNELSPEC


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if p.stem >= "01"], ids=lambda p: p.stem)
def test_every_notebook_from_01_on_compiles_and_fits_its_models_itself(path):
    code = source(path)
    assert "training.train(" not in code and "recipes." not in code, "the library must not train for the learner"
    assert ".compile(" in code and ".fit(" in code


def test_first_networks_writes_the_model_in_the_open():
    code = source(ROOT / "notebooks" / "01_your_first_networks.ipynb")
    for call in ("keras.Sequential(", ".summary()", ".compile(", ".fit(", ".evaluate(", ".predict("):
        assert call in code, call


def open_in_links(path):
    """The Kaggle and Colab addresses that open ``notebooks/<path.name>`` from the repository in pyproject."""
    import tomllib

    with open(ROOT / "pyproject.toml", "rb") as f:
        repository = tomllib.load(f)["project"]["urls"]["Repository"]
    on_github = f"{repository}/blob/main/notebooks/{path.name}"
    return (f"https://kaggle.com/kernels/welcome?src={on_github}",
            on_github.replace("https://github.com/", "https://colab.research.google.com/github/"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_opens_in_kaggle_and_colab_from_its_title_and_the_readme(path):
    kaggle, colab = open_in_links(path)
    title = "".join(json.loads(path.read_text())["cells"][0]["source"])
    assert f"[Open in Kaggle]({kaggle})" in title and f"[Open in Colab]({colab})" in title
    row = next(line for line in (ROOT / "README.md").read_text().splitlines()
               if line.startswith("| ") and f"(notebooks/{path.name})" in line)
    assert f"[Kaggle]({kaggle})" in row and f"[Colab]({colab})" in row
