"""Exercises with check / hint / solution, one module per concept notebook.

::

    from cnnlearn.exercises import convolution as ex
    ex.q1.check(answer)   # prints a verdict, returns True or False
    ex.q1.hint()
    ex.q1.solution()      # code that runs as pasted into the exercise's cell

``check`` never raises for a wrong or missing answer: it says what is wrong
("expected shape (26, 26), got (28, 28): did you pad?") and returns False.
An answer left as ``...`` (or a function stub that returns None) is "not
attempted yet", shown as a neutral note.

Question kinds (in :mod:`cnnlearn.exercises.questions`):

- :class:`ValueQuestion`: a number, shape, label or array, with a tolerance;
  also how a count worked out before running the code (weights) is collected.
- :class:`FunctionQuestion`: a function checked against a reference on several inputs.
- :class:`ModelQuestion`: a Keras model checked for its layer types, their
  activations, its output shape and its number of weights.
- :class:`ThoughtQuestion`: not graded; ``check`` shows a self-check rubric
  (the points a good answer makes) and a model answer, never "Correct".
- :class:`ExperimentQuestion`: a small seeded training run; ``check`` prints
  the measured numbers and whether they meet the target.
"""

from cnnlearn.exercises.questions import (
    ExperimentQuestion,
    FunctionQuestion,
    ModelQuestion,
    Question,
    ThoughtQuestion,
    ValueQuestion,
    activation_name,
    source_of,
)

__all__ = ["ExperimentQuestion", "FunctionQuestion", "ModelQuestion", "Question", "ThoughtQuestion",
           "ValueQuestion", "activation_name", "source_of"]
