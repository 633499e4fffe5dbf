"""Fixtures shared by the test modules."""

import os
import signal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest


@pytest.fixture(scope="session")
def sample():
    """The bundled 5,000-digit sample (uint8 (5000, 28, 28), int64 labels), loaded once per session."""
    from cnnlearn.data import load_sample

    images, labels = load_sample()
    assert images.shape == (5000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (5000,) and labels.dtype == np.int64
    images.setflags(write=False)  # shared by every test: nobody may change it
    labels.setflags(write=False)
    return images, labels


def write_kaggle_csv(path, images, labels=None):
    """Write digits in Kaggle's format: ``label,pixel0..pixel783`` (or no label column)."""
    from cnnlearn.data import PIXEL_COLUMNS

    frame = pd.DataFrame(np.asarray(images).reshape(len(images), -1), columns=PIXEL_COLUMNS)
    if labels is not None:
        frame.insert(0, "label", labels)
    frame.to_csv(path, index=False)
    return path


@pytest.fixture(scope="session")
def kaggle_dir(tmp_path_factory, sample):
    """A tiny Kaggle-format data folder: train.csv with 300 sample digits, test.csv with 40."""
    from cnnlearn.data import subsample

    folder = tmp_path_factory.mktemp("kaggle")
    images, labels = subsample(*sample, 340, seed=1)
    write_kaggle_csv(folder / "train.csv", images[:300], labels[:300])
    write_kaggle_csv(folder / "test.csv", images[300:])
    return folder


# --------------------------------------------------------------------------
# A real browser: headless Chromium from Debian's chromium and chromium-driver
# packages, driven by Selenium. Used by test_book.py and test_jupyterlab.py.
# --------------------------------------------------------------------------

CHROMIUM = os.environ.get("CNNLEARN_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CNNLEARN_CHROMEDRIVER", "/usr/bin/chromedriver")
# Where the browser tests leave their screenshots (git ignores docs/_build).
SCREENSHOTS = Path(os.environ.get("CNNLEARN_SCREENSHOTS",
                                  Path(__file__).resolve().parents[1] / "docs" / "_build" / "screenshots"))


def browser_missing():
    """Why the browser tests cannot run here, in one line; None when they can."""
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not os.access(path, os.X_OK)]
    if missing:
        return (f"browser tests skipped: {' and '.join(missing)} not found "
                "(apt-get install chromium chromium-driver; .ci/run does)")
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "browser tests skipped: selenium is not installed (pip install -e '.[dev,docs]')"
    return None


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium per test module, its console log kept (``browser.get_log("browser")``).

    The driver and browser paths are given explicitly, so Selenium Manager never runs (it would
    try to download a driver). Skips, with one line saying why, where no browser is installed.
    """
    reason = browser_missing()
    if reason:
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--window-size=1280,1200", "--hide-scrollbars", "--no-first-run",
                     "--disable-extensions", "--disable-background-networking", "--disable-sync",
                     "--lang=en-US"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(executable_path=CHROMEDRIVER)
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(60)
    try:
        yield driver
    finally:
        driver_pid = service.process.pid if service.process else None
        try:
            driver.quit()  # closes Chromium, then stops chromedriver
        finally:
            if driver_pid is not None and service.process.poll() is None:
                os.kill(driver_pid, signal.SIGKILL)
                service.process.wait(timeout=10)


@pytest.fixture(scope="session")
def screenshots():
    """The folder for the browser tests' screenshots: test artefacts, kept after the run."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


def pytest_report_header(config):
    reason = browser_missing()
    return reason or f"browser tests: headless {CHROMIUM} driven through {CHROMEDRIVER}"
