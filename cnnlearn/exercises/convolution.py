"""Exercises for notebook 02, convolution.

- ``q1``: the output shape of a 3x3 "valid" convolution on a 28x28 digit (value)
- ``q2``: write ``my_conv2d`` for one grey image, with stride and padding (function)
- ``q3``: the number of weights of ``Conv2D(64, 3)`` on 32 input channels (value)
- ``q4``: the number of weights of the smallest CNN, worked out before building it (value)
- ``q5``: build that smallest CNN: one strided convolution and a classifier (Keras model)
- ``q6``: why one kernel for every position? (thought)
- ``q7``: choose the filters and kernel size of a one-convolution network under a weight budget (experiment)

Each solution below is real code, tested in ``tests/test_exercises_convolution.py``;
``solution()`` prints it under the names the notebook uses, ready to paste into the exercise's cell.
"""


import numpy as np

from cnnlearn import ops, settings
from cnnlearn.exercises.questions import (ExperimentQuestion, FunctionQuestion, ModelQuestion, ThoughtQuestion,
                                          ValueQuestion, sample_digits, source_of)


# --------------------------------------------------------------------------
# q1: output shape
# --------------------------------------------------------------------------

def _q1_solution(n=28, k=3):
    # a k x k window fits in n - k + 1 positions along each axis ("valid": no padding, stride 1)
    return (n - k + 1, n - k + 1)


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
    solution="# 'valid' means no padding: the window must fit inside the image.\n"
             + source_of(_q1_solution, "output_shape") + "\n\nanswer = output_shape(28, 3)  # (26, 26)\nex.q1.check(answer);",
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
    solution=source_of(_my_conv2d_solution, "my_conv2d") + "\n\nex.q2.check(my_conv2d);",
    diagnose=_q2_diagnose,
)


# --------------------------------------------------------------------------
# q3: counting weights
# --------------------------------------------------------------------------

def _q3_solution(kernel_size=3, in_channels=32, filters=64):
    # each filter: a kernel_size x kernel_size window on every input channel, plus one bias
    return kernel_size * kernel_size * in_channels * filters + filters


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
    solution=source_of(_q3_solution, "conv_weights") + "\n\nanswer = conv_weights(3, 32, 64)  # 18,496\n"
             "ex.q3.check(answer);",
    diagnose=_q3_diagnose,
)


# --------------------------------------------------------------------------
# q4: the smallest CNN's weights, worked out before building it
# --------------------------------------------------------------------------

def _q4_solution(size=28, kernel_size=3, filters=8, strides=2, classes=10):
    conv = kernel_size * kernel_size * 1 * filters + filters  # one grey input channel: 80
    side = -(-size // strides)  # padding="same": ceil(28 / 2) = 14
    dense = side * side * filters * classes + classes  # Flatten gives 14 * 14 * 8 = 1,568 values: 15,690
    return conv + dense


def _q4_diagnose(answer):
    if isinstance(answer, bool) or not isinstance(answer, (int, np.integer)):
        return "give a whole number"
    conv, dense_inputs = 3 * 3 * 8 + 8, 14 * 14 * 8
    if answer == conv:
        return "that is the convolution alone: the Dense layer after it has far more weights"
    if answer == dense_inputs * 10 + 10:
        return "that is the Dense layer alone: add the convolution's 3 * 3 * 8 + 8"
    if answer == 3 * 3 * 8 + 13 * 13 * 8 * 10 + 10 + 8:
        return "that is for 13x13 maps ('valid' padding); with padding='same' and stride 2 they are 14x14"
    if answer == 3 * 3 * 8 + 28 * 28 * 8 * 10 + 10 + 8:
        return "that is for 28x28 maps: stride 2 halves each side, to 14x14"
    if answer in (3 * 3 * 8 + dense_inputs * 10, 3 * 3 * 8 + dense_inputs * 10 + 10, conv + dense_inputs * 10):
        return "count the biases too: one per filter in the convolution, one per output in the Dense layer"
    return None


q4 = ValueQuestion(
    "q4",
    "Before building it (q5): how many weights, biases included, does this model have? "
    "Conv2D(8, 3, strides=2, padding='same', activation='relu') on 28x28x1 digits, then Flatten, "
    "then Dense(10, activation='softmax').",
    expected=_q4_solution(),
    hint="The convolution: 8 kernels of 3x3x1, plus 8 biases. Its maps are ceil(28 / 2) = 14 pixels a side, "
         "8 of them: Flatten hands 14 * 14 * 8 values to the Dense layer, which has a weight for each value "
         "and each of its 10 outputs, plus 10 biases.",
    solution=source_of(_q4_solution, "smallest_cnn_weights")
             + "\n\nanswer = smallest_cnn_weights()  # 80 + 15,690 = 15,770\nex.q4.check(answer);",
    diagnose=_q4_diagnose,
)


# --------------------------------------------------------------------------
# q5: the smallest CNN
# --------------------------------------------------------------------------

def _q5_solution():
    import keras

    return keras.Sequential([
        keras.Input((28, 28, 1)),
        keras.layers.Conv2D(8, 3, strides=2, padding="same", activation="relu"),  # 14x14x8, 80 weights
        keras.layers.Flatten(),                                                  # 1,568 values
        keras.layers.Dense(10, activation="softmax"),                            # 15,690 weights
    ])


q5 = ModelQuestion(
    "q5",
    "Build a keras.Sequential model for 28x28x1 digits: one Conv2D with 8 filters of 3x3, stride 2, "
    "padding='same' and activation='relu'; then Flatten; then Dense(10, activation='softmax'). "
    "check prints its number of weights: the count you worked out in q4?",
    layer_types=["Conv2D", "Flatten", "Dense"],
    activations=["relu", None, "softmax"],
    params=_q4_solution(),
    hint="Start with keras.Input((28, 28, 1)). The convolution gives 14x14x8 maps: 1,568 values for the Dense layer.",
    solution=source_of(_q5_solution, "smallest_cnn") + "\n\nanswer = smallest_cnn()\nex.q5.check(answer);",
)


# --------------------------------------------------------------------------
# q6: weight sharing
# --------------------------------------------------------------------------

q6 = ThoughtQuestion(
    "q6",
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
    rubric=[
        "Far fewer weights: a kernel's count (k * k * channels + 1 per filter) does not grow with the image, "
        "where a Dense layer needs one per input-output pair",
        "Fewer weights to learn from a few thousand digits: less to fit, less to overfit",
        "A stroke or an edge looks the same wherever it is, so a detector learned in one place is useful everywhere",
        "A shifted digit gives the same feature map, shifted (translation equivariance)",
    ],
    hint="Think of the weight counts computed in the notebook, and of the same digit written a little further left.",
)


# --------------------------------------------------------------------------
# q7: an experiment: filters and kernel size under a weight budget
# --------------------------------------------------------------------------

EPOCHS = 3  # q7's training: three passes over the 2,000 digits
MAX_WEIGHTS = 8_000
TARGET_ACCURACY = 0.86


def _one_conv_network(filters, kernel_size):
    """q7's network: q5's smallest CNN with the filters and kernel size as the learner chooses."""
    import keras

    return keras.Sequential([
        keras.Input((28, 28, 1)),
        keras.layers.Conv2D(filters, kernel_size, strides=2, padding="same", activation="relu"),
        keras.layers.Flatten(),
        keras.layers.Dense(10, activation="softmax"),
    ])


def _q7_measure(answer):
    if not isinstance(answer, dict) or set(answer) != {"filters", "kernel_size"}:
        raise ValueError('answer with a dict: {"filters": 8, "kernel_size": 3}, your numbers in place of these')
    for key, largest in [("filters", 32), ("kernel_size", 28)]:
        value = answer[key]
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 1 <= value <= largest:
            raise ValueError(f"{key} should be a whole number from 1 to {largest}, got {value!r}")
    from cnnlearn import settings, training

    x_few, y_few, x_val, y_val = sample_digits(2000)
    training.set_seed(settings.SEED)
    model = _one_conv_network(int(answer["filters"]), int(answer["kernel_size"]))
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(training.dataset(x_few, y_few, batch_size=32, shuffle=True, seed=settings.SEED),
                        validation_data=training.dataset(x_val, y_val, batch_size=500), epochs=EPOCHS, verbose=0)
    return {"weights": model.count_params(), "validation accuracy": history.history["val_accuracy"][-1]}


q7 = ExperimentQuestion(
    "q7",
    f"q5's network, Conv2D(filters, kernel_size, strides=2, padding='same', activation='relu'), Flatten, "
    f"Dense(10, activation='softmax'), trained for {EPOCHS} epochs on 2,000 of the bundled digits (seed {settings.SEED}, "
    f"rmsprop, batches of 32). Choose filters and kernel_size so that it has fewer than {MAX_WEIGHTS:,} weights "
    f"and reaches a validation accuracy of at least {TARGET_ACCURACY} on the 500 validation digits. Answer "
    f'with a dict {{"filters": ..., "kernel_size": ...}}.',
    measure=_q7_measure,
    passes=lambda measured: measured["weights"] < MAX_WEIGHTS and measured["validation accuracy"] >= TARGET_ACCURACY,
    target=f"fewer than {MAX_WEIGHTS:,} weights and validation accuracy at least {TARGET_ACCURACY} "
           f"after {EPOCHS} epochs",
    hint="Count the weights first (q4): almost all of them are in the Dense layer, 14 * 14 * filters * 10, "
         "so the budget caps the number of filters. A larger kernel costs only kernel_size**2 + 1 weights per "
         "filter, and each of its outputs sees more of the digit.",
    solution='answer = {"filters": 4, "kernel_size": 5}  # 7,954 weights; validation accuracy about 0.88\n'
             "ex.q7.check(answer);\n"
             "# The Dense layer takes 14 * 14 * filters * 10 weights: 7,840 for 4 filters, 15,680 for 8, so 4 is the\n"
             "# most the budget allows. The kernel is cheap (26 weights for 5x5), and a 5x5 window sees enough of a\n"
             "# stroke to tell its direction; 1x1 kernels (one pixel each) and 2 filters fall short of the target.",
)
