"""The book (`make book`): a strict offline build, its links, its pages, and a real browser reading it.

The site is built once per session into a temporary folder with the same configuration as
`make book` (docs/conf.py), but strictly: `sphinx-build -nW --keep-going`, any warning fails.
The browser tests open it from file://, as a reader would after `make book`, in headless Chromium
(see the ``browser`` fixture in conftest.py), and leave screenshots in docs/_build/screenshots.
"""

import json
import re
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from bs4 import BeautifulSoup

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
CHAPTERS = [f"notebooks/{nb.stem}.html" for nb in NOTEBOOKS]
MATH_CHAPTER = "notebooks/05_crossentropy_and_gradient_descent.html"  # formulas and figures
BUILD_TIMEOUT = 600
PAGE_TIMEOUT = 60


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Build the book strictly; return (html folder, sphinx-build's output, seconds)."""
    out = tmp_path_factory.mktemp("book")
    command = [sys.executable, "-m", "sphinx", "-nW", "--keep-going", "-E", "-q", "-b", "html",
               "-d", str(out / "doctrees"), str(ROOT / "docs"), str(out / "html")]
    start = time.monotonic()
    result = subprocess.run(command, capture_output=True, text=True, timeout=BUILD_TIMEOUT, cwd=ROOT)
    seconds = time.monotonic() - start
    return out / "html", result, seconds


@pytest.fixture(scope="module")
def site(built):
    html, result, _ = built
    if result.returncode != 0:
        pytest.fail(f"the book did not build (exit {result.returncode}):\n{result.stderr[-4000:]}")
    return html


def soup(path):
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def first_heading(notebook):
    for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] == "markdown" and source.startswith("# "):
            return source.splitlines()[0][2:].strip()
    raise AssertionError(f"{notebook.name} has no '# title' in a markdown cell")


def words(text):
    """Text with its spaces collapsed and Sphinx's typographic quotes made plain again."""
    text = text.translate(str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'}))
    return re.sub(r"\s+", " ", text).strip()


# --------------------------------------------------------------------------
# The build and the HTML
# --------------------------------------------------------------------------

def test_the_book_builds_strictly_without_warnings(built):
    _, result, seconds = built
    print(f"book built in {seconds:.1f} s")
    assert result.returncode == 0, result.stderr[-4000:]
    assert "WARNING" not in result.stderr and "ERROR" not in result.stderr, result.stderr[-4000:]


def test_the_chapters_are_the_notebooks_numbered_from_00_without_gaps():
    assert len(NOTEBOOKS) >= 9
    assert [nb.name[:2] for nb in NOTEBOOKS] == [f"{i:02d}" for i in range(len(NOTEBOOKS))]


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda nb: nb.stem)
def test_every_notebook_has_a_page_with_its_title_and_figures(site, notebook):
    page = site / "notebooks" / f"{notebook.stem}.html"
    assert page.is_file(), f"no page for {notebook.name}"
    html = soup(page)
    assert words(html.select_one("article h1").get_text()).rstrip("#").strip() == first_heading(notebook)
    figures = [img["src"] for img in html.select("article img")]
    assert figures, f"{page.name} shows no figure"
    for src in figures:
        image = (page.parent / unquote(src)).resolve()
        assert image.is_file() and image.stat().st_size > 1000, src


@pytest.mark.parametrize("page", ["index.html", "api.html", *CHAPTERS])
def test_the_navigation_lists_every_chapter_in_order(site, page):
    path = site / page
    nav = soup(path).select_one("nav.bd-docs-nav")
    assert nav is not None, f"{page} has no navigation"
    linked = []
    for a in nav.select("a[href]"):
        target = path if a["href"] in ("#", "") else (path.parent / urlsplit(a["href"]).path).resolve()
        linked.append(target.relative_to(site.resolve()).as_posix())
    assert [p for p in linked if re.match(r"notebooks/[0-9][0-9]_", p)] == CHAPTERS


def test_the_landing_page_shares_the_readme_and_its_links_work(site):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    lead = words(readme.split("\n## ")[0].split("\n", 1)[1])  # the paragraph under "# cnnlearn"
    lead = re.sub(r"[*_`]", "", re.sub(r"\[([^]]*)\]\([^)]*\)", r"\1", lead))  # Markdown -> text
    index = soup(site / "index.html")
    assert lead in words(index.select_one("article").get_text()), lead
    hrefs = {a["href"] for a in index.select("article a[href]")}
    # README's links to the notebooks and to data/README.md lead to the book's pages.
    assert set(CHAPTERS) <= hrefs, sorted(hrefs)
    assert "data/README.html" in hrefs
    assert not [h for h in hrefs if h.endswith((".ipynb", ".md")) and not urlsplit(h).scheme], hrefs
    # ... and each row's "open in" links to Kaggle and Colab stay addresses of the notebook on the code host.
    assert sum(h.startswith("https://colab.research.google.com/github/") for h in hrefs) == len(CHAPTERS)


def test_the_reference_pages_are_there(site):
    api = soup(site / "api.html")
    for name in ["cnnlearn.ops.conv2d", "cnnlearn.models.build_cnn", "cnnlearn.training.set_seed",
                 "cnnlearn.data.load_sample", "cnnlearn.exercises.questions.Question"]:
        assert api.find(id=name), f"the API reference has no entry {name}"
    results = soup(site / "benchmarks" / "RESULTS.html")
    assert "Benchmark results" in results.select_one("article h1").get_text()


def test_every_internal_link_resolves(site):
    """Every local href/src in every page points to a file of the site, and every #anchor exists."""
    pages = sorted(p for p in site.rglob("*.html") if p.relative_to(site).parts[0] not in ("_static", "_sources"))
    ids = {page.resolve(): {tag["id"] for tag in soup(page).select("[id]")} for page in pages}
    broken = []
    for page in pages:
        for tag in soup(page).select("[href], [src]"):
            link = tag.get("href") or tag.get("src")
            parts = urlsplit(link)
            if parts.scheme or parts.netloc or link.startswith("//"):
                continue  # an external address (http, mailto) or data:; not checked offline
            target = (page.parent / unquote(parts.path)).resolve() if parts.path else page.resolve()
            if not target.exists():
                broken.append(f"{page.relative_to(site)}: {link} (no such file)")
            elif parts.fragment and target.suffix == ".html" and unquote(parts.fragment) not in ids[target]:
                broken.append(f"{page.relative_to(site)}: {link} (no such anchor)")
    assert not broken, "\n".join(sorted(set(broken)))


def test_the_site_reads_offline(site):
    """No page loads anything from the network; MathJax is the book's own copy."""
    remote = []
    for page in site.rglob("*.html"):
        for tag in soup(page).select("script[src], link[href], img[src], iframe[src]"):
            link = tag.get("src") or tag.get("href")
            if tag.name == "link" and not {"stylesheet", "preload", "icon"} & set(tag.get("rel", [])):
                continue
            if urlsplit(link).scheme in ("http", "https") or link.startswith("//"):
                remote.append(f"{page.relative_to(site)}: <{tag.name}> {link}")
    assert not remote, "\n".join(remote)
    scripts = [s["src"] for s in soup(site / MATH_CHAPTER).select("script[src]") if "mathjax" in s["src"].lower()]
    assert scripts and all(s.startswith("../_static/mathjax/") for s in scripts), scripts
    assert (site / "_static" / "mathjax" / "tex-chtml.js").is_file()


# --------------------------------------------------------------------------
# A real browser, from file://
# --------------------------------------------------------------------------

def open_page(driver, path):
    """Load a page from file:// and wait (bounded) until it, its images and its formulas are done."""
    driver.get_log("browser")  # forget earlier pages' messages
    driver.get(path.as_uri())
    driver.execute_async_script(
        """const done = arguments[arguments.length - 1];
        const images = [...document.images].map(img => img.decode().catch(() => null));
        const math = window.MathJax && MathJax.startup ? MathJax.startup.promise : Promise.resolve();
        Promise.all([...images, math]).then(() => done(true));""")


def loaded_images(driver):
    return driver.execute_script(
        "return [...document.images].map(img => [img.getAttribute('src'), img.complete && img.naturalWidth]);")


def console_errors(driver):
    return [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def test_the_landing_page_in_a_browser(site, browser, screenshots):
    open_page(browser, site / "index.html")
    assert browser.title.startswith("cnnlearn")
    assert all(width for _, width in loaded_images(browser)), loaded_images(browser)
    chapters = browser.execute_script(
        "return [...document.querySelectorAll('nav.bd-docs-nav a')].filter(a => a.offsetParent)"
        ".map(a => a.textContent.trim()).filter(t => /^\\d\\d /.test(t));")
    assert [t[:2] for t in chapters] == [nb.name[:2] for nb in NOTEBOOKS], chapters  # visible, in order
    browser.save_screenshot(str(screenshots / "book_landing.png"))
    assert not console_errors(browser)


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_every_chapter_shows_its_figures_and_formulas_in_a_browser(site, browser, screenshots, chapter):
    open_page(browser, site / chapter)
    images = loaded_images(browser)
    assert images and all(width for _, width in images), f"images that did not load: {images}"
    math = browser.execute_script(
        "return [document.querySelectorAll('mjx-container').length, document.querySelectorAll('mjx-merror').length,"
        " document.querySelectorAll('article .math').length];")
    rendered, errors, formulas = math
    assert rendered >= formulas and not errors, f"{formulas} formulas, {rendered} rendered, {errors} errors"
    assert not console_errors(browser)
    if chapter == MATH_CHAPTER:
        assert rendered > 5
        browser.save_screenshot(str(screenshots / "book_chapter.png"))
        browser.execute_script("document.querySelector('mjx-container[display=\"true\"]')"
                               ".scrollIntoView({block: 'start'}); window.scrollBy(0, -120);")
        browser.save_screenshot(str(screenshots / "book_chapter_formula.png"))
        browser.execute_script("document.querySelector('article img').scrollIntoView({block: 'center'});")
        browser.save_screenshot(str(screenshots / "book_chapter_figure.png"))
