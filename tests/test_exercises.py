"""What every exercise question does, whatever its kind (the per-notebook files test the answers)."""

import importlib

import pytest

from cnnlearn.exercises import questions

TOPICS = ["convolution", "pooling", "dropout", "crossentropy", "annealer", "augmentation", "capstone", "beyond_digits"]
MODULES = {topic: importlib.import_module(f"cnnlearn.exercises.{topic}") for topic in TOPICS}


def questions_of(module):
    return [value for _, value in sorted(vars(module).items()) if isinstance(value, questions.Question)]


QUESTIONS = [question for module in MODULES.values() for question in questions_of(module)]
IDS = [f"{topic}.{question.name}" for topic, module in MODULES.items() for question in questions_of(module)]


def test_every_concept_notebook_has_exercises():
    for topic, module in MODULES.items():
        assert len(questions_of(module)) >= (1 if topic == "capstone" else 3), topic


@pytest.mark.parametrize("question", QUESTIONS, ids=IDS)
def test_an_untouched_exercise_is_not_attempted_yet(question, capsys):
    assert question.check(...) is False
    assert "not attempted yet" in capsys.readouterr().out


@pytest.mark.parametrize("question", QUESTIONS, ids=IDS)
def test_hint_and_solution_print_something(question, capsys):
    question.hint()
    question.solution()
    out = capsys.readouterr().out
    assert f"Hint for {question.name}" in out and f"Solution to {question.name}" in out
    assert len(out) > 80


@pytest.mark.parametrize("answer", ["garbage", 42, (1, 2), [[1.0]], lambda *args, **kwargs: 1 / 0], ids=repr)
@pytest.mark.parametrize("question", QUESTIONS, ids=IDS)
def test_check_never_raises_on_a_wrong_answer(question, answer, capsys, monkeypatch):
    monkeypatch.setattr("keras.Model.fit", lambda *a, **k: pytest.fail("no training on a wrong answer"))
    assert question.check(answer) in (True, False)
    assert capsys.readouterr().out.strip()


def test_a_terminal_gets_plain_text(capsys):
    questions.ValueQuestion("q", "2 + 2?", 4, hint="add", solution="4").check(5)
    out = capsys.readouterr().out
    assert out == "Not yet: q: expected 4, got 5\n"


def test_a_terminal_gets_the_solution_as_written(capsys):
    code = "def f(x):\n    if x < 0:\n        return -x  # <- kept\n    return x"
    questions.ValueQuestion("q", "?", 4, hint="h", solution=code).solution()
    assert capsys.readouterr().out == f"Note: Solution to q:\n{code}\n"


def test_jupyter_gets_the_solution_preformatted_so_its_indentation_shows(monkeypatch):
    """HTML collapses the spaces that start a line: the solution goes in a <pre>, escaped.
    (tests/test_jupyterlab.py checks what JupyterLab actually shows.)"""
    import html
    import re

    shown = []
    monkeypatch.setattr(questions, "_in_notebook", lambda: True)
    monkeypatch.setattr("IPython.display.display", lambda obj: shown.append(obj.data))
    code = "def f(x):\n    if x < 0:\n        return -x  # <- kept\n    return x"
    questions.ValueQuestion("q", "?", 4, hint="h", solution=code).solution()
    (text,) = shown
    pre = re.fullmatch(r'<div style="color:#0969da"><b>Note:</b> Solution to q:</div><pre[^>]*>(.*)</pre>', text, re.S)
    assert pre, text
    assert "<-" not in pre.group(1) and html.unescape(pre.group(1)) == code
