"""The five kinds of exercise question and how they report.

Each question has ``check(answer)``, ``hint()`` and ``solution()``. A
subclass only decides whether an answer is right and, when it is not, what
to tell the learner: its ``_verdict(answer)`` returns ``(ok, message)``, with
``ok`` None for an answer that is "not attempted yet" (shown as a neutral note).
"""

import functools
import html
import inspect

import numpy as np


def source_of(function, name=None):
    """A solution function's source code, to show as the solution.

    With ``name``, shown under the name the learner uses for it.
    """
    source = inspect.getsource(function)
    return source.replace(function.__name__, name) if name else source


@functools.lru_cache(maxsize=8)
def sample_digits(n_train):
    """The digits a training experiment measures on: ``n_train`` training digits and the 500 validation
    digits of the bundled sample, split and subsampled with seed 0 (the notebooks' split in full mode
    without ``data/``). uint8 images (n, 28, 28) and int labels; cached, so don't modify them."""
    from cnnlearn import data

    digits = data.load_digits(source="sample", verbose=False)
    x_train, y_train, x_val, y_val = data.train_val_split(digits.images, digits.labels, seed=0)
    x_few, y_few = data.subsample(x_train, y_train, n_train, seed=0)
    return x_few, y_few, x_val, y_val


def _in_notebook():
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def _say(kind, message, code=None):
    """Print a verdict: coloured in Jupyter, plain text in a terminal.

    ``code`` (a solution) follows the message as preformatted text, so that its indentation and
    line breaks show as written: HTML would otherwise collapse the spaces that start each line.
    """
    colours = {"correct": "#1a7f37", "incorrect": "#cf222e", "info": "#0969da"}
    labels = {"correct": "Correct", "incorrect": "Not yet", "info": "Note"}
    if _in_notebook():
        from IPython.display import HTML, display

        text = (f'<div style="color:{colours[kind]}"><b>{labels[kind]}:</b> '
                f'{html.escape(message).replace(chr(10), "<br>")}</div>')
        if code is not None:
            text += f'<pre style="white-space:pre-wrap; margin:0.4em 0 0">{html.escape(code)}</pre>'
        display(HTML(text))
    else:
        print(f"{labels[kind]}: {message}" + ("" if code is None else f"\n{code}"))


def _not_attempted(answer):
    return answer is Ellipsis or answer is None


def _shape(x):
    return tuple(np.shape(x))


class Question:
    """A question with a hint and a solution; subclasses decide what is right."""

    def __init__(self, name, prompt, hint, solution):
        self.name, self.prompt, self._hint, self._solution = name, prompt, hint, solution

    def __repr__(self):
        return f"{self.name}: {self.prompt}"

    def hint(self):
        _say("info", f"Hint for {self.name}: {self._hint}")

    def solution(self):
        _say("info", f"Solution to {self.name}:", code=self._solution)

    def check(self, answer=...):
        """Print a verdict on ``answer``; return True if it is right."""
        if _not_attempted(answer):
            ok, message = None, f"{self.name} is not attempted yet: replace the ... with your answer."
        else:
            try:
                ok, message = self._verdict(answer)
            except Exception as e:  # the learner's code failed: say so, don't crash the notebook
                ok, message = False, f"{self.name}: your answer raised {type(e).__name__}: {e}"
        _say({True: "correct", False: "incorrect", None: "info"}[ok], message)
        return bool(ok)

    def _verdict(self, answer):
        raise NotImplementedError


class ValueQuestion(Question):
    """A number, a shape, a label or an array, compared with a tolerance.

    Also the way to collect a number worked out by hand before running the code (a weight count).
    ``diagnose(answer)`` may return a specific message for a likely mistake (e.g. "did you pad?"), or None.
    """

    def __init__(self, name, prompt, expected, hint, solution, tolerance=1e-6, diagnose=None):
        super().__init__(name, prompt, hint, solution)
        self.expected, self.tolerance, self.diagnose = expected, tolerance, diagnose

    def _verdict(self, answer):
        expected = self.expected
        if isinstance(expected, tuple):  # a shape
            ok = isinstance(answer, (tuple, list)) and tuple(answer) == expected
            what = f"expected shape {expected}, got {tuple(answer) if isinstance(answer, (tuple, list)) else answer!r}"
        elif isinstance(expected, str):
            ok = isinstance(answer, str) and answer.strip().lower() == expected.lower()
            what = f"expected {expected!r}, got {answer!r}"
        elif isinstance(expected, np.ndarray):
            if _shape(answer) != expected.shape:
                ok, what = False, f"expected an array of shape {expected.shape}, got shape {_shape(answer)}"
            else:
                difference = float(np.max(np.abs(np.asarray(answer, dtype=float) - expected))) if expected.size else 0.0
                ok, what = difference <= self.tolerance, f"values differ by up to {difference:.3g}"
        else:  # a number
            is_number = isinstance(answer, (int, float, np.number)) and not isinstance(answer, bool)
            ok = is_number and abs(float(answer) - float(expected)) <= self.tolerance
            what = f"expected {expected:g}, got {answer!r}" + ("" if is_number else " (not a number)")
        if ok:
            return True, f"{self.name}: {answer!r} is right." if np.ndim(answer) == 0 else f"{self.name} is right."
        specific = self.diagnose(answer) if self.diagnose else None
        return False, f"{self.name}: {what}" + (f": {specific}" if specific else "")


class FunctionQuestion(Question):
    """A function the learner writes, checked against a reference on several inputs.

    ``cases`` is a list of ``(args, kwargs)``; each is run through both functions and the results
    compared (shape first, then values). A stub that returns None on the first case is "not attempted
    yet". ``diagnose(args, kwargs, got)`` may name a likely mistake when they differ.
    """

    def __init__(self, name, prompt, reference, cases, hint, solution, atol=1e-4, diagnose=None):
        super().__init__(name, prompt, hint, solution)
        self.reference, self.cases, self.atol, self.diagnose = reference, cases, atol, diagnose

    @staticmethod
    def describe(args, kwargs):
        parts = [f"shape {_shape(a)}" if np.ndim(a) else repr(a) for a in args]
        parts += [f"{k}={v!r}" for k, v in kwargs.items()]
        return "(" + ", ".join(parts) + ")"

    def _verdict(self, answer):
        if not callable(answer):
            return False, f"{self.name}: expected a function, got {type(answer).__name__}"
        for i, (args, kwargs) in enumerate(self.cases):
            expected = np.asarray(self.reference(*args, **kwargs))
            got = answer(*args, **kwargs)
            case = self.describe(args, kwargs)
            if got is None and i == 0:
                return None, (f"{self.name} is not attempted yet: your function returns None (an untouched stub, "
                               "or a missing return).")
            if got is None:
                return False, f"{self.name}: your function returned None for input {case}: a missing return?"
            if _shape(got) != expected.shape:
                message = f"for input {case}: expected output shape {expected.shape}, got {_shape(got)}"
                specific = self.diagnose(args, kwargs, got) if self.diagnose else None
                return False, f"{self.name}: {message}" + (f": {specific}" if specific else "")
            difference = float(np.max(np.abs(np.asarray(got, dtype=float) - expected))) if expected.size else 0.0
            if not difference <= self.atol:
                message = f"for input {case} the shape is right but values differ by up to {difference:.3g}"
                specific = self.diagnose(args, kwargs, got) if self.diagnose else None
                return False, f"{self.name}: {message}" + (f": {specific}" if specific else "")
        return True, f"{self.name}: your function matches on all {len(self.cases)} test inputs."


def activation_name(layer):
    """The name of a layer's activation ("relu", "softmax", "linear", ...), or None if it has none."""
    activation = getattr(layer, "activation", None)
    if activation is None:
        return None
    if isinstance(activation, str):
        return activation
    return getattr(activation, "__name__", None) or layer.get_config().get("activation")


class ModelQuestion(Question):
    """A Keras model with the asked-for layers (in order), activations and number of weights.

    ``activations`` has one entry per layer: its activation's name, or None for a layer without one.
    """

    def __init__(self, name, prompt, layer_types, hint, solution, params=None, output_shape=(None, 10),
                 activations=None):
        super().__init__(name, prompt, hint, solution)
        self.layer_types, self.params, self.output_shape = list(layer_types), params, output_shape
        self.activations = None if activations is None else list(activations)

    def _verdict(self, answer):
        import keras

        if not isinstance(answer, keras.Model):
            return False, f"{self.name}: expected a keras model, got {type(answer).__name__}"
        types = [type(layer).__name__ for layer in answer.layers]
        if types != self.layer_types:
            return False, f"{self.name}: expected layers {self.layer_types}, got {types}"
        for i, (layer, expected) in enumerate(zip(answer.layers, self.activations or [])):
            got = activation_name(layer)
            if (got or "").lower() != (expected or "").lower():
                return False, (f"{self.name}: layer {i} ({types[i]}) should have activation {expected!r}, "
                               f"got {got!r}")
        if self.output_shape is not None and tuple(answer.output_shape) != self.output_shape:
            return False, f"{self.name}: expected output shape {self.output_shape}, got {tuple(answer.output_shape)}"
        if self.params is not None and answer.count_params() != self.params:
            return False, (f"{self.name}: the layers are right but it has {answer.count_params():,} weights; "
                           f"expected {self.params:,}: check filters, kernel sizes and padding")
        return True, f"{self.name}: the model is right ({answer.count_params():,} weights)."


class ThoughtQuestion(Question):
    """A question to think about: the answer is not graded. ``check`` records it and shows the
    ``rubric`` (the points a good answer makes) to compare with, then the model answer."""

    def __init__(self, name, prompt, solution, rubric=None,
                 hint="Reread the section above; then write a sentence or two."):
        super().__init__(name, prompt, hint, solution)
        self.rubric, self.answer = list(rubric or []), None

    def check(self, answer=...):
        """Show the self-check list and the model answer; return True once an answer is written."""
        if _not_attempted(answer):
            return super().check(answer)
        if not isinstance(answer, str) or not answer.strip():
            _say("info", f"{self.name} is not attempted yet: write your answer as a sentence in a string.")
            return False
        self.answer = answer
        points = "".join(f"\n  \u2022 {point}" for point in self.rubric)
        compare = f"the points a good answer makes:{points}\nA model answer" if points else "a model answer"
        _say("info", f"{self.name}: your answer is recorded. There is no single right answer: compare it with "
                     f"{compare}: {self._solution}")
        return True


class ExperimentQuestion(Question):
    """A training experiment with a measurable target.

    ``measure(answer)`` trains something small and seeded and returns a dict of named numbers;
    ``passes(measured)`` says whether they meet ``target``, a one-line statement of the goal.
    """

    def __init__(self, name, prompt, measure, passes, target, hint, solution):
        super().__init__(name, prompt, hint, solution)
        self.measure, self.passes, self.target = measure, passes, target

    def _verdict(self, answer):
        measured = self.measure(answer)
        numbers = ", ".join(f"{key} = {value:.4g}" if isinstance(value, (float, np.floating)) else f"{key} = {value}"
                            for key, value in measured.items())
        if self.passes(measured):
            return True, f"{self.name}: measured {numbers}: target met ({self.target})."
        return False, f"{self.name}: measured {numbers}; the target: {self.target}."
