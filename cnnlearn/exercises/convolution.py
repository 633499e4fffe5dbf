"""Exercises for notebook 02, convolution.

- ``q1``: the output shape of a 3x3 "valid" convolution on a 28x28 digit (value)
- ``q2``: write ``my_conv2d`` for one grey image, with stride and padding (function)
- ``q3``: the number of weights of ``Conv2D(64, 3)`` on 32 input channels (value)
- ``q4``: build the smallest CNN: one strided convolution and a classifier (Keras model)
- ``q5``: why one kernel for every position? (thought)

Each solution below is real code, tested in ``tests/test_exercises_convolution.py``;
``solution()`` prints its source.
"""


import numpy as np

from cnnlearn import ops
from cnnlearn.exercises.questions import FunctionQuestion, ModelQuestion, ThoughtQuestion, ValueQuestion, source_of


# --------------------------------------------------------------------------
# q1: output shape
# --------------------------------------------------------------------------

def _q1_solution():
    n, k = 28, 3
    return (n - k + 1, n - k + 1)  # a 3x3 window fits in 26 positions along each axis


def _q1_diagnose(answer):
    if isinstance(answer, (int, np.integer)):
        return "give both height and width, as a tuple such as (height, width)"
    if not isinstance(answer, (tuple, list)) or len(answer) != 2:
        return "give a tuple of two numbers, (height, width), without the batch or channel axis"
    shape = tuple(answer)
    if shape == (28, 28):
        return "that is the input size: did you pad? 'valid' means no padding, so the output shrinks"
    if shape in {(25, 25), (27, 27)}:
        return "off by one: the window's top-left corner can sit at positions 0 .. 28 - 3, that is 28 - 3 + 1 of them"
    if shape in {(13, 13), (14, 14)}:
        return "that would be stride 2; here the window moves one pixel at a time"
    return None


q1 = ValueQuestion(
    "q1",
    "A Conv2D layer with a 3x3 kernel, stride 1 and padding='valid' runs over a 28x28 digit. "
    "What is the (height, width) of each output feature map?",
    expected=_q1_solution(),
    hint="Count the positions where a 3x3 window fits entirely inside 28 pixels; ops.output_size says the same.",
    solution="'valid' means no padding: the window must fit inside the image.\n\n" + source_of(_q1_solution),
    diagnose=_q1_diagnose,
)


# --------------------------------------------------------------------------
# q2: a convolution of one grey image
# --------------------------------------------------------------------------

def _my_conv2d_solution(image, kernel, stride=1, padding="valid"):
    k_h, k_w = kernel.shape
    if padding == "same":  # zeros around the image, the odd one at the bottom/right (as Keras)
        pads = []
        for n, k in zip(image.shape, kernel.shape):
            out = (n + stride - 1) // stride  # ceil(n / stride)
            total = max((out - 1) * stride + k - n, 0)
            pads.append((total // 2, total - total // 2))
        image = np.pad(image, pads)
    out_h = (image.shape[0] - k_h) // stride + 1
    out_w = (image.shape[1] - k_w) // stride + 1
    out = np.zeros((out_h, out_w))
    for i in range(out_h):
        for j in range(out_w):
            window = image[i * stride:i * stride + k_h, j * stride:j * stride + k_w]
            out[i, j] = (window * kernel).sum()
    return out


def _q2_reference(image, kernel, stride=1, padding="valid"):
    return ops.conv2d(image, kernel, stride=stride, padding=padding)


def _q2_cases():
    rng = np.random.default_rng(0)
    digit_like = rng.random((28, 28))
    toy = np.arange(25.0).reshape(5, 5)
    edge = np.array([[-1.0, 0.0, 1.0]] * 3)
    return [
        ((toy, edge), {}),                                          # the simplest case
        ((digit_like, rng.normal(size=(3, 3))), {}),
        ((rng.random((7, 9)), rng.normal(size=(2, 3))), {}),          # not square
        ((digit_like, rng.normal(size=(3, 3))), {"stride": 2}),      # stride 2: 13x13
        ((digit_like, rng.normal(size=(5, 5))), {"padding": "same"}),
        ((digit_like, rng.normal(size=(3, 3))), {"stride": 2, "padding": "same"}),  # uneven padding
        ((rng.random((6, 6)), rng.normal(size=(2, 2))), {"padding": "same"}),        # even kernel
    ]


def _q2_diagnose(args, kwargs, got):
    image, kernel = args
    stride, padding = kwargs.get("stride", 1), kwargs.get("padding", "valid")
    shape = np.shape(got)
    valid = tuple(ops.output_size(n, k, stride, "valid") for n, k in zip(image.shape, kernel.shape))
    unstrided = tuple(ops.output_size(n, k, 1, padding) for n, k in zip(image.shape, kernel.shape))
    if len(shape) != 2:
        return "return a 2-D array (out_height, out_width) for a 2-D image"
    if padding == "same" and shape == valid:
        return "that is the 'valid' size: did you forget to pad with zeros for padding='same'?"
    if stride > 1 and shape == unstrided:
        return f"that is the size for stride 1: did you move the window {stride} pixels at a time?"
    if shape == image.shape and padding == "valid":
        return "with padding='valid' the output is smaller than the image: did you pad?"
    return None


q2 = FunctionQuestion(
    "q2",
    "Write my_conv2d(image, kernel, stride=1, padding='valid') for one grey image (a 2-D array) and one "
    "2-D kernel, returning the 2-D feature map: each value is a window of the image times the kernel, summed. "
    "Support stride and padding 'valid' or 'same' (Keras's rule: pad with zeros so the output is "
    "ceil(n / stride) long; when the padding is odd, the extra zero goes at the bottom/right). "
    "About 15 lines with two for loops.",
    reference=_q2_reference,
    cases=_q2_cases(),
    hint="Pad first (for 'same', np.pad with the total padding per axis split as total // 2 before, the rest after; "
         "the total is (out - 1) * stride + kernel - n). Then out[i, j] is the sum of "
         "image[i*stride : i*stride + k_h, j*stride : j*stride + k_w] * kernel.",
    solution=source_of(_my_conv2d_solution),
    diagnose=_q2_diagnose,
)


# --------------------------------------------------------------------------
# q3: counting weights
# --------------------------------------------------------------------------

def _q3_solution():
    kernel_size, in_channels, filters = 3, 32, 64
    return kernel_size * kernel_size * in_channels * filters + filters  # one bias per filter


def _q3_diagnose(answer):
    try:
        answer = int(answer)
    except (TypeError, ValueError):
        return "give a whole number"
    if answer == 3 * 3 * 32 * 64:
        return "you forgot the biases: one per filter"
    if answer == 3 * 3 * 64 + 64:
        return "you forgot the input channels: each kernel is 3x3 on every one of the 32 input channels"
    if answer == 3 * 3 * 64:
        return "you forgot the input channels (each kernel is 3x3x32) and the biases (one per filter)"
    if answer == 3 * 3 * 32 * 64 + 32:
        return "one bias per filter (output channel), not per input channel"
    return None


q3 = ValueQuestion(
    "q3",
    "How many weights (parameters, biases included) does Conv2D(64, 3) have when its input has 32 channels?",
    expected=_q3_solution(),
    hint="Each of the 64 filters is a 3x3 window over all 32 input channels, plus one bias. "
         "Check your count with ops.conv2d_params or layer.count_params().",
    solution=source_of(_q3_solution),
    diagnose=_q3_diagnose,
)


# --------------------------------------------------------------------------
# q4: the smallest CNN
# --------------------------------------------------------------------------

def _q4_solution():
    import keras

    return keras.Sequential([
        keras.Input((28, 28, 1)),
        keras.layers.Conv2D(8, 3, strides=2, padding="same", activation="relu"),  # 14x14x8, 80 weights
        keras.layers.Flatten(),                                                  # 1,568 values
        keras.layers.Dense(10, activation="softmax"),                            # 15,690 weights
    ])


q4 = ModelQuestion(
    "q4",
    "Build a keras.Sequential model for 28x28x1 digits: one Conv2D with 8 filters of 3x3, stride 2, "
    "padding='same' and activation='relu'; then Flatten; then Dense(10, activation='softmax'). "
    "Before you run it: how many weights will it have?",
    layer_types=["Conv2D", "Flatten", "Dense"],
    params=(3 * 3 * 1 * 8 + 8) + (14 * 14 * 8 * 10 + 10),  # conv + dense
    hint="Start with keras.Input((28, 28, 1)). The convolution gives 14x14x8 maps: 1,568 values for the Dense layer.",
    solution="Conv2D: 3*3*1*8 + 8 = 80 weights. Flatten: 14*14*8 = 1,568 values. "
             "Dense: 1,568*10 + 10 = 15,690 weights.\n\n" + source_of(_q4_solution),
)


# --------------------------------------------------------------------------
# q5: weight sharing
# --------------------------------------------------------------------------

q5 = ThoughtQuestion(
    "q5",
    "A Conv2D layer uses the same kernel at every position of the image; a Dense layer has separate weights "
    "for every input-output pair. Give two reasons why sharing one kernel across positions suits digits. "
    "(Answer as a string.)",
    solution="1. Far fewer weights: a 5x5 kernel needs 26 weights (bias included) however large the image, "
             "where a Dense layer with the same inputs and outputs needs millions. With only thousands of "
             "training digits, fewer weights means less to learn and less to overfit.\n"
             "2. A stroke looks the same wherever it is: a detector for a vertical edge is useful at the top "
             "left and at the bottom right. Sharing the kernel means what is learned in one place is used "
             "everywhere, and a digit shifted by a few pixels gives the same feature map, shifted "
             "(translation equivariance).",
    hint="Think of the weight counts computed in the notebook, and of the same digit written a little further left.",
)
