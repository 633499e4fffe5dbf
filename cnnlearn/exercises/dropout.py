"""Exercises for notebook 04, dropout.

- ``q1`` the factor inverted dropout multiplies the kept values by, for rate 0.25 (a value)
- ``q2`` write inverted dropout in NumPy (a function, checked with a seeded generator)
- ``q3`` what dropout does at inference (a value)
- ``q4`` add dropout to a small CNN: how many weights does it add? (a model)
- ``q5`` why does dropout reduce overfitting? (a thought)

Each solution is real code below (``_..._solution``); ``solution()`` prints its source.
"""


import numpy as np

from cnnlearn import ops
from cnnlearn.exercises.questions import FunctionQuestion, ModelQuestion, ThoughtQuestion, ValueQuestion, source_of


# --- q1: the scale factor -----------------------------------------------------

def _scale_solution(rate=0.25):
    # A value survives with probability 1 - rate = 0.75. Dividing the survivors by 0.75
    # keeps the expected value: 0.75 * (x / 0.75) + 0.25 * 0 = x.
    return 1 / (1 - rate)


def _diagnose_scale(answer):
    if np.ndim(answer) != 0 or isinstance(answer, str):
        return "answer with one number"
    answer = float(answer)
    if np.isclose(answer, 0.75):
        return "0.75 is the keep probability (1 - rate); the survivors are divided by it, so the factor is 1 / 0.75"
    if np.isclose(answer, 0.25):
        return "0.25 is the rate, the share of values set to 0; the survivors are scaled up by 1 / (1 - rate)"
    if np.isclose(answer, 4):
        return "1 / 0.25 divides by the rate; divide by the probability of being kept, 1 - rate"
    if np.isclose(answer, 1):
        return ("1 is what stays the same on average (the expected value); the survivors themselves are "
                "multiplied by more than 1 to make up for the zeros")
    if np.isclose(answer, 1.25):
        return "1 + rate is close but not it: the factor is 1 / (1 - rate)"
    return None


q1 = ValueQuestion(
    "q1",
    "Inverted dropout with rate=0.25 sets a quarter of the values to 0 during training. By what factor does it "
    "multiply the values it keeps? Answer with a number.",
    expected=_scale_solution(0.25),
    tolerance=1e-3,
    hint="Each value is kept with probability 1 - rate. Choose the factor so that the average stays the same.",
    solution=source_of(_scale_solution, "scale") + "\nscale(0.25)  # 1.3333...",
    diagnose=_diagnose_scale,
)


# --- q2: dropout in NumPy ---------------------------------------------------

def _my_dropout_solution(x, rate, rng):
    x = np.asarray(x, dtype=float)
    keep = rng.random(x.shape) >= rate  # True with probability 1 - rate
    return np.where(keep, x / (1 - rate), 0.0)


def _seeded(dropout):
    """``dropout(x, rate, rng)`` as a function of a seed, so each call gets a fresh generator."""
    return lambda x, rate, seed: dropout(x, rate, np.random.default_rng(seed))


# Likely mistakes, given the mask the check expects: (what they return, what to say).
_DROPOUT_MISTAKES = [
    (lambda x, rate, keep: np.where(keep, x, 0.0),
     "you zeroed the right values but did not divide the survivors by 1 - rate"),
    (lambda x, rate, keep: np.where(keep, x * (1 - rate), 0.0),
     "you multiplied the survivors by 1 - rate; divide by it, so the average stays the same"),
    (lambda x, rate, keep: np.where(keep, x / rate, 0.0),
     "divide the survivors by the keep probability 1 - rate, not by the rate"),
    (lambda x, rate, keep: np.where(keep, 0.0, x / (1 - rate)),
     "you kept the values where rng.random(...) < rate; those are the ones to drop (keep where >= rate)"),
    (lambda x, rate, keep: x / (1 - rate),
     "nothing was set to 0: zero the values whose random number is below the rate"),
]


def _diagnose_dropout(args, kwargs, got):
    x, rate = np.asarray(args[0], dtype=float), args[1]
    if np.shape(got) != x.shape:
        return "return an array of the same shape as x"
    keep = np.random.default_rng(kwargs["seed"]).random(x.shape) >= rate  # the mask the check expects
    for mistake, advice in _DROPOUT_MISTAKES:
        if np.allclose(got, mistake(x, rate, keep)):
            return advice
    return None


class _SeededFunctionQuestion(FunctionQuestion):
    """A FunctionQuestion for ``f(x, rate, rng)``: each case gives a seed, and the learner's function and
    the reference each get a fresh generator with that seed, so both draw the same random numbers."""

    def _verdict(self, answer):
        return super()._verdict(_seeded(answer) if callable(answer) else answer)


_rng = np.random.default_rng(3)
q2 = _SeededFunctionQuestion(
    "q2",
    "Write my_dropout(x, rate, rng): inverted dropout for training. Draw one random number per value with "
    "rng.random(x.shape) (exactly this, once, so the check can reproduce your mask), keep the values whose "
    "number is >= rate, divide them by 1 - rate, and set the others to 0. Return an array of x's shape.",
    reference=_seeded(ops.dropout),
    cases=[
        ((np.ones((4, 4)), 0.5), {"seed": 0}),
        ((_rng.normal(size=(100, 10)), 0.25), {"seed": 1}),
        ((_rng.normal(size=(2, 5, 5, 3)), 0.9), {"seed": 2}),   # a batch of 3-channel feature maps
        ((_rng.normal(size=(8,)), 0.0), {"seed": 3}),           # rate 0: nothing changes
    ],
    hint="keep = rng.random(x.shape) >= rate is a boolean mask; np.where(keep, x / (1 - rate), 0) uses it.",
    solution=source_of(_my_dropout_solution, "my_dropout"),
    diagnose=_diagnose_dropout,
)


# --- q3: dropout at inference -----------------------------------------------

X = np.array([[1.0, 2.0],
              [3.0, 4.0]])


def _inference_solution():
    # At inference dropout does nothing: every unit takes part and nothing is rescaled,
    # because the survivors were already scaled up during training.
    return ops.dropout(X, rate=0.5, training=False)  # X itself


def _diagnose_inference(answer):
    if isinstance(answer, str):
        return "right idea if you wrote 'nothing': now give the array it returns"
    answer = np.asarray(answer, dtype=float)
    if answer.shape != X.shape:
        return None
    if np.allclose(answer, X * 0.5):
        return ("multiplying by 1 - rate at inference is the original, non-inverted dropout; inverted dropout "
                "scales during training instead, so inference leaves the values alone")
    if np.allclose(answer, X * 2):
        return "the 1 / (1 - rate) scaling happens only in training"
    if np.any(answer == 0):
        return "nothing is set to 0 at inference: every unit is used"
    return None


q3 = ValueQuestion(
    "q3",
    "x = np.array([[1., 2.], [3., 4.]]). What does ops.dropout(x, rate=0.5, training=False) return, "
    "as when a trained model predicts? Answer with the array, without running it.",
    expected=_inference_solution(),
    hint="Which step of inverted dropout makes sure that nothing needs to change after training?",
    solution=source_of(_inference_solution, "at_inference"),
    diagnose=_diagnose_inference,
)


# --- q4: a small CNN with dropout -------------------------------------------

def _small_cnn_solution():
    import keras

    model = keras.Sequential([
        keras.Input((28, 28, 1)),
        keras.layers.Conv2D(32, 3, activation="relu"),     # (26, 26, 32), 3*3*1*32 + 32 = 320 weights
        keras.layers.MaxPool2D(2),                         # (13, 13, 32)
        keras.layers.Flatten(),                            # 5,408 numbers
        keras.layers.Dropout(0.5),                         # no weights: it only zeroes and rescales
        keras.layers.Dense(10, activation="softmax"),      # 5,408 * 10 + 10 = 54,090 weights
    ])
    return model  # 54,410 weights, the same as without the Dropout


q4 = ModelQuestion(
    "q4",
    "Build a keras.Sequential model: keras.Input((28, 28, 1)), Conv2D with 32 filters of 3x3 and ReLU "
    "(no padding), MaxPool2D(2), Flatten, Dropout(0.5), Dense(10) with softmax. How many weights does the "
    "Dropout layer add?",
    layer_types=["Conv2D", "MaxPooling2D", "Flatten", "Dropout", "Dense"],
    params=54_410,
    hint="Build it, then compare model.count_params() with and without the Dropout layer.",
    solution=source_of(_small_cnn_solution, "small_cnn"),
)


# --- q5: why it works -------------------------------------------------------

q5 = ThoughtQuestion(
    "q5",
    "Why does dropout reduce overfitting? Think of what a unit can rely on when any other unit may be "
    "missing at the next step.",
    solution=(
        "Without dropout, units can co-adapt: one unit learns to fix another's mistakes on exactly these training "
        "digits, and together they memorise them (training loss near 0, validation loss rising). With dropout any "
        "unit may be missing at any step, so no unit can count on a particular partner: each must be useful on "
        "its own and the information gets spread over many units. That is redundancy, and it generalises better.\n"
        "A second view: every step trains a different thinned network that shares weights with the others; "
        "at inference the full network (with inverted scaling) behaves like an average of all those networks, "
        "and averaging models reduces variance. The price: noisier training that needs more epochs, and a "
        "training accuracy (measured with dropout on) below what the model really does."
    ),
)
