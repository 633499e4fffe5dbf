# cnnlearn: `make demo` trains a CNN in a minute or two; `make test` runs every test and notebook.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.cnnlearn-installed
# Notebooks under test run in fast mode: same cells, less data, fewer epochs.
# Two workers (pytest-xdist): each notebook, and each test module, stays on one worker (loadscope), in
# order, sharing its module's fixtures. `-n 0` on the command line runs serially.
XDIST  := -n auto --dist loadscope
NBVAL  := --nbval-lax --nbval-current-env --nbval-kernel-startup-timeout=120 \
          --nbval-cell-timeout=600 --nbval-sanitize-with=notebooks/sanitize.cfg

.PHONY: setup test test-claims test-oldest test-lib demo lab book notebooks wheel bench clean

# Create .venv and install cnnlearn with its dev and docs extras; redone only when pyproject.toml changes.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[dev,docs]"
	touch $(STAMP)

setup: $(STAMP)

test: setup
	CNNLEARN_FAST=1 MPLBACKEND=Agg $(BIN)/python -m pytest tests notebooks $(XDIST) $(NBVAL) --durations=15

# The lessons' claims about training once more, under another seed and TensorFlow's own kernels
# (oneDNN off): every notebook that trains, and the exercises that train, in fast mode. CI runs it too.
CLAIMS := $(filter-out notebooks/00_the_data.ipynb,$(wildcard notebooks/[0-9]*.ipynb)) \
          $(filter-out tests/test_exercises_jupyterlab.py,$(wildcard tests/test_exercises*.py)) tests/test_solutions.py
test-claims: setup
	CNNLEARN_SEED=1 TF_ENABLE_ONEDNN_OPTS=0 CNNLEARN_FAST=1 MPLBACKEND=Agg $(BIN)/python -m pytest $(CLAIMS) $(XDIST) $(NBVAL)

# Everything once more on the oldest TensorFlow and Keras that pyproject.toml allows (its `>=` floors,
# pinned to those minor releases), in a venv of its own. The newest end is what `make setup` installs.
# The Python-range test is left out: it asks the *newest* TensorFlow which Pythons it supports.
OLDEST := .venv-oldest
test-oldest:
	test -x $(OLDEST)/bin/python || $(PYTHON) -m venv $(OLDEST)
	sed -n 's/^ *"\(tensorflow\|keras\)>=\([0-9.]*\)",*$$/\1==\2.*/p' pyproject.toml > $(OLDEST)/floors.txt
	$(OLDEST)/bin/python -m pip install --quiet --disable-pip-version-check -c $(OLDEST)/floors.txt -e ".[dev,docs]"
	$(OLDEST)/bin/python -c "import tensorflow as tf, keras; print('TensorFlow', tf.__version__, 'Keras', keras.__version__)"
	CNNLEARN_FAST=1 MPLBACKEND=Agg $(OLDEST)/bin/python -m pytest tests notebooks $(XDIST) $(NBVAL) \
	  --deselect tests/test_environment.py::test_python_range_is_one_tensorflow_supports

test-lib: setup
	MPLBACKEND=Agg $(BIN)/python -m pytest tests

demo: setup
	$(BIN)/cnnlearn train --demo

lab: setup
	$(BIN)/jupyter lab notebooks/

# The series as a website, from the committed notebooks (not executed), offline: docs/_build/html.
book: setup
	$(BIN)/python -m sphinx -n --keep-going -b html docs docs/_build/html
	@echo "The book: open docs/_build/html/index.html in a browser"

# cnnlearn as a wheel, for a notebook outside a clone (Kaggle, Colab): dist/cnnlearn-*.whl.
wheel: setup
	rm -rf dist && $(BIN)/python -m pip wheel --no-deps --no-build-isolation --disable-pip-version-check -q -w dist .
	@ls dist/cnnlearn-*.whl

# Execute every notebook in place in full mode, so the committed copies show real outputs.
notebooks: setup
	cd notebooks && for nb in [0-9]*.ipynb; do \
	  echo "== $$nb"; \
	  ../$(BIN)/jupyter nbconvert --to notebook --execute --inplace \
	    --ExecutePreprocessor.timeout=3600 --ExecutePreprocessor.kernel_name=python3 $$nb || exit 1; \
	done

clean:
	rm -rf $(VENV) $(OLDEST) .pytest_cache runs dist docs/_build docs/notebooks docs/benchmarks docs/data
