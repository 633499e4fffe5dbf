"""Exercises for notebook 07, data augmentation.

- q1  the ``RandomRotation`` factor for 15 degrees (a value)
- q2  shift digits by whole pixels, filling with background (a function)
- q3  the one transformation that is wrong for digits (a value)
- q4  an augmentation pipeline of Keras layers (a model)
- q5  why augmented training accuracy trails validation accuracy (a thought)
"""


import keras
import numpy as np

from cnnlearn.evaluate import shift
from cnnlearn.exercises.questions import FunctionQuestion, ModelQuestion, ThoughtQuestion, ValueQuestion, source_of

# -- q1 ---------------------------------------------------------------------


def _rotation_factor():
    degrees = 15
    return degrees / 360  # RandomRotation takes a fraction of a full turn


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
    solution=source_of(_rotation_factor),
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
    solution=source_of(_my_shift_solution),
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
    solution=source_of(_unsafe_transformation),
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
    hint="keras.Sequential([keras.layers.RandomRotation(...), ...]); the rotation factor is your answer to q1.",
    solution=source_of(_pipeline_solution),
)

# -- q5 ---------------------------------------------------------------------

q5 = ThoughtQuestion(
    "q5",
    "In the measured comparison, the augmented model's training accuracy stayed below its validation "
    "accuracy. Why is that not a bug, and what does it suggest about training for more epochs?",
    solution=(
        "Training accuracy is measured on augmented digits (rotated, zoomed, shifted: harder than the "
        "originals) with dropout switched on; validation accuracy on clean digits with dropout off. So the "
        "training figure is the harder test. That the model does not yet fit even its training digits says "
        "it has not finished learning: more epochs help the augmented run, while the run without augmentation "
        "already fits its training digits and has less left to gain."
    ),
)
