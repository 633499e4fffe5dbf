"""Sphinx configuration for the cnnlearn book: `make book` builds it into docs/_build/html.

The book is made of files that live elsewhere in the repository, and nothing is written twice:
- the pages written here (index.md, command.md, api.md, credits.md) include their text from
  README.md, section by section;
- the notebooks, benchmarks/RESULTS.md, data/README.md, notebooks/CONTRIBUTING.md and
  notebooks/kaggle_and_colab.md are mirrored
  into docs/ at every build (hard links where the file system allows, else copies; git ignores
  them, see docs/.gitignore), at the same relative paths as in the repository. So README's relative
  links (notebooks/02_convolution.ipynb, data/README.md, ...) and the notebooks' links to each
  other resolve in the book as they do on the code host. (Symbolic links would not do: Sphinx
  resolves them, and the targets would fall outside the source folder.)

Everything builds and reads offline: the notebooks are shown with their committed outputs
(nbval runs them; the book does not), and MathJax is served from the book's own _static folder.
"""

import os
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))  # the library for autodoc, also without `pip install -e .`

# The repository's files that are pages of the book: (folder, pattern), mirrored into docs/folder.
SHARED = [
    ("notebooks", "[0-9][0-9]_*.ipynb"),
    ("notebooks", "CONTRIBUTING.md"),
    ("notebooks", "kaggle_and_colab.md"),
    ("benchmarks", "RESULTS.md"),
    ("data", "README.md"),
]


def mirror_shared_files():
    """Make docs/<folder>/<file> the repository's <folder>/<file>, and drop mirrors of removed files."""
    for folder in sorted({folder for folder, _ in SHARED}):
        sources = {p.name: p for f, pattern in SHARED if f == folder for p in (ROOT / folder).glob(pattern)}
        mirror = DOCS / folder
        mirror.mkdir(exist_ok=True)
        for stale in mirror.iterdir():
            if stale.name not in sources and (stale.is_file() or stale.is_symlink()):
                stale.unlink()
        for name, source in sources.items():
            target = mirror / name
            if target.exists() and not target.is_symlink() and target.samefile(source):
                continue  # already a hard link to it
            target.unlink(missing_ok=True)
            try:
                os.link(source, target)
            except FileExistsError:  # a build running beside this one linked it first
                pass
            except OSError:  # another file system, or no hard links: copy (modification time kept)
                shutil.copy2(source, target)


mirror_shared_files()

project = "cnnlearn"
author = "the cnnlearn authors"
copyright = "the cnnlearn authors"
html_title = "cnnlearn"

extensions = [
    "myst_nb",  # notebooks and MyST Markdown (it brings myst_parser)
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",  # numpy-style docstrings
    "sphinx.ext.mathjax",
    "sphinx-mathjax-offline",  # MathJax's files copied into _static: no CDN
]

root_doc = "index"
# Only these files are pages (the mirrored folders hold nothing else, but say so plainly).
include_patterns = [
    "index.md",
    "command.md",
    "api.md",
    "credits.md",
    "notebooks/[0-9][0-9]_*.ipynb",
    "notebooks/CONTRIBUTING.md",
    "notebooks/kaggle_and_colab.md",
    "benchmarks/RESULTS.md",
    "data/README.md",
]
exclude_patterns = ["_build", "**/.ipynb_checkpoints"]

# Notebooks: the committed outputs, never executed here.
nb_execution_mode = "off"
# Notebook 10's widgets need a live kernel; their state is not replayed on the site (that would load
# require.js and the widget manager from a CDN), and the notebook shows static figures beside them.
nb_ipywidgets_js = {}
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
myst_heading_anchors = 3
# Pages made of README sections start below H1 or skip a level, as the README does.
suppress_warnings = ["myst.header"]

# API reference from the numpy-style docstrings.
autodoc_member_order = "bysource"
autodoc_typehints = "none"  # the docstrings say what each argument is
autodoc_default_options = {"members": True}
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_param = False  # parameter types as text: "array, shape (n, 28, 28)" is not a class name
napoleon_use_rtype = False
napoleon_use_ivar = True
autodoc_inherit_docstrings = False  # Keras's own docstrings (e.g. Callback.on_epoch_end) are not ours
# Names the docstrings mention that the reference has no entry for (undocumented or private).
nitpick_ignore = [("py:data", "RECIPES"), ("py:data", "EXIT_CODES"), ("py:func", "_style")]


html_theme = "sphinx_book_theme"
html_theme_options = {
    "home_page_in_toc": True,
    "show_navbar_depth": 1,
    "show_toc_level": 2,
    "use_download_button": True,
    "use_fullscreen_button": False,
    "use_repository_button": False,
    "navbar_persistent": [],  # the sidebar has the search field: no second one in a header bar
}
# Follow the reader's light or dark setting (the theme logs a console error without a default).
html_context = {"default_mode": "auto"}
html_last_updated_fmt = None
html_show_sourcelink = True


_constant_docs = {}


def _keep_constant_docs(app, what, name, obj, options, lines):
    """A constant's ``#:`` comment is prose; napoleon would read "Some words: more" as a type."""
    if what in ("data", "attribute"):
        _constant_docs[name] = list(lines)


def _restore_constant_docs(app, what, name, obj, options, lines):
    if what in ("data", "attribute") and name in _constant_docs:
        lines[:] = _constant_docs.pop(name)


def setup(app):
    app.connect("autodoc-process-docstring", _keep_constant_docs, priority=400)  # before napoleon (500)
    app.connect("autodoc-process-docstring", _restore_constant_docs, priority=600)  # and after it
