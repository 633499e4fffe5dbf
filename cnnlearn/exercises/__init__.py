"""Exercises with check / hint / solution, one module per concept notebook.

::

    from cnnlearn.exercises import convolution as ex
    ex.q1.check(answer)   # prints a verdict, returns True or False
    ex.q1.hint()
    ex.q1.solution()

``check`` never raises for a wrong or missing answer: it says what is wrong
("expected shape (26, 26), got (28, 28): did you pad?") and returns False.
An answer left as ``...`` is "not attempted yet".

Question kinds (in :mod:`cnnlearn.exercises.questions`): a value with a
tolerance, a function checked against a reference on several inputs, a
Keras model checked for layers and parameter count, and a thought question
(solution only).
"""

from cnnlearn.exercises.questions import (
    FunctionQuestion,
    ModelQuestion,
    Question,
    ThoughtQuestion,
    ValueQuestion,
)

__all__ = ["FunctionQuestion", "ModelQuestion", "Question", "ThoughtQuestion", "ValueQuestion"]
