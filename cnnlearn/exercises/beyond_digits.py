"""Exercises for notebook 09, beyond digits: colour images of any size.

- ``q1`` the number of weights of a Conv2D on colour images (a value)
- ``q2`` turn a grey first-layer kernel into a colour one (a function)
- ``q3`` the feature maps' shape before GlobalAveragePooling2D, for an image of any size (a value)
- ``q4`` resize, crop or pad: which for small objects, and why (a thought)

Each solution is real code below (``_..._solution``); ``solution()`` prints its source under the
public name the notebook uses, followed by the ``answer = ...`` line that the exercise cell checks, so
that it runs as pasted into that cell.
"""

import numpy as np

from cnnlearn import ops
from cnnlearn.exercises.questions import FunctionQuestion, ThoughtQuestion, ValueQuestion, source_of


# --- q1: weights with three input channels ------------------------------------

def _colour_weights_solution():
    # Each of the 16 filters has one 5x5 slice per input channel (3 of them), plus one bias.
    return 5 * 5 * 3 * 16 + 16


def _diagnose_colour_weights(answer):
    if not isinstance(answer, (int, float, np.number)) or isinstance(answer, bool):
        return "give one number"
    if answer == 5 * 5 * 16 + 16:
        return "that is for grey images: every filter has a 5x5 slice for each of the 3 channels"
    if answer == 5 * 5 * 3 * 16:
        return "add one bias per filter"
    if answer == 3 * (5 * 5 * 16 + 16):
        return "a filter has one bias, not one per channel: its three slices' sums are added, then one bias"
    if answer == 5 * 5 * 3 + 16:
        return "each of the 16 filters has its own 5x5x3 weights"
    return None


q1 = ValueQuestion(
    "q1",
    "How many weights (kernels and biases) does keras.layers.Conv2D(16, 5) have on colour images "
    "(input shape (None, None, 3))?",
    expected=_colour_weights_solution(),
    hint="kernel_h x kernel_w x in_channels x filters, plus one bias per filter (ops.conv2d_params).",
    solution=source_of(_colour_weights_solution, "colour_weights") + "\n\nanswer = colour_weights()  # 1216",
    diagnose=_diagnose_colour_weights,
)


# --- q2: a grey kernel made colour ---------------------------------------------

def _grey_to_rgb_solution(kernel):
    # kernel: (kh, kw, 1, filters). Repeat the grey slice for R, G and B and divide by 3:
    # on a grey image (R = G = B) the three slices' responses add up to the grey kernel's response.
    kernel = np.asarray(kernel)
    return np.repeat(kernel, 3, axis=2) / 3


def _diagnose_grey_to_rgb(args, kwargs, got):
    kernel, got = np.asarray(args[0]), np.asarray(got)
    expected = np.repeat(kernel, 3, axis=2) / 3
    if got.shape == expected.shape and np.allclose(got, 3 * expected):
        return "divide by 3: the three channels' responses are added, so a grey image would give 3x the response"
    if got.shape[2:] == (1, 3 * kernel.shape[3]):
        return "you repeated along the filters' axis (3): repeat along the input channels' axis, axis=2"
    if got.size == 3 * kernel.size and got.shape != expected.shape:
        return "repeat along the input channels' axis, axis=2 (kernels are (kh, kw, in_channels, filters))"
    return None


_rng = np.random.default_rng(9)
q2 = FunctionQuestion(
    "q2",
    "Write grey_to_rgb(kernel): from a first-layer kernel of shape (kh, kw, 1, filters), trained on grey "
    "digits, make one of shape (kh, kw, 3, filters) that gives the same response on a grey image stored "
    "as three equal channels.",
    reference=_grey_to_rgb_solution,
    cases=[((_rng.normal(size=(3, 3, 1, 4)),), {}), ((_rng.normal(size=(5, 5, 1, 2)),), {}),
           ((_rng.normal(size=(3, 3, 1, 1)),), {})],
    hint="np.repeat(kernel, 3, axis=2), then think about what the sum over the three channels does.",
    solution=source_of(_grey_to_rgb_solution, "grey_to_rgb") + "\n\nanswer = grey_to_rgb",
    diagnose=_diagnose_grey_to_rgb,
)


# --- q3: shapes in an any-size model ---------------------------------------------

def _maps_shape_solution():
    # Conv2D(32, 3) without padding: 50 - 2 = 48, 70 - 2 = 68; MaxPool2D(2) halves: 24, 34.
    # GlobalAveragePooling2D then averages each of the 32 maps to one number, whatever 24 x 34 was.
    height = ops.output_size(ops.output_size(50, 3), 2, stride=2)
    width = ops.output_size(ops.output_size(70, 3), 2, stride=2)
    return (height, width, 32)


def _diagnose_maps_shape(answer):
    if np.ndim(answer) == 0:
        return "give the whole shape as a tuple (height, width, channels)"
    shape = tuple(answer)
    if shape == (25, 35, 32):
        return "Conv2D's default padding is 'valid': a 3x3 kernel takes 2 pixels off each side's length first"
    if shape == (48, 68, 32):
        return "that is after the convolution: MaxPool2D(2) halves height and width"
    if shape == (32,):
        return "that is after GlobalAveragePooling2D; the question asks for the maps it averages"
    if len(shape) == 3 and shape[:2] == (24, 34):
        return "the channels are the convolution's 32 filters, not the image's 3"
    if shape == (34, 24, 32):
        return "height comes first: the image is 50 high and 70 wide"
    return None


q3 = ValueQuestion(
    "q3",
    "The any-size model starts keras.Input((None, None, 3)), Conv2D(32, 3) (no padding), MaxPool2D(2), then "
    "GlobalAveragePooling2D. For one colour image 50 high and 70 wide, what is the shape of the feature maps "
    "that GlobalAveragePooling2D averages (height, width, channels)?",
    expected=_maps_shape_solution(),
    hint="n - 3 + 1 for the convolution, then // 2 for the pooling; the channels are the filters.",
    solution=source_of(_maps_shape_solution, "maps_shape") + "\n\nanswer = maps_shape()  # (24, 34, 32)",
    diagnose=_diagnose_maps_shape,
)


# --- q4: resize, crop or pad --------------------------------------------------

q4 = ThoughtQuestion(
    "q4",
    "Your photos are 4000x3000 and the thing to recognize covers about 1% of the picture. Would you resize "
    "them to 224x224, crop them, or pad them? What would you try instead?",
    solution="Resizing to 224x224 shrinks everything about 15 times: a 1% object (about 400x300 pixels) "
             "becomes about 22x17, and its details vanish; padding keeps the aspect ratio but shrinks just as "
             "much. A centre crop keeps full detail but may cut the object out. Better: tiles (crops) of the "
             "full-resolution image, each classified, or a model that accepts larger inputs (global average "
             "pooling), or a detector that finds where the object is first.",
    rubric=[
        "Resizing 4000x3000 to 224x224 shrinks everything about 15 times: the object becomes a couple of "
        "dozen pixels across and its details are lost.",
        "Padding keeps the aspect ratio but shrinks the image just as much; a crop keeps full detail but "
        "may cut the object out.",
        "An alternative that keeps the detail: classify tiles of the full-resolution image, or use a model "
        "that takes larger inputs (global average pooling), or find the object first (a detector).",
    ],
)
