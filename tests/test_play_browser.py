"""Notebook 10's drawing pad and kernel explorer in a real JupyterLab, in headless Chromium.

nbval runs notebook 10 without a browser, where the widgets are only their text repr. Here the
browser opens it in JupyterLab (served from a temporary copy, by test_jupyterlab's fixture), runs
its cells up to the widgets, draws a stroke on the ipycanvas pad with mouse events and checks that
the shown prediction goes from "draw something first" to a digit; then moves a kernel slider and
checks that the feature-map image changes. Every wait is bounded; the server and the browser are
stopped by what started them. Screenshots are kept in the screenshots folder.
"""

import re
import time

import pytest

from test_jupyterlab import (  # noqa: F401  (jupyterlab is a fixture)
    CELL_TIMEOUT, cell, jupyterlab, open_notebook, output_text, run_cell, wait_for,
)

NOTEBOOK = "10_play.ipynb"
PAD_LINE = "pad = Canvas("
KNOBS_LINE = "knobs = [widgets.FloatSlider("


def code_cells(driver):
    """Indices (among all cells) of the code cells, and of the ones holding the pad and the knobs."""
    return driver.execute_script(
        "const cells = [...document.querySelectorAll('.jp-Notebook .jp-Cell')];"
        "const text = c => (c.querySelector('.cm-content') || {}).textContent || '';"
        "return cells.map((c, i) => [i, c.classList.contains('jp-CodeCell'), text(c)])"
        "  .filter(x => x[1]).map(x => [x[0], x[2].includes(arguments[0]), x[2].includes(arguments[1])]);",
        PAD_LINE, KNOBS_LINE)


def image_src(driver, index):
    return driver.execute_script(
        "const img = document.querySelectorAll('.jp-Notebook .jp-Cell')[arguments[0]]"
        "  .querySelector('.jp-OutputArea img');"
        "return img && img.naturalWidth > 0 ? img.src : null;", index)


def test_draw_a_digit_and_turn_a_kernel_knob_in_jupyterlab(browser, jupyterlab, screenshots):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    base, token = jupyterlab
    driver = browser
    started = time.monotonic()
    try:
        open_notebook(driver, base, token, NOTEBOOK)
        cells = code_cells(driver)
        pad = next(i for i, is_pad, _ in cells if is_pad)
        knobs = next(i for i, _, is_knobs in cells if is_knobs)
        # Run every code cell up to and including the knobs, in order, as a learner would.
        for count, (index, _, _) in enumerate([c for c in cells if c[0] <= knobs], start=1):
            run_cell(driver, index, count)

        # The pad: empty state first.
        canvas = wait_for(lambda: (cell(driver, pad).find_elements(By.CSS_SELECTOR, ".jp-OutputArea canvas")
                                   or [None])[-1], CELL_TIMEOUT, "the drawing pad's canvas")
        assert "draw something first" in output_text(driver, pad), output_text(driver, pad)
        assert "Prediction" not in output_text(driver, pad)
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", canvas)
        time.sleep(1)
        cell(driver, pad).screenshot(str(screenshots / "play_pad_empty.png"))

        # One stroke through mouse events: a vertical line down the middle, a "1".
        actions = ActionChains(driver, duration=20)
        actions.move_to_element_with_offset(canvas, 0, -90).click_and_hold()
        for _ in range(18):
            actions.move_by_offset(0, 10)
        actions.release().perform()
        shown = wait_for(lambda: re.search(r"Prediction: (\d)", output_text(driver, pad)), 60,
                         "the prediction to appear after a stroke")
        assert 0 <= int(shown.group(1)) <= 9
        wait_for(lambda: image_src(driver, pad), 30, "the probability chart")
        cell(driver, pad).screenshot(str(screenshots / "play_pad_drawn.png"))

        # The kernel explorer: move the first slider; the feature-map image must change.
        before = wait_for(lambda: image_src(driver, knobs), 60, "the kernel explorer's feature maps")
        handle = cell(driver, knobs).find_elements(By.CSS_SELECTOR, ".jp-OutputArea .noUi-handle")[0]
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", handle)
        ActionChains(driver).drag_and_drop_by_offset(handle, 60, 0).perform()
        after = wait_for(lambda: (image_src(driver, knobs) or before) != before and image_src(driver, knobs),
                         60, "the feature map to change after moving a slider")
        assert after != before
        cell(driver, knobs).screenshot(str(screenshots / "play_kernel_explorer.png"))
        print(f"notebook 10 in the browser: {time.monotonic() - started:.0f} s")
    finally:
        driver.save_screenshot(str(screenshots / "play.png"))  # also, or above all, when it failed
        driver.get("about:blank")
