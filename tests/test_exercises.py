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


def test_every_thought_question_has_a_rubric():
    """The points a good answer makes, shown by check() for the learner to compare with."""
    missing = [f"{topic}.{question.name}" for topic, module in MODULES.items() for question in questions_of(module)
               if isinstance(question, questions.ThoughtQuestion)
               and not (question.rubric and all(isinstance(p, str) and p.strip() for p in question.rubric))]
    assert not missing, f"thought questions without a rubric: {missing}"


def test_every_model_question_checks_activations():
    missing = [f"{topic}.{question.name}" for topic, module in MODULES.items() for question in questions_of(module)
               if isinstance(question, questions.ModelQuestion) and question.output_shape is not None
               and (question.activations is None or len(question.activations) != len(question.layer_types))]
    assert not missing, f"model questions without one activation per layer: {missing}"


@pytest.mark.parametrize("answer", ["garbage", 42, (1, 2), [[1.0]], lambda *args, **kwargs: 1 / 0],
                         ids=["garbage", "42", "(1, 2)", "[[1.0]]", "a-function-that-raises"])
@pytest.mark.parametrize("question", QUESTIONS, ids=IDS)
def test_check_never_raises_on_a_wrong_answer(question, answer, capsys, monkeypatch):
    if isinstance(question, questions.ExperimentQuestion):  # it trains by design: a failing fit must be reported
        monkeypatch.setattr("keras.Model.fit", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("no training")))
    else:
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


# --- each kind of question, both ways ------------------------------------------------------------

def test_a_collected_weight_count_right_and_wrong(capsys):
    """"Work out how many weights before you run it" is a ValueQuestion on the count."""
    import keras

    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Conv2D(8, 3), keras.layers.Flatten(),
                              keras.layers.Dense(10)])
    q = questions.ValueQuestion("q", "How many weights?", model.count_params(), hint="h", solution="s",
                                diagnose=lambda answer: "add the biases" if answer == 72 + 26 * 26 * 8 * 10 else None)
    assert q.check(80 + 54090) and capsys.readouterr().out == "Correct: q: 54170 is right.\n"
    assert not q.check(72 + 54080)
    assert capsys.readouterr().out == "Not yet: q: expected 54170, got 54152: add the biases\n"


def test_a_thought_question_never_says_correct_and_shows_its_rubric_and_model_answer(capsys):
    q = questions.ThoughtQuestion("q9", "Why pool?", solution="Pooling keeps the strongest response nearby.",
                                  rubric=["it makes the maps smaller", "it tolerates small shifts"])
    for answer in ["Because it is faster.", "no idea", "x"]:
        assert q.check(answer) is True and q.answer == answer
        out = capsys.readouterr().out
        assert out.startswith("Note: q9: your answer is recorded") and "Correct" not in out and "Not yet" not in out
        assert "  \u2022 it makes the maps smaller\n  \u2022 it tolerates small shifts\n" in out
        assert "A model answer: Pooling keeps the strongest response nearby." in out
    for untouched in [..., None, "", "   ", 42]:
        assert q.check(untouched) is False
        out = capsys.readouterr().out
        assert out.startswith("Note: q9 is not attempted yet") and "rubric" not in out and "model answer" not in out


def test_thought_questions_are_noted_not_judged_in_jupyter(monkeypatch):
    shown = []
    monkeypatch.setattr(questions, "_in_notebook", lambda: True)
    monkeypatch.setattr("IPython.display.display", lambda obj: shown.append(obj.data))
    questions.ThoughtQuestion("q9", "?", solution="model <answer>", rubric=["point one"]).check("mine")
    (text,) = shown
    assert text.startswith('<div style="color:#0969da"><b>Note:</b>') and "Correct" not in text
    assert "<br>  \u2022 point one<br>" in text and "model &lt;answer&gt;" in text


def test_an_untouched_function_stub_is_not_attempted_yet_not_wrong(capsys):
    q = questions.FunctionQuestion("q2", "Double it.", reference=lambda x: 2 * x, cases=[((1.0,), {}), ((2.0,), {})],
                                   hint="h", solution="s")

    def my_double(x):
        ...  # your code here

    assert q.check(my_double) is False
    out = capsys.readouterr().out
    assert out.startswith("Note: q2 is not attempted yet: your function returns None") and "Not yet" not in out
    assert not q.check(lambda x: None if x == 2.0 else 2 * x)  # None later on: a real mistake
    assert capsys.readouterr().out.startswith("Not yet: q2: your function returned None for input (2.0)")
    assert q.check(lambda x: 2 * x) and capsys.readouterr().out.startswith("Correct")


@pytest.fixture(scope="module")
def small_cnn():
    import keras

    return keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Conv2D(4, 3, activation="relu"),
                             keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax")])


LAYERS = ["Conv2D", "Flatten", "Dense"]


def test_model_questions_check_each_layers_activation(small_cnn, capsys):
    right = questions.ModelQuestion("q4", "?", LAYERS, "h", "s", params=small_cnn.count_params(),
                                    activations=["relu", None, "softmax"])
    assert right.check(small_cnn) and capsys.readouterr().out.startswith("Correct")
    for activations, message in [
        (["relu", None, "linear"], "layer 2 (Dense) should have activation 'linear', got 'softmax'"),
        (["sigmoid", None, "softmax"], "layer 0 (Conv2D) should have activation 'sigmoid', got 'relu'"),
    ]:
        wrong = questions.ModelQuestion("q4", "?", LAYERS, "h", "s", activations=activations)
        assert not wrong.check(small_cnn)
        assert capsys.readouterr().out == f"Not yet: q4: {message}\n"


def test_activation_names_of_keras_layers():
    import keras

    model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(2, 3), keras.layers.Activation("relu"),
                              keras.layers.MaxPool2D(2), keras.layers.Flatten(),
                              keras.layers.Dense(3, activation=keras.activations.softmax)])
    assert [questions.activation_name(layer) for layer in model.layers] == ["linear", "relu", None, None, "softmax"]


def test_a_model_without_the_activation_is_caught(small_cnn, capsys):
    import keras

    no_softmax = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Conv2D(4, 3, activation="relu"),
                                   keras.layers.Flatten(), keras.layers.Dense(10)])
    q = questions.ModelQuestion("q4", "?", LAYERS, "h", "s", params=small_cnn.count_params(),
                                activations=["relu", None, "softmax"])
    assert not q.check(no_softmax)
    assert "layer 2 (Dense) should have activation 'softmax', got 'linear'" in capsys.readouterr().out


def experiment():
    """A fake experiment: the 'gap' is how far the answer is from 0.3 (no training in a unit test)."""
    return questions.ExperimentQuestion(
        "q6", "Pick a rate.", measure=lambda rate: {"gap": abs(rate - 0.3), "epochs": 3},
        passes=lambda measured: measured["gap"] < 0.1, target="a gap below 0.1", hint="h", solution="answer = 0.3")


def test_an_experiment_prints_what_it_measured_and_whether_the_target_is_met(capsys):
    q = experiment()
    assert q.check(0.35) is True
    assert capsys.readouterr().out == "Correct: q6: measured gap = 0.05, epochs = 3: target met (a gap below 0.1).\n"
    assert q.check(0.9) is False
    assert capsys.readouterr().out == "Not yet: q6: measured gap = 0.6, epochs = 3; the target: a gap below 0.1.\n"


def test_an_experiment_left_untouched_or_failing_is_reported_not_raised(capsys):
    q = experiment()
    assert q.check(...) is False and "q6 is not attempted yet" in capsys.readouterr().out
    assert q.check("fast") is False
    assert capsys.readouterr().out.startswith("Not yet: q6: your answer raised TypeError")
