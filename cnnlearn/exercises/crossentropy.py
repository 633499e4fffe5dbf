"""Exercises for notebook 05, crossentropy and gradient descent.

- ``q1``: the crossentropy loss when the right digit gets probability 0.25 (value)
- ``q2``: write ``my_softmax(logits)``, safe for large logits and for batches (function)
- ``q3``: one step of gradient descent by hand (value)
- ``q4``: softmax regression as a Keras model (Keras model)
- ``q5``: is Adam simply better than SGD? (thought)
- ``q6``: pick a learning rate and a batch size for the hand-written mini-batch loop (experiment)

Each solution below is real code, tested in ``tests/test_exercises_crossentropy.py``;
``solution()`` prints it under the names the notebook uses, ready to paste into the exercise's cell.
"""

import functools
import math

import numpy as np

from cnnlearn import data, ops
from cnnlearn.exercises.questions import (ExperimentQuestion, FunctionQuestion, ModelQuestion, ThoughtQuestion,
                                          ValueQuestion, source_of)


# --------------------------------------------------------------------------
# q1: crossentropy of one prediction
# --------------------------------------------------------------------------

def _q1_solution(p_true=0.25):
    # p_true: the probability the model gives to the right digit
    return -np.log(p_true)  # natural log, as Keras uses


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
    solution=source_of(_q1_solution, "crossentropy") + "\n\nanswer = crossentropy(0.25)  # about 1.386; a sure "
             "right answer (p = 1) would cost 0\nex.q1.check(answer);",
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
    solution=source_of(_my_softmax_solution, "my_softmax") + "\n\nex.q2.check(my_softmax);",
)


# --------------------------------------------------------------------------
# q3: one gradient-descent step
# --------------------------------------------------------------------------

def _q3_solution(w=3.0, learning_rate=0.1):
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
    solution=source_of(_q3_solution, "one_step") + "\n\nanswer = one_step(w=3.0, learning_rate=0.1)  # 2.6: a "
             "step towards the minimum at w = 1\nex.q3.check(answer);",
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
    "digits (28, 28, 1) in, flattened, one Dense layer with a softmax out to 10 classes. "
    "Work out its number of weights before you run it; check prints it.",
    layer_types=["Flatten", "Dense"],
    activations=[None, "softmax"],
    params=7_850,
    hint="keras.Input((28, 28, 1)), then keras.layers.Flatten(), then keras.layers.Dense(10, "
         "activation='softmax'). The weights are W (784 x 10) and b (10).",
    solution=source_of(_q4_solution, "softmax_regression") + "\n\nanswer = softmax_regression()\nex.q4.check(answer);",
)


# --------------------------------------------------------------------------
# q5: a thought question
# --------------------------------------------------------------------------

q5 = ThoughtQuestion(
    "q5",
    "In the notebook Adam and RMSprop got ahead of SGD within a few epochs. Does that make "
    "them better optimizers? What would you change to give SGD a fair chance?",
    rubric=[
        "No, not by itself: each optimizer ran at its default learning rate, and only for a few epochs",
        "SGD is the most sensitive of the three to its learning rate; 0.01 need not be its best",
        "A fair comparison tunes each optimizer's learning rate (a few values, a factor of 3 to 10 apart) "
        "and keeps each one's best on the validation digits",
        "Train long enough (with a decaying rate) and repeat with a few seeds before ranking them",
        "Adam and RMSprop scale each weight's step by its own gradient history, so they work well untuned: "
        "a good default, not proof of a better optimum",
    ],
    solution=(
        "Not by itself. Each optimizer ran at its default learning rate for a few epochs, and SGD "
        "is the most sensitive of the three to its rate: 0.01 may well not be its best. A fair "
        "comparison tunes the rate of each (try a few values, keep each one's best on the "
        "validation set), trains long enough and repeats with a few seeds. Adam and RMSprop divide each "
        "weight's step by a running size of its gradients, so they are less sensitive to the rate and get "
        "going fast: a good default. Well-tuned SGD with momentum and a decaying rate often matches them, "
        "and sometimes generalises slightly better, in longer training."
    ),
)


# --------------------------------------------------------------------------
# q6: an experiment: learning rate and batch size for mini-batch gradient descent
# --------------------------------------------------------------------------

EPOCHS = 2  # q6's budget: two passes over the 1,000 digits
TARGET_LOSS = 0.25


@functools.lru_cache(maxsize=1)
def _thousand_digits():
    """The notebook's 1,000 training digits as rows (float32 (1000, 784)) and one-hot labels (1000, 10),
    from the bundled sample (which full mode uses when there is no data/ folder)."""
    digits = data.load_digits(source="sample", verbose=False)
    x_train, y_train, _, _ = data.train_val_split(digits.images, digits.labels)
    x_few, y_few = data.subsample(x_train, y_train, 1000)
    return data.prepare(x_few).reshape(len(x_few), -1), data.one_hot(y_few)


def _minibatch_gradient_descent(x, y, learning_rate, batch_size, epochs, seed=0):
    """The notebook's mini-batch loop on softmax regression: returns the loss on all of ``x`` after each epoch
    and the number of steps taken."""
    rng = np.random.default_rng(seed)
    W, b = np.zeros((x.shape[1], y.shape[1]), dtype=np.float32), np.zeros(y.shape[1], dtype=np.float32)
    epoch_losses, steps = [], 0
    with np.errstate(all="ignore"):  # a rate that blows up gives inf/nan, reported as a loss, not as warnings
        for epoch in range(epochs):
            order = rng.permutation(len(x))
            for start in range(0, len(x), batch_size):
                batch = order[start:start + batch_size]
                probs = ops.softmax(x[batch] @ W + b)
                error = (probs - y[batch]) / len(batch)  # p - y, averaged over the batch
                W -= learning_rate * x[batch].T @ error
                b -= learning_rate * error.sum(axis=0)
                steps += 1
            epoch_losses.append(float(ops.categorical_crossentropy(y, ops.softmax(x @ W + b)).mean()))
    return epoch_losses, steps


def _q6_measure(answer):
    if not isinstance(answer, dict) or set(answer) != {"learning_rate", "batch_size"}:
        raise ValueError('answer with a dict: {"learning_rate": 0.1, "batch_size": 32}, your numbers in place of these')
    learning_rate, batch_size = answer["learning_rate"], answer["batch_size"]
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or not 1 <= batch_size <= 1000:
        raise ValueError(f"batch_size should be a whole number from 1 to 1000 (the number of digits), got {batch_size!r}")
    if (isinstance(learning_rate, bool) or not isinstance(learning_rate, (int, float, np.number))
            or not 0 < learning_rate < math.inf):
        raise ValueError(f"learning_rate should be a positive number, got {learning_rate!r}")
    x, y = _thousand_digits()
    losses, steps = _minibatch_gradient_descent(x, y, float(learning_rate), int(batch_size), EPOCHS)
    return {f"loss after {EPOCHS} epochs": losses[-1], "after epoch 1": losses[0], "steps": steps}


q6 = ExperimentQuestion(
    "q6",
    f"With the notebook's mini-batch loop (softmax regression on the 1,000 digits, weights starting at 0, "
    f"batches shuffled with seed 0), pick a learning rate and a batch size so that the loss on the 1,000 digits "
    f"falls below {TARGET_LOSS} within {EPOCHS} epochs. Answer with a dict "
    f'{{"learning_rate": ..., "batch_size": ...}}.',
    measure=_q6_measure,
    passes=lambda measured: measured[f"loss after {EPOCHS} epochs"] < TARGET_LOSS,  # nan fails too
    target=f"loss on the 1,000 digits below {TARGET_LOSS} after {EPOCHS} epochs",
    hint="An epoch is one pass over the 1,000 digits whatever the batch size, so smaller batches mean more steps "
         "in the same two epochs. But a step computed on a few digits is noisy: with very small batches, "
         "lower the learning rate.",
    solution='answer = {"learning_rate": 0.5, "batch_size": 10}  # 100 steps per epoch: loss about 0.21\n'
             "ex.q6.check(answer);\n"
             "# Also good: batches of 5 at 0.2-0.3, of 1 at 0.05. Batches of 1 at 0.5 swing too wildly to settle.",
)
