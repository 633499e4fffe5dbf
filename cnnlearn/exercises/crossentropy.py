"""Exercises for notebook 05, crossentropy and gradient descent.

- ``q1``: the crossentropy loss when the right digit gets probability 0.25 (value)
- ``q2``: write ``my_softmax(logits)``, safe for large logits and for batches (function)
- ``q3``: one step of gradient descent by hand (value)
- ``q4``: softmax regression as a Keras model (Keras model)
- ``q5``: is Adam simply better than SGD? (thought)

Each solution below is real code, tested in ``tests/test_exercises_crossentropy.py``;
``solution()`` prints its source.
"""

import math

import numpy as np

from cnnlearn import ops
from cnnlearn.exercises.questions import FunctionQuestion, ModelQuestion, ThoughtQuestion, ValueQuestion, source_of


# --------------------------------------------------------------------------
# q1: crossentropy of one prediction
# --------------------------------------------------------------------------

def _q1_solution():
    p_true = 0.25  # the probability the model gives to the right digit
    return -math.log(p_true)  # natural log, as Keras uses


def _q1_diagnose(answer):
    p = 0.25
    known = {
        -math.log10(p): "that is log base 10: crossentropy uses the natural log (np.log, math.log)",
        -math.log2(p): "that is log base 2 (bits): Keras uses the natural log (np.log, math.log)",
        math.log(p): "missing minus sign: the log of a probability is negative, the loss is minus that",
        1 - p: "that is 1 - p, not crossentropy: the loss is -log(p)",
        (1 - p) ** 2: "that is the squared error (1 - p)^2, not crossentropy: the loss is -log(p)",
    }
    for value, message in known.items():
        if np.ndim(answer) == 0 and abs(float(answer) - value) < 1e-3:
            return message
    return None


q1 = ValueQuestion(
    "q1",
    "A model gives the right digit probability 0.25 (and the rest to the other nine). "
    "What is its crossentropy loss on this digit? Give a number.",
    expected=_q1_solution(),
    tolerance=1e-3,
    diagnose=_q1_diagnose,
    hint="With a one-hot target, crossentropy keeps one term: minus the natural log of the "
         "probability given to the right class.",
    solution=source_of(_q1_solution) + "# about 1.386; a sure right answer (p = 1) would cost 0",
)


# --------------------------------------------------------------------------
# q2: a numerically stable softmax
# --------------------------------------------------------------------------

def _my_softmax_solution(logits):
    logits = np.asarray(logits, dtype=np.float64)
    shifted = logits - logits.max(axis=-1, keepdims=True)  # the largest becomes 0: exp never overflows
    e = np.exp(shifted)
    return e / e.sum(axis=-1, keepdims=True)


def _q2_diagnose(args, kwargs, got):
    got = np.asarray(got, dtype=float)
    if np.isnan(got).any() or np.isinf(got).any():
        return "your softmax gives nan or inf for large logits: exp(1000) overflows; subtract the max first"
    if got.ndim == 2 and not np.allclose(got.sum(axis=-1), 1, atol=1e-4):
        return ("the rows do not each sum to 1: normalise each row on its own "
                "(sum and max along axis=-1 with keepdims=True)")
    return None


_rng = np.random.default_rng(4)
q2 = FunctionQuestion(
    "q2",
    "Write my_softmax(logits): probabilities along the last axis, for one vector of scores "
    "or a batch (n, classes), without overflowing for scores like 1000.",
    reference=ops.softmax,
    cases=[
        ((np.array([2.0, 1.0, 0.1]),), {}),
        ((np.array([1000.0, 999.0, 998.0]),), {}),       # exp(1000) overflows
        ((np.array([-1000.0, 0.0, 1000.0]),), {}),
        ((np.zeros(10),), {}),                           # all equal: uniform
        ((_rng.normal(0, 3, size=(4, 10)),), {}),         # a batch: each row sums to 1
        ((np.array([[1000.0, 0.0], [0.0, -1000.0]]),), {}),
    ],
    diagnose=_q2_diagnose,
    hint="exp(x - c) / sum(exp(x - c)) is the same for any c; choose c = the largest score, "
         "row by row (axis=-1, keepdims=True).",
    solution=source_of(_my_softmax_solution),
)


# --------------------------------------------------------------------------
# q3: one gradient-descent step
# --------------------------------------------------------------------------

def _q3_solution():
    w, learning_rate = 3.0, 0.1
    gradient = 2 * (w - 1)  # d/dw of (w - 1)^2
    return w - learning_rate * gradient  # step against the gradient


def _q3_diagnose(answer):
    known = {
        3.4: "wrong sign: step against the gradient (w - learning_rate * gradient), downhill",
        0.4: "that is the size of the step (learning_rate * gradient); the new w is w minus it",
        2.8: "the gradient of (w - 1)^2 is 2 (w - 1) = 4 at w = 3: did you forget the factor 2?",
        1.0: "1 is where the loss is smallest; one step only gets part of the way there",
    }
    for value, message in known.items():
        if np.ndim(answer) == 0 and abs(float(answer) - value) < 1e-6:
            return message
    return None


q3 = ValueQuestion(
    "q3",
    "The loss is (w - 1)^2 and w = 3. What is w after one step of gradient descent with "
    "learning rate 0.1?",
    expected=_q3_solution(),
    tolerance=1e-6,
    diagnose=_q3_diagnose,
    hint="new w = w - learning_rate * (gradient of the loss at w).",
    solution=source_of(_q3_solution) + "# 2.6: a step towards the minimum at w = 1",
)


# --------------------------------------------------------------------------
# q4: softmax regression in Keras
# --------------------------------------------------------------------------

def _q4_solution():
    import keras

    return keras.Sequential([
        keras.Input((28, 28, 1)),
        keras.layers.Flatten(),                          # 784 pixels
        keras.layers.Dense(10, activation="softmax"),    # 784 x 10 weights + 10 biases
    ])


q4 = ModelQuestion(
    "q4",
    "Build, as a keras.Sequential, the softmax regression the notebook trained by hand: "
    "digits (28, 28, 1) in, flattened, one Dense layer with a softmax out to 10 classes.",
    layer_types=["Flatten", "Dense"],
    params=7_850,
    hint="keras.Input((28, 28, 1)), then keras.layers.Flatten(), then keras.layers.Dense(10, "
         "activation='softmax'). The weights are W (784 x 10) and b (10).",
    solution=source_of(_q4_solution),
)


# --------------------------------------------------------------------------
# q5: a thought question
# --------------------------------------------------------------------------

q5 = ThoughtQuestion(
    "q5",
    "In the notebook Adam and RMSprop got ahead of SGD within a few epochs. Does that make "
    "them better optimizers? What would you change to give SGD a fair chance?",
    solution=(
        "Not by itself. Each optimizer ran at its default learning rate for a few epochs, and SGD "
        "is the most sensitive of the three to its rate: 0.01 may well not be its best. A fair "
        "comparison tunes the rate of each (try a few values, keep each one's best on the "
        "validation set) and trains long enough. Adam and RMSprop divide each weight's step by a running size of its gradients, "
        "so they are less sensitive to the rate and get going fast: a good default. Well-tuned "
        "SGD with momentum and a decaying rate often matches them, and sometimes generalises "
        "slightly better, in longer training."
    ),
)
