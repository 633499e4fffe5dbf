"""Exercises for notebook 04, dropout.

- ``q1`` the factor inverted dropout multiplies the kept values by, for rate 0.25 (a value)
- ``q2`` write inverted dropout in NumPy (a function, checked with a seeded generator)
- ``q3`` what dropout does at inference (a value)
- ``q4`` the weights of a small CNN with dropout, worked out before running it (a value)
- ``q5`` build that CNN (a model)
- ``q6`` how many keep-or-drop choices SpatialDropout2D makes for a batch of feature maps (a value)
- ``q7`` why does dropout reduce overfitting? (a thought)
- ``q8`` choose a dropout rate that closes the train/validation loss gap of a small CNN without
  costing validation accuracy, trained in seconds (an experiment)

Each solution is real code below (``_..._solution``); ``solution()`` prints its source under the
name the learner uses, followed by the lines that answer the exercise's cell in notebook 04.
"""


import numpy as np

from cnnlearn import ops, settings
from cnnlearn.exercises.questions import (ExperimentQuestion, FunctionQuestion, ModelQuestion, ThoughtQuestion,
                                          ValueQuestion, sample_digits, source_of)


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
    solution=source_of(_scale_solution, "scale") + "\n\nanswer = scale(0.25)  # 1.3333...",
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
    solution=source_of(_my_dropout_solution, "my_dropout") + "\n\nex.q2.check(my_dropout);",
    diagnose=_diagnose_dropout,
)


# --- q3: dropout at inference -----------------------------------------------

X = np.array([[1.0, 2.0],
              [3.0, 4.0]])


def _inference_solution(x):
    # At inference dropout does nothing: every unit takes part and nothing is rescaled,
    # because the survivors were already scaled up during training.
    return ops.dropout(x, rate=0.5, training=False)  # x itself


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
    expected=_inference_solution(X),
    hint="Which step of inverted dropout makes sure that nothing needs to change after training?",
    solution=source_of(_inference_solution, "at_inference")
    + "\n\nanswer = at_inference(np.array([[1., 2.], [3., 4.]]))  # x itself: [[1, 2], [3, 4]]",
    diagnose=_diagnose_inference,
)


# --- q4: the weights of a small CNN with dropout, before running it ---------

def _small_cnn_weights_solution():
    conv = 3 * 3 * 1 * 32 + 32        # Conv2D(32, 3): a 3x3 kernel per filter, one input channel, plus biases
    flat = 13 * 13 * 32               # 28 - 3 + 1 = 26, pooled to 13: Flatten gives 5,408 numbers
    dense = flat * 10 + 10            # Dense(10): a weight per input and unit, plus biases
    return conv + dense               # MaxPool2D, Flatten and Dropout have no weights


def _diagnose_weights(answer):
    if isinstance(answer, bool) or not isinstance(answer, (int, float, np.number)):
        return None
    conv, dense = 3 * 3 * 32 + 32, 13 * 13 * 32 * 10 + 10
    known = {
        conv + dense + 13 * 13 * 32: "Dropout has no weights: it only zeroes and rescales what it receives",
        dense: "that is the Dense layer alone: add the convolution's 3 * 3 * 1 * 32 + 32",
        conv: "that is the convolution alone: add the Dense layer, 13 * 13 * 32 inputs times 10 units, plus 10 biases",
        3 * 3 * 32 + 13 * 13 * 32 * 10: "no biases? the convolution has one per filter (32), the Dense layer one per unit (10)",
        26 * 26 * 32 * 10 + 10 + conv: "that is without the MaxPool2D: it halves 26 to 13 before Flatten",
        14 * 14 * 32 * 10 + 10 + conv: "the convolution has no padding: 28 - 3 + 1 = 26 per side, pooled to 13, not 14",
        0: "0 is what the Dropout layer adds; the question asks for the whole model",
    }
    return known.get(answer)


q4 = ValueQuestion(
    "q4",
    "Before you build it: how many weights does this model have? keras.Input((28, 28, 1)), "
    "Conv2D(32, 3, activation='relu') (no padding), MaxPool2D(2), Flatten, Dropout(0.5), "
    "Dense(10, activation='softmax'). Answer with a number.",
    expected=_small_cnn_weights_solution(),
    hint="Work out each layer's output shape first: (26, 26, 32), then (13, 13, 32), then 5,408 numbers. "
         "A Conv2D has kh * kw * in_channels * filters + filters weights, a Dense inputs * units + units. "
         "What would a Dropout layer learn?",
    solution=source_of(_small_cnn_weights_solution, "small_cnn_weights")
    + "\n\nanswer = small_cnn_weights()  # 54,410, the same as without the Dropout",
    diagnose=_diagnose_weights,
)


# --- q5: build that CNN -------------------------------------------------------

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


q5 = ModelQuestion(
    "q5",
    "Build q4's model as a keras.Sequential: keras.Input((28, 28, 1)), Conv2D with 32 filters of 3x3 and ReLU "
    "(no padding), MaxPool2D(2), Flatten, Dropout(0.5), Dense(10) with softmax. check() prints its number of "
    "weights: compare it with your answer to q4.",
    layer_types=["Conv2D", "MaxPooling2D", "Flatten", "Dropout", "Dense"],
    activations=["relu", None, None, None, "softmax"],
    params=54_410,
    hint="model.count_params() counts the weights; compare it with and without the Dropout layer.",
    solution=source_of(_small_cnn_solution, "small_cnn") + "\n\nanswer = small_cnn()",
)


# --- q6: SpatialDropout2D's random choices -------------------------------------

def _spatial_choices_solution(batch=8, height=14, width=14, channels=64):
    # SpatialDropout2D keeps or drops a whole feature map: one choice per digit and channel,
    # the same for all height * width pixels of that map (Keras's noise shape is (batch, 1, 1, channels)).
    return batch * channels  # plain Dropout: batch * height * width * channels = 100,352 choices


def _diagnose_spatial(answer):
    if isinstance(answer, bool) or not isinstance(answer, (int, float, np.number)):
        return None
    known = {
        8 * 14 * 14 * 64: "that is plain Dropout, one choice per value; SpatialDropout2D drops whole feature maps",
        64: "each digit of the batch gets its own choices: one per digit and channel",
        14 * 14 * 64: "that is one choice per value of a single digit; SpatialDropout2D makes one per feature map",
        8: "one per digit would drop everything or nothing; the choice is made for each channel of each digit",
        14 * 14: "the pixels of one map share their choice; count the maps instead",
    }
    return known.get(answer)


q6 = ValueQuestion(
    "q6",
    "A batch of feature maps of shape (8, 14, 14, 64) goes through keras.layers.SpatialDropout2D(0.25) in "
    "training. How many keep-or-drop choices does it make? Answer with a number.",
    expected=_spatial_choices_solution(),
    hint="Plain Dropout decides for every single value. SpatialDropout2D decides for whole feature maps: how "
         "many feature maps are there in the batch?",
    solution=source_of(_spatial_choices_solution, "spatial_choices")
    + "\n\nanswer = spatial_choices()  # 512 (plain Dropout: 100,352)",
    diagnose=_diagnose_spatial,
)


# --- q7: why it works -------------------------------------------------------

q7 = ThoughtQuestion(
    "q7",
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
    rubric=[
        "without dropout, units co-adapt: they fix each other's mistakes on exactly the training digits and "
        "together memorise them",
        "with dropout no unit can count on another being there, so each must be useful on its own: the "
        "information is spread over many units (redundancy)",
        "each step trains a different thinned network; the full network at inference acts like an average of "
        "them, and averaging reduces variance",
        "the price: noisier, slower training, and a training accuracy logged with dropout on that understates "
        "the trained network",
    ],
)


# --- q8: an experiment: a dropout rate that closes the gap ------------------------

EXPERIMENT_DIGITS, EXPERIMENT_EPOCHS = 300, 30
MAX_LOSS_GAP, MIN_ACCURACY = 0.42, 0.84


def _q8_network(rate):
    """q8's network: a convolution, pooling and a dense layer, with Dropout(rate) before each Dense layer."""
    import keras

    return keras.Sequential([
        keras.Input((28, 28, 1)),
        keras.layers.Conv2D(16, 3, activation="relu"),
        keras.layers.MaxPool2D(2),
        keras.layers.Flatten(),
        keras.layers.Dropout(rate),
        keras.layers.Dense(128, activation="relu"),
        keras.layers.Dropout(rate),
        keras.layers.Dense(10, activation="softmax"),
    ])


def _q8_measure(answer):
    if isinstance(answer, bool) or not isinstance(answer, (int, float, np.number)) or not 0 <= answer < 1:
        raise ValueError(f"answer with a dropout rate: a number from 0 up to (not including) 1, got {answer!r}")
    from cnnlearn import settings, training

    x_few, y_few, x_val, y_val = sample_digits(EXPERIMENT_DIGITS)
    training.set_seed(settings.SEED)
    model = _q8_network(float(answer))
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
    model.fit(training.dataset(x_few, y_few, batch_size=32, shuffle=True, seed=settings.SEED), epochs=EXPERIMENT_EPOCHS,
              verbose=0)
    # measured at inference (dropout off), on the training digits and on the validation digits
    train_loss, _ = model.evaluate(training.dataset(x_few, y_few, batch_size=500), verbose=0)
    val_loss, val_accuracy = model.evaluate(training.dataset(x_val, y_val, batch_size=500), verbose=0)
    return {"train loss": train_loss, "validation loss": val_loss, "loss gap": val_loss - train_loss,
            "validation accuracy": val_accuracy}


q8 = ExperimentQuestion(
    "q8",
    f"A small CNN, Conv2D(16, 3, activation='relu'), MaxPool2D(2), Flatten, Dropout(rate), "
    f"Dense(128, activation='relu'), Dropout(rate), Dense(10, activation='softmax'), is trained for "
    f"{EXPERIMENT_EPOCHS} epochs on {EXPERIMENT_DIGITS} of the bundled digits (seed {settings.SEED}, rmsprop, batches of 32), "
    f"then measured at inference on those digits and on the 500 validation digits. With rate 0 it memorises "
    f"them: training loss near 0, validation loss far above. Choose the rate so that the loss gap (validation "
    f"loss minus training loss) falls below {MAX_LOSS_GAP} while the validation accuracy stays at least "
    f"{MIN_ACCURACY}. Answer with the rate.",
    measure=_q8_measure,
    passes=lambda measured: (measured["loss gap"] < MAX_LOSS_GAP
                             and measured["validation accuracy"] >= MIN_ACCURACY),
    target=f"loss gap below {MAX_LOSS_GAP} and validation accuracy at least {MIN_ACCURACY} "
           f"after {EXPERIMENT_EPOCHS} epochs",
    hint="Start from 0 and go up by 0.1 or 0.2. The more the network drops, the less it can memorise and the "
         "smaller the gap; but drop too much and it cannot even learn its training digits, and the validation "
         "accuracy falls.",
    solution="answer = 0.6  # loss gap about 0.39, validation accuracy about 0.86\n"
             "ex.q8.check(answer);\n"
             "# With rate 0 the gap is about 0.76 and the validation accuracy about 0.83: the network memorised.\n"
             "# The gap shrinks as the rate grows (about 0.49 at 0.4, 0.32 at 0.7), but at 0.8 the validation\n"
             "# accuracy falls to about 0.81 and at 0.9 to about 0.73: too little of the network is left to learn.",
)
