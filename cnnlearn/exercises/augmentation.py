"""Exercises for notebook 07, data augmentation.

- q1  the ``RandomRotation`` factor for 15 degrees (a value)
- q2  shift digits by whole pixels, filling with background (a function)
- q3  the one transformation that is wrong for digits (a value)
- q4  an augmentation pipeline of Keras layers (a model)
- q5  why the accuracy logged during fit trails the accuracy at inference (a thought)
- q6  a shift augmentation that wins on moved digits (a training experiment)
"""

import functools

import keras
import numpy as np

from cnnlearn import settings
from cnnlearn.evaluate import shift
from cnnlearn.exercises.questions import (ExperimentQuestion, FunctionQuestion, ModelQuestion, ThoughtQuestion,
                                          ValueQuestion, sample_digits, source_of)

# -- q1 ---------------------------------------------------------------------


def _rotation_factor():
    return 15 / 360  # RandomRotation takes a fraction of a full turn


def _diagnose_rotation(answer):
    if np.ndim(answer) != 0:
        return "answer with one number"
    for wrong, why in ((15, "RandomRotation takes a fraction of a full turn, not degrees"),
                       (15 / 180, "that is 15/180, but a full turn is 360 degrees"),
                       (np.radians(15), "that is 15 degrees in radians; RandomRotation takes a fraction of a full turn")):
        if abs(float(answer) - wrong) < 1e-4:
            return why
    return None


q1 = ValueQuestion(
    "q1",
    "keras.layers.RandomRotation(factor) should rotate digits by up to 15 degrees either way. "
    "What is factor?",
    expected=15 / 360, tolerance=1e-4, diagnose=_diagnose_rotation,
    hint="Print keras.layers.RandomRotation(10 / 360).factor: what unit is the factor in?",
    solution="answer = 15 / 360  # RandomRotation takes a fraction of a full turn: 360 degrees is 1",
)

# -- q2 ---------------------------------------------------------------------


def _my_shift_solution(images, dy, dx):
    h, w = images.shape[1:3]
    out = np.zeros_like(images)  # the background moves in: black (0)
    out[:, max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
        images[:, max(-dy, 0):h + min(-dy, 0), max(-dx, 0):w + min(-dx, 0)]
    return out


def _diagnose_shift(args, kwargs, got):
    images, dy, dx = args
    if np.ndim(got) == 4 and np.shape(got)[1:3] != images.shape[1:3]:
        return "the output must keep the input's height and width: fill the uncovered pixels with 0 instead of cropping"
    if np.shape(got) == images.shape and np.allclose(got, np.roll(images, (dy, dx), axis=(1, 2))):
        return "np.roll wraps the pixels that leave one edge back in at the other; fill the uncovered pixels with 0"
    if np.shape(got) == images.shape and np.allclose(got, shift(images, -dy, -dx)):
        return "you moved the images the other way: positive dy is down, positive dx is right"
    return None


_rng = np.random.default_rng(0)
_digits = _rng.uniform(0, 1, (3, 28, 28, 1)).astype(np.float32)
_colour = _rng.uniform(0, 1, (2, 6, 5, 3)).astype(np.float32)

q2 = FunctionQuestion(
    "q2",
    "Write my_shift(images, dy, dx): move images of shape (n, height, width, channels) down by dy "
    "and right by dx whole pixels (negative: up, left), filling the uncovered pixels with 0. "
    "It is what RandomTranslation does for whole-pixel shifts.",
    reference=shift,
    cases=[((_digits, 2, 0), {}), ((_digits, 0, -3), {}), ((_digits, -1, 2), {}),
           ((_digits, 0, 0), {}), ((_colour, 1, -1), {})],
    hint="Start from np.zeros_like(images) and copy a slice of the input into a slice of the output. "
         "np.roll is tempting but wraps the digit around the edge instead of filling with 0.",
    solution=source_of(_my_shift_solution, "my_shift"),
    diagnose=_diagnose_shift,
)

# -- q3 ---------------------------------------------------------------------


def _unsafe_transformation():
    return "flip"  # a mirrored 2, 3, 4, 5 or 7 is not a digit at all


def _diagnose_unsafe(answer):
    answer = str(answer).strip().lower()
    if answer in {"rotation", "zoom", "shift"}:
        return (f"a small {answer} leaves a 3 a 3, so it is safe (only large rotations, like a 6 turned "
                "180 degrees, change the digit); one transformation is wrong at any amount")
    if "flip" in answer or "mirror" in answer:
        return "answer with the single word 'flip'"
    return "answer with one of 'rotation', 'zoom', 'shift', 'flip'"


q3 = ValueQuestion(
    "q3",
    "Which transformation must never be used to augment digits: 'rotation', 'zoom', 'shift' or 'flip'?",
    expected="flip", diagnose=_diagnose_unsafe,
    hint="For each transformation ask: is the changed image still the same digit?",
    solution='answer = "flip"  # a mirrored 2, 3, 5 or 7 is not a digit at all',
)

# -- q4 ---------------------------------------------------------------------


def _pipeline_solution():
    return keras.Sequential([
        keras.layers.RandomRotation(15 / 360, fill_mode="constant"),  # up to 15 degrees
        keras.layers.RandomZoom(0.1, fill_mode="constant"),           # up to 10% in or out
        keras.layers.RandomTranslation(0.1, 0.1, fill_mode="constant"),  # up to 10% each way
    ])


class _PipelineQuestion(ModelQuestion):
    """The layers in order, then the rotation factor (an augmenter has no weights or output shape)."""

    def _verdict(self, answer):
        if not isinstance(answer, keras.Sequential):
            return False, f"{self.name}: expected a keras.Sequential, got {type(answer).__name__}"
        types = [type(layer).__name__ for layer in answer.layers]
        if types != self.layer_types:
            tip = ": leave out RandomFlip, a mirrored digit is not a digit" if "RandomFlip" in types else ""
            return False, f"{self.name}: expected layers {self.layer_types}, got {types}{tip}"
        factor = np.broadcast_to(answer.layers[0].factor, 2)
        if not np.allclose(np.abs(factor), 15 / 360, atol=1e-4):
            return False, (f"{self.name}: the layers are right but RandomRotation's factor is {answer.layers[0].factor}; "
                           "15 degrees either way is 15 / 360 (see q1)")
        return True, f"{self.name}: the pipeline is right: rotate up to 15 degrees, then zoom, then shift."


q4 = _PipelineQuestion(
    "q4",
    "Build an augmenter as a keras.Sequential of three layers, in this order: RandomRotation by up to "
    "15 degrees, RandomZoom by up to 10%, RandomTranslation by up to 10% in height and width.",
    layer_types=["RandomRotation", "RandomZoom", "RandomTranslation"], output_shape=None,
    activations=[None, None, None],  # preprocessing layers have no activation
    hint="keras.Sequential([keras.layers.RandomRotation(...), ...]); the rotation factor is your answer to q1.",
    solution=source_of(_pipeline_solution, "my_augmenter") + "\n\nanswer = my_augmenter()",
)

# -- q5 ---------------------------------------------------------------------

q5 = ThoughtQuestion(
    "q5",
    "In the measured comparison, the augmented models' training accuracy as logged during fit stayed well "
    "below their accuracy on the same digits measured with model.evaluate. Why, and which of the two numbers "
    "tells you whether a model overfits?",
    solution=(
        "The logged number is measured during the epoch, on augmented digits (rotated, zoomed, shifted: harder "
        "than the originals) and with dropout switched on, while the weights are still changing. model.evaluate "
        "measures the finished model on the plain training digits with dropout off, the same way as the "
        "validation digits. Only that second number can be compared with the validation accuracy: their gap "
        "is the overfitting. In the notebook it is largest without augmentation, so augmentation did reduce "
        "overfitting, even though the logged numbers suggested there was none."
    ),
    rubric=[
        "the logged accuracy is measured on augmented digits, which are harder than the plain ones",
        "it is measured with dropout on (and averaged over an epoch in which the weights change)",
        "model.evaluate on the training digits uses the plain digits with dropout off, like validation",
        "overfitting is the gap between that number and the validation accuracy, not logged vs validation",
    ],
)

# -- q6 ---------------------------------------------------------------------

EXPERIMENT_DIGITS, EXPERIMENT_EPOCHS, MAX_MOVE = 300, 15, 3
MIN_GAIN, MAX_LOSS = 0.10, 0.05


@functools.lru_cache(maxsize=1)
def _q6_digits():
    """300 training digits, the 500 validation digits of the bundled sample and a copy of them moved by up to
    MAX_MOVE whole pixels each way (seeded): float32 images, int labels."""
    from cnnlearn import data

    x_few, y_few, x_val, y_val = sample_digits(EXPERIMENT_DIGITS)
    x_val = data.prepare(x_val)
    moves = np.random.default_rng(0).integers(-MAX_MOVE, MAX_MOVE + 1, size=(len(x_val), 2))
    x_moved = np.concatenate([shift(image[None], dy, dx) for image, (dy, dx) in zip(x_val, moves)])
    return data.prepare(x_few), y_few, x_val, x_moved, y_val


@functools.lru_cache(maxsize=8)
def _q6_accuracies(amount):
    """Train q6's tiny CNN (seed settings.SEED) with shifts of up to ``amount`` (0: none); accuracy on crisp and moved digits."""
    from cnnlearn import settings, training

    x_few, y_few, x_val, x_moved, y_val = _q6_digits()
    training.set_seed(settings.SEED)
    model = keras.Sequential([
        keras.Input((28, 28, 1)),
        keras.layers.Conv2D(16, 3, activation="relu"),
        keras.layers.MaxPool2D(2),
        keras.layers.Flatten(),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
    moving = keras.layers.RandomTranslation(amount, amount, fill_mode="constant", seed=settings.SEED) if amount else None
    model.fit(training.dataset(x_few, y_few, batch_size=32, shuffle=True, augment=moving, seed=settings.SEED),
              epochs=EXPERIMENT_EPOCHS, verbose=0)
    return tuple(model.evaluate(training.dataset(x, y_val, batch_size=500), verbose=0)[1] for x in (x_val, x_moved))


def _q6_measure(answer):
    if isinstance(answer, bool) or not isinstance(answer, (int, float, np.number)) or not 0 <= answer <= 1:
        raise ValueError(f"answer with the shift as a fraction of the image size, from 0 to 1; got {answer!r}")
    crisp, moved = _q6_accuracies(round(float(answer), 4))
    crisp_before, moved_before = _q6_accuracies(0.0)
    return {"moved accuracy": moved, "gain on moved digits": moved - moved_before,
            "crisp accuracy": crisp, "loss on crisp digits": crisp_before - crisp}


q6 = ExperimentQuestion(
    "q6",
    f"A tiny CNN is trained for {EXPERIMENT_EPOCHS} epochs on {EXPERIMENT_DIGITS} of the bundled digits "
    f"(seed {settings.SEED}), once without augmentation and once with keras.layers.RandomTranslation(answer, answer, "
    f"fill_mode='constant'), then measured on the validation digits and on a copy of them moved by up to "
    f"{MAX_MOVE} pixels each way. Find a shift that beats no augmentation on the moved digits by at least "
    f"{MIN_GAIN:.0%} without losing more than {MAX_LOSS:.0%} on the crisp ones. Answer with the shift.",
    measure=_q6_measure,
    passes=lambda measured: (measured["gain on moved digits"] >= MIN_GAIN
                             and measured["loss on crisp digits"] <= MAX_LOSS),
    target=f"at least {MIN_GAIN:.2f} more accuracy on the moved digits and at most {MAX_LOSS:.2f} less on the "
           f"crisp ones than without augmentation",
    hint=f"The moved digits sit up to {MAX_MOVE} pixels off; what fraction of 28 pixels is that? Too small a shift "
         "teaches too little; too large a shift moves strokes out of the picture and the crisp digits suffer.",
    solution="answer = 0.1  # up to 2.8 pixels: about the moves the validation copy has\n"
             "ex.q6.check(answer);\n"
             "# 0.05 gains too little on the moved digits; from about 0.15 the network, shown digits pushed\n"
             "# half out of the frame, loses too much on the crisp ones.",
)
