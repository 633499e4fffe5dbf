"""The four kinds of exercise question and how they report.

Each question has ``check(answer)``, ``hint()`` and ``solution()``. A
subclass only decides whether an answer is right and, when it is not, what
to tell the learner: its ``_verdict(answer)`` returns ``(ok, message)``.
"""

import html
import inspect

import numpy as np


def source_of(function, name=None):
    """A solution function's source code, to show as the solution.

    With ``name``, shown under the name the learner uses for it.
    """
    source = inspect.getsource(function)
    return source.replace(function.__name__, name) if name else source


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
            _say("info", f"{self.name} is not attempted yet: replace the ... with your answer.")
            return False
        try:
            ok, message = self._verdict(answer)
        except Exception as e:  # the learner's code failed: say so, don't crash the notebook
            ok, message = False, f"your answer raised {type(e).__name__}: {e}"
        _say("correct" if ok else "incorrect", message)
        return ok

    def _verdict(self, answer):
        raise NotImplementedError


class ValueQuestion(Question):
    """A number, a shape, a label or an array, compared with a tolerance.

    ``diagnose(answer)`` may return a specific message for a likely mistake
    (e.g. "did you pad?"), or None.
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

    ``cases`` is a list of ``(args, kwargs)``; each is run through both
    functions and the results compared (shape first, then values).
    ``diagnose(args, kwargs, got)`` may name a likely mistake when they differ.
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
        for args, kwargs in self.cases:
            expected = np.asarray(self.reference(*args, **kwargs))
            got = answer(*args, **kwargs)
            case = self.describe(args, kwargs)
            if got is None:
                return False, (f"{self.name}: your function returned None for input {case}: "
                               "not attempted yet, or a missing return?")
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


class ModelQuestion(Question):
    """A Keras model with the asked-for layers (in order) and number of weights."""

    def __init__(self, name, prompt, layer_types, hint, solution, params=None, output_shape=(None, 10)):
        super().__init__(name, prompt, hint, solution)
        self.layer_types, self.params, self.output_shape = list(layer_types), params, output_shape

    def _verdict(self, answer):
        import keras

        if not isinstance(answer, keras.Model):
            return False, f"{self.name}: expected a keras model, got {type(answer).__name__}"
        types = [type(layer).__name__ for layer in answer.layers]
        if types != self.layer_types:
            return False, f"{self.name}: expected layers {self.layer_types}, got {types}"
        if self.output_shape is not None and tuple(answer.output_shape) != self.output_shape:
            return False, f"{self.name}: expected output shape {self.output_shape}, got {tuple(answer.output_shape)}"
        if self.params is not None and answer.count_params() != self.params:
            return False, (f"{self.name}: the layers are right but it has {answer.count_params():,} weights; "
                           f"expected {self.params:,}: check filters, kernel sizes and padding")
        return True, f"{self.name}: the model is right ({answer.count_params():,} weights)."


class ThoughtQuestion(Question):
    """A question to think about: no checker, only a solution to compare with."""

    def __init__(self, name, prompt, solution, hint="Reread the section above; then write a sentence or two."):
        super().__init__(name, prompt, hint, solution)

    def _verdict(self, answer):
        if not isinstance(answer, str) or not answer.strip():
            return False, f"{self.name}: write your answer as a sentence in a string"
        return True, f"{self.name}: noted. There is no single right answer: compare yours with {self.name}.solution()."
