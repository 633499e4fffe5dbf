"""A learner's exercise in a real JupyterLab, in headless Chromium.

nbval runs every cell but cannot see how an output renders. Here JupyterLab serves a copy of the
notebooks (nothing tracked is touched), the browser opens notebook 02, runs its first exercise with
a wrong answer and then with ``ex.q1.solution()``, and reads what a learner would see: the verdict,
and the solution's code with its indentation. Every wait is bounded; the server and the browser
are stopped by the PIDs this test started.
"""

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = "02_convolution.ipynb"
IMPORT_LINE = "from cnnlearn.exercises import convolution as ex"
EXERCISE_LINE = "ex.q1.check(answer)"
START_TIMEOUT = 120  # seconds for JupyterLab to answer
CELL_TIMEOUT = 180  # seconds for a cell's output (the kernel may still be starting on 2 busy cores)

# JupyterLab's settings for this run: every cell in the page (no windowing), no news or update checks.
SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false",
                                                                         "checkForUpdates": False},
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(condition, timeout, what, interval=0.5):
    """Poll ``condition()`` until it returns something truthy; fail naming ``what`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def open_notebook(driver, base, token, notebook):
    """Open ``notebook`` in the JupyterLab at ``base``; wait until its cells show and its kernel is idle."""
    driver.get(f"{base}/lab/tree/{notebook}?token={token}")
    wait_for(lambda: driver.execute_script(
        "return document.querySelectorAll('.jp-Notebook .jp-Cell .cm-content').length > 10"),
        CELL_TIMEOUT, f"JupyterLab to show {notebook}")
    wait_for(lambda: driver.execute_script(
        "const s = document.querySelector('.jp-Notebook-ExecutionIndicator');"
        "return s && s.getAttribute('data-status') === 'idle';"),
        CELL_TIMEOUT, "the kernel to start")


@pytest.fixture
def jupyterlab(tmp_path):
    """JupyterLab on a free local port with a token, serving a copy of notebooks/; yields its base URL."""
    work = tmp_path / "notebooks"
    shutil.copytree(ROOT / "notebooks", work,
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__", "*.csv", "*.keras"))
    for name, values in SETTINGS.items():
        path = tmp_path / "settings" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    port, token = free_port(), secrets.token_hex(16)
    env = dict(os.environ, CNNLEARN_FAST="1", PYTHONUNBUFFERED="1",
               JUPYTER_CONFIG_DIR=str(tmp_path / "config"), JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
               JUPYTERLAB_SETTINGS_DIR=str(tmp_path / "settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "workspaces"))
    log = open(tmp_path / "jupyterlab.log", "w")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
         f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
         f"--ServerApp.root_dir={work}", "--LabApp.news_url=", "--ServerApp.terminals_enabled=False",
         "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate", "--LabApp.extension_manager=readonly"]
        + (["--allow-root"] if os.geteuid() == 0 else []),  # CI runs as root
        cwd=work, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"

    def answers():
        if server.poll() is not None:
            log_text = (tmp_path / "jupyterlab.log").read_text()[-3000:]
            pytest.fail(f"JupyterLab exited with {server.returncode}:\n{log_text}")
        try:
            with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=5) as response:
                return response.status == 200
        except OSError:
            return False

    try:
        wait_for(answers, START_TIMEOUT, "JupyterLab to start")
        yield base, token
    finally:
        try:  # ask the server to stop its kernels and itself, then make sure, by its PID
            request = urllib.request.Request(f"{base}/api/shutdown?token={token}", method="POST", data=b"")
            urllib.request.urlopen(request, timeout=10).close()
        except OSError:
            pass
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGTERM)  # its own process group: only what this test started
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait(timeout=10)
        log.close()


def cell_index(driver, text):
    """The index of the first cell whose source contains ``text``."""
    index = driver.execute_script(
        "return [...document.querySelectorAll('.jp-Notebook .jp-Cell')]"
        ".findIndex(c => (c.querySelector('.cm-content') || {}).textContent?.includes(arguments[0]));", text)
    assert index is not None and index >= 0, f"no cell contains {text!r}"
    return index


def cell(driver, index):
    from selenium.webdriver.common.by import By

    return driver.find_elements(By.CSS_SELECTOR, ".jp-Notebook .jp-Cell")[index]


def output_text(driver, index):
    """What the cell's output shows, as rendered (``innerText``: collapsed spaces stay collapsed)."""
    return driver.execute_script(
        "const c = document.querySelectorAll('.jp-Notebook .jp-Cell')[arguments[0]];"
        "const o = c.querySelector('.jp-OutputArea');"
        "return o ? o.innerText : '';", index)


def prompt(driver, index):
    return driver.execute_script(
        "const p = document.querySelectorAll('.jp-Notebook .jp-Cell')[arguments[0]].querySelector('.jp-InputPrompt');"
        "return p ? p.textContent.trim() : '';", index)


def run_cell(driver, index, count, source=None):
    """Click into a cell, optionally replace its source by typing, run it with Shift+Enter, and wait
    until it has run as the kernel's ``count``-th execution."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    def shift_enter(source=None):
        editor = cell(driver, index).find_element("css selector", ".cm-content")
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", editor)
        editor.click()
        actions = ActionChains(driver)
        if source is not None:
            actions.key_down(Keys.CONTROL).send_keys("a").key_up(Keys.CONTROL).send_keys(Keys.DELETE)
            for i, line in enumerate(source.split("\n")):
                if i:
                    actions.send_keys(Keys.ENTER)
                actions.send_keys(line)
        actions.key_down(Keys.SHIFT).send_keys(Keys.ENTER).key_up(Keys.SHIFT).perform()

    def dialog():
        text = driver.execute_script("const d = document.querySelector('.jp-Dialog'); return d && d.innerText;")
        if text:
            pytest.fail(f"JupyterLab shows a dialog: {text}")

    shift_enter(source)
    done = f"[{count}]:"
    started = lambda: dialog() or prompt(driver, index) in ("[*]:", done)  # noqa: E731
    deadline = time.monotonic() + 20
    while not started() and time.monotonic() < deadline:
        time.sleep(0.5)
    if not started():  # the key press was lost (the page was still settling): once more
        shift_enter()
    wait_for(lambda: dialog() or prompt(driver, index) == done, CELL_TIMEOUT,
             f"cell {index} to run as execution {count} (its prompt shows {prompt(driver, index)!r})")


def test_an_exercise_verdict_and_solution_render_in_jupyterlab(browser, jupyterlab, screenshots):
    from cnnlearn.exercises import convolution

    base, token = jupyterlab
    driver = browser
    try:
        open_notebook(driver, base, token, NOTEBOOK)
        imports, exercise = cell_index(driver, IMPORT_LINE), cell_index(driver, EXERCISE_LINE)

        run_cell(driver, imports, 1)

        # A wrong answer: the verdict renders, says "Not yet" and what looks wrong.
        run_cell(driver, exercise, 2, "answer = (28, 28)  # the input size: a wrong answer\nex.q1.check(answer);")
        verdict = output_text(driver, exercise)
        assert verdict.startswith("Not yet:"), verdict
        assert "expected shape (26, 26), got (28, 28)" in verdict and "did you pad?" in verdict, verdict
        cell(driver, exercise).screenshot(str(screenshots / "jupyterlab_wrong_answer.png"))

        # The solution: shown, with every line's indentation as in the source.
        run_cell(driver, exercise, 3, "ex.q1.solution()")
        shown = output_text(driver, exercise)
        assert "Solution to q1" in shown, shown
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", cell(driver, exercise))
        cell(driver, exercise).screenshot(str(screenshots / "jupyterlab_solution.png"))
        rendered = [line.rstrip() for line in shown.splitlines()]
        code = [line.rstrip() for line in convolution.q1._solution.splitlines() if line.strip()]
        indented = [line for line in code if line.startswith(" ")]
        assert indented, "q1's solution should have indented lines"
        missing = [line for line in code if line not in rendered]
        assert not missing, f"these solution lines lost their indentation in JupyterLab: {missing}\nshown:\n{shown}"
    finally:
        driver.save_screenshot(str(screenshots / "jupyterlab.png"))  # also, or above all, when it failed
        driver.get("about:blank")  # leave JupyterLab before its server stops
