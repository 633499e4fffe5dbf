"""A thought question's note and a function's solution, as JupyterLab shows them (headless Chromium).

Notebook 09's exercises: the learner writes an answer to q4 and sees a neutral note with the rubric
and the model answer (never "Correct"); then asks for q2's solution and sees its code with every
line's indentation. The server, browser and helpers are test_jupyterlab.py's.
"""

from test_jupyterlab import cell, cell_index, jupyterlab, open_notebook, output_text, run_cell  # noqa: F401

NOTEBOOK = "09_beyond_digits.ipynb"


def test_a_thought_note_and_a_solution_render_in_jupyterlab(browser, jupyterlab, screenshots):  # noqa: F811
    from cnnlearn.exercises import beyond_digits

    base, token = jupyterlab
    driver = browser
    try:
        open_notebook(driver, base, token, NOTEBOOK)
        imports = cell_index(driver, "from cnnlearn.exercises import beyond_digits as ex")
        thought, function = cell_index(driver, "ex.q4.check(answer)"), cell_index(driver, "ex.q2.check(answer)")
        run_cell(driver, imports, 1)

        run_cell(driver, thought, 2, 'answer = "Resizing shrinks the object; I would crop tiles."\nex.q4.check(answer);')
        note = output_text(driver, thought)
        cell(driver, thought).screenshot(str(screenshots / "jupyterlab_thought_note.png"))
        assert note.startswith("Note: q4: your answer is recorded"), note
        assert "Correct" not in note and "Not yet" not in note, note
        shown = " ".join(note.split())
        for point in beyond_digits.q4.rubric:
            assert f"\u2022 {point}" in shown, f"rubric point missing: {point}\nshown:\n{note}"
        assert " ".join(beyond_digits.q4._solution.split()) in shown, note

        run_cell(driver, function, 3, "ex.q2.solution()")
        shown = output_text(driver, function)
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", cell(driver, function))
        cell(driver, function).screenshot(str(screenshots / "jupyterlab_function_solution.png"))
        rendered = [line.rstrip() for line in shown.splitlines()]
        code = [line.rstrip() for line in beyond_digits.q2._solution.splitlines() if line.strip()]
        assert any(line.startswith("    ") for line in code)
        missing = [line for line in code if line not in rendered]
        assert not missing, f"these solution lines lost their indentation in JupyterLab: {missing}\nshown:\n{shown}"
    finally:
        driver.save_screenshot(str(screenshots / "jupyterlab_exercises.png"))
        driver.get("about:blank")  # leave JupyterLab before its server stops
