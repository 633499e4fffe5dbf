"""Exercises for notebook 03, pooling.

- ``q1`` the output shape of ``MaxPool2D(2)`` on a (26, 26, 32) feature map (a value)
- ``q2`` write max pooling for one 2-D image in NumPy (a function)
- ``q3`` max-pool a 4x4 array by hand (a value)
- ``q4`` the weights of a small CNN with pooling, worked out before running it (a value)
- ``q5`` build that CNN (a model)
- ``q6`` why max rather than average, and what pooling throws away (a thought)
- ``q7`` make global average pooling work: a network with a GAP head, fewer weights than the
  notebook's Flatten network and a validation accuracy target, trained in seconds (an experiment)

Each solution is real code below (``_..._solution``); ``solution()`` prints its source under the
name the learner uses, followed by the lines that answer the exercise's cell in notebook 03.
"""


import numpy as np

from cnnlearn import ops, settings
from cnnlearn.exercises.questions import (ExperimentQuestion, FunctionQuestion, ModelQuestion, ThoughtQuestion,
                                          ValueQuestion, sample_digits, source_of)


# --- q1: output shape -------------------------------------------------------

def _pooled_shape_solution():
    # MaxPool2D(2) takes the max of each 2x2 window, windows side by side (stride 2),
    # channel by channel: height and width are halved (26 // 2 = 13), channels stay 32.
    feature_maps = np.zeros((1, 26, 26, 32))  # a batch of one
    return ops.max_pool2d(feature_maps, size=2).shape[1:]


def _diagnose_pooled_shape(answer):
    if np.ndim(answer) == 0:
        return "give the whole shape as a tuple (height, width, channels)"
    shape = tuple(answer)
    if shape == (26, 26, 32):
        return "that is the input's shape; pooling with size 2 halves height and width"
    if shape == (25, 25, 32):
        return ("26 - 2 + 1 slides the window one pixel at a time, as a convolution does; "
                "MaxPool2D moves it by its size (stride 2), so 26 // 2")
    if len(shape) == 3 and shape[:2] == (13, 13):
        return "pooling works on each channel separately: the number of channels does not change"
    if shape == (13, 13):
        return "keep the channel axis: every one of the 32 channels is pooled"
    if len(shape) == 4 and shape[1:] == (13, 13, 32):
        return "leave out the batch axis: give (height, width, channels)"
    return None


q1 = ValueQuestion(
    "q1",
    "A convolution layer outputs feature maps of shape (26, 26, 32) (height, width, channels) for each "
    "digit. What is the shape after keras.layers.MaxPool2D(2)? Answer with a tuple.",
    expected=_pooled_shape_solution(),
    hint="Windows of 2x2 that do not overlap; each channel is pooled on its own.",
    solution=source_of(_pooled_shape_solution, "pooled_shape") + "\n\nanswer = pooled_shape()  # (13, 13, 32)",
    diagnose=_diagnose_pooled_shape,
)


# --- q2: max pooling in NumPy -----------------------------------------------

def _my_max_pool_solution(image, size=2):
    image = np.asarray(image)
    out_h, out_w = image.shape[0] // size, image.shape[1] // size  # "valid": leftover rows/columns are dropped
    out = np.empty((out_h, out_w), dtype=image.dtype)
    for i in range(out_h):
        for j in range(out_w):
            out[i, j] = image[i * size:(i + 1) * size, j * size:(j + 1) * size].max()
    # (Without loops: image[:out_h * size, :out_w * size].reshape(out_h, size, out_w, size).max(axis=(1, 3)))
    return out


def _diagnose_max_pool(args, kwargs, got):
    image, size = np.asarray(args[0]), kwargs.get("size", 2)
    (h, w), shape = image.shape, tuple(np.shape(got))
    if shape == (h // size, w // size):  # the right shape, wrong values
        windows = image[:h // size * size, :w // size * size].reshape(h // size, size, w // size, size)
        if np.allclose(got, windows.mean(axis=(1, 3))):
            return "that is the mean of each window; max pooling keeps the largest value"
        if np.allclose(got, np.maximum(windows.max(axis=(1, 3)), 0)):
            return ("where a window holds only negative numbers you return 0: did you start the maximum at 0? "
                    "Start from a value of the window, or use window.max()")
        return None
    if shape == (-(-h // size), -(-w // size)):
        return (f"rows or columns that do not fill a whole window are dropped ('valid' pooling): "
                f"the output has {h} // {size} rows, not a partial window at the edge")
    if shape == (h - size + 1, w - size + 1):
        return "your windows overlap: move them by size (stride = size), not by one pixel"
    if size != 2 and shape == (h // 2, w // 2):
        return "use the size argument instead of a fixed 2"
    return None


_rng = np.random.default_rng(2)
q2 = FunctionQuestion(
    "q2",
    "Write my_max_pool(image, size=2): the max of each size x size window of a 2-D array, windows side "
    "by side (stride = size, no padding). Rows or columns left over at the bottom or right that do not fill "
    "a window are dropped, as in Keras. Return a 2-D array.",
    reference=ops.max_pool2d,
    cases=[
        ((_rng.integers(0, 10, (4, 4)),), {}),
        ((_rng.random((28, 28)),), {}),
        ((_rng.normal(size=(7, 7)),), {}),             # odd size: the last row and column are dropped
        ((_rng.normal(size=(9, 7)),), {"size": 3}),
        ((-1 - _rng.random((6, 6)),), {"size": 3}),    # all negative: a max that starts at 0 is wrong
    ],
    hint="The output has image.shape[0] // size rows. Output pixel (i, j) is the max of "
         "image[i*size:(i+1)*size, j*size:(j+1)*size].",
    solution=source_of(_my_max_pool_solution, "my_max_pool"),
    diagnose=_diagnose_max_pool,
)


# --- q3: a 4x4 array by hand ------------------------------------------------

GRID = np.array([[1, 3, 2, 0],
                 [4, 2, 1, 5],
                 [0, 1, 7, 2],
                 [6, 2, 3, 1]])


def _grid_pooled_solution():
    # Four 2x2 windows: top-left {1, 3, 4, 2} -> 4, top-right {2, 0, 1, 5} -> 5,
    # bottom-left {0, 1, 6, 2} -> 6, bottom-right {7, 2, 3, 1} -> 7.
    return np.array([[4, 5],
                     [6, 7]])


def _diagnose_grid(answer):
    if isinstance(answer, str):
        return "answer with an array of numbers, e.g. np.array([[a, b], [c, d]])"
    answer = np.asarray(answer, dtype=float)
    windows = GRID.reshape(2, 2, 2, 2)
    if answer.shape == (2, 2):
        if np.allclose(answer, windows.mean(axis=(1, 3))):
            return "that is average pooling; max pooling keeps the largest value of each window"
        if np.allclose(answer, windows.min(axis=(1, 3))):
            return "those are the smallest values; max pooling keeps the largest"
        if np.allclose(answer, windows.max(axis=(1, 3)).T):
            return "rows and columns are swapped: the top-right window is rows 0-1, columns 2-3"
    if answer.shape == (3, 3):
        return "the windows do not overlap: they move by 2 (the pool size), so a 4x4 array gives 2x2"
    if answer.shape == ():
        return "pooling keeps one maximum per 2x2 window, not one for the whole array"
    return None


q3 = ValueQuestion(
    "q3",
    "By hand, without running ops.max_pool2d: what is the 2x2 max pooling of this array? "
    "Answer with a 2x2 NumPy array.\n" + str(GRID),
    expected=_grid_pooled_solution(),
    hint="Split the array into four 2x2 blocks and keep the largest number of each, in place.",
    solution=source_of(_grid_pooled_solution, "grid_pooled") + "\n\nanswer = grid_pooled()",
    diagnose=_diagnose_grid,
)


# --- q4: the weights of a small CNN, before running it -----------------------

def _small_cnn_weights_solution():
    conv = 3 * 3 * 1 * 16 + 16        # Conv2D(16, 3): a 3x3 kernel per filter, one input channel, plus biases
    pooled = 13 * 13 * 16             # (28 - 3 + 1) // 2 = 13: Flatten gives 2,704 numbers
    dense = pooled * 10 + 10          # Dense(10): a weight per input and unit, plus biases
    return conv + dense               # MaxPool2D and Flatten have no weights


def _diagnose_weights(answer):
    conv, without_bias = 3 * 3 * 16 + 16, 3 * 3 * 16 + 13 * 13 * 16 * 10
    known = {
        26 * 26 * 16 * 10 + 10 + conv: "that is without the MaxPool2D: Flatten would get 26 * 26 * 16 numbers",
        13 * 13 * 16 * 10 + 10: "that is the Dense layer alone: add the convolution's 3 * 3 * 1 * 16 + 16",
        conv: "that is the convolution alone: add the Dense layer, 13 * 13 * 16 inputs times 10 units, plus 10 biases",
        without_bias: "no biases? the convolution has one per filter (16), the Dense layer one per unit (10)",
        14 * 14 * 16 * 10 + 10 + conv: ("the convolution has no padding: 28 - 3 + 1 = 26 per side, "
                                        "pooled to 13, not 14"),
    }
    return known.get(answer) if isinstance(answer, (int, float, np.number)) else None


q4 = ValueQuestion(
    "q4",
    "Before you build it: how many weights does this model have? keras.Input((28, 28, 1)), "
    "Conv2D(16, 3, activation='relu') (no padding), MaxPool2D(2), Flatten, Dense(10, activation='softmax'). "
    "Answer with a number.",
    expected=_small_cnn_weights_solution(),
    hint="Work out each layer's output shape first: (26, 26, 16), then (13, 13, 16), then 2,704 numbers. "
         "A Conv2D has kh * kw * in_channels * filters + filters weights, a Dense inputs * units + units; "
         "pooling and Flatten have none.",
    solution=source_of(_small_cnn_weights_solution, "small_cnn_weights")
    + "\n\nanswer = small_cnn_weights()  # 27,210; without the MaxPool2D, 108,330",
    diagnose=_diagnose_weights,
)


# --- q5: build that CNN -------------------------------------------------------

def _small_cnn_solution():
    import keras

    model = keras.Sequential([
        keras.Input((28, 28, 1)),
        keras.layers.Conv2D(16, 3, activation="relu"),     # (26, 26, 16), 3*3*1*16 + 16 = 160 weights
        keras.layers.MaxPool2D(2),                         # (13, 13, 16), no weights
        keras.layers.Flatten(),                            # 13 * 13 * 16 = 2,704 numbers
        keras.layers.Dense(10, activation="softmax"),      # 2,704 * 10 + 10 = 27,050 weights
    ])
    return model  # 27,210 weights; without the MaxPool2D, 108,330


q5 = ModelQuestion(
    "q5",
    "Build q4's model as a keras.Sequential: keras.Input((28, 28, 1)), Conv2D with 16 filters of 3x3 and "
    "ReLU (no padding), MaxPool2D(2), Flatten, and Dense(10) with softmax. check() prints its number of "
    "weights: compare it with your answer to q4.",
    layer_types=["Conv2D", "MaxPooling2D", "Flatten", "Dense"],
    activations=["relu", None, None, "softmax"],
    params=27_210,
    hint="model.count_params() counts the weights; model.summary() shows each layer's output shape.",
    solution=source_of(_small_cnn_solution, "small_cnn") + "\n\nanswer = small_cnn()",
)


# --- q6: why max ------------------------------------------------------------

q6 = ThoughtQuestion(
    "q6",
    "Why does max pooling suit digits (bright strokes on a dark background) better than average pooling? "
    "And what does pooling throw away that could matter?",
    rubric=[
        "a stroke is thin: the max keeps it at full strength wherever it sits in the window, "
        "the average mixes it with the background (faint, smeared)",
        "the max stays the same when the stroke moves inside its window: tolerance to small shifts",
        "pooling throws away three values out of four (2x2) and where in each window the maximum was",
        "exact positions can tell digits apart (a 4 with a closed top looks like a 9), so networks pool a little "
        "at a time, after convolutions",
    ],
    solution=(
        "A stroke is thin: in a 2x2 or 4x4 window it often covers one or two pixels. The max keeps it at full "
        "strength wherever it sits in the window, so the feature 'there is a stroke here' survives, and it "
        "survives a small shift too. The average mixes the stroke with the background around it, so thin strokes "
        "come out faint and blurred, and the value depends on how much of the window the stroke covers.\n"
        "What pooling throws away: three values out of four (for 2x2), and where in each window the maximum was. "
        "Exact positions can matter: a 4 with a closed top looks like a 9; pooling too much, too early, blurs such "
        "details. That is why networks pool after a few convolutions, and by small windows at a time."
    ),
)


# --- q7: an experiment: make global average pooling work ----------------------

FLATTEN_NETWORK_WEIGHTS = 34_826  # the notebook's "max pool + Flatten" network (models.build_baseline)
TRAINING_DIGITS, EPOCHS, TARGET_ACCURACY = 2_000, 5, 0.75


def _gap_measure(answer):
    """Train a fresh copy of the answer's network (seed settings.SEED) as the notebook trains its three; its weights and
    validation accuracy."""
    import keras

    from cnnlearn import settings, training

    if not isinstance(answer, keras.Model):
        raise ValueError(f"expected a keras model (keras.Sequential([...])), got {type(answer).__name__}")
    types = [type(layer).__name__ for layer in answer.layers]
    if "Flatten" in types:
        raise ValueError("the network still has a Flatten layer: GlobalAveragePooling2D takes its place")
    if "GlobalAveragePooling2D" not in types:
        raise ValueError("there is no GlobalAveragePooling2D layer: put one where Flatten was")
    if tuple(answer.inputs[0].shape) != (None, 28, 28, 1) or tuple(answer.output_shape) != (None, 10):
        raise ValueError(f"expected digits (None, 28, 28, 1) in and 10 probabilities out, got "
                         f"{tuple(answer.inputs[0].shape)} -> {tuple(answer.output_shape)}")
    training.set_seed(settings.SEED)
    model = keras.models.clone_model(answer)  # the same layers, fresh weights from settings.SEED
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
    x_few, y_few, x_val, y_val = sample_digits(TRAINING_DIGITS)
    model.fit(training.dataset(x_few, y_few, shuffle=True, seed=settings.SEED), epochs=EPOCHS, verbose=0)
    _, accuracy = model.evaluate(training.dataset(x_val, y_val), verbose=0)
    return {"weights": model.count_params(), "validation accuracy": float(accuracy)}


def _gap_network_solution():
    import keras

    return keras.Sequential([
        keras.Input((28, 28, 1)),
        keras.layers.Conv2D(16, 3, activation="relu"),   # 26x26x16: fewer filters here pay for the layers below
        keras.layers.MaxPool2D(2),                       # 13x13x16
        keras.layers.Conv2D(32, 3, activation="relu"),   # 11x11x32
        keras.layers.Conv2D(32, 3, activation="relu"),   # 9x9x32
        keras.layers.MaxPool2D(2),                       # 4x4x32
        keras.layers.Conv2D(64, 3, activation="relu"),   # 2x2x64: each position sees 22x22 of the 28x28 pixels
        keras.layers.GlobalAveragePooling2D(),           # 64 numbers
        keras.layers.Dense(10, activation="softmax"),    # 650 weights
    ])  # 33,194 weights in all


q7 = ExperimentQuestion(
    "q7",
    f"In the notebook, global average pooling in place of Flatten took almost half of the small CNN's weights away "
    f"but left it far behind. "
    f"Build a keras.Sequential for digits that ends GlobalAveragePooling2D, Dense(10, activation='softmax') "
    f"(no Flatten), with fewer than {FLATTEN_NETWORK_WEIGHTS:,} weights (the Flatten network's), that reaches a "
    f"validation accuracy of at least {TARGET_ACCURACY}. check() trains a fresh copy as the notebook trained its "
    f"three (RMSprop, batches of 64, seed {settings.SEED}) on {TRAINING_DIGITS:,} digits of the sample for {EPOCHS} epochs and "
    f"measures it on the sample's 500 validation digits: some seconds.",
    measure=_gap_measure,
    passes=lambda measured: (measured["weights"] < FLATTEN_NETWORK_WEIGHTS
                             and measured["validation accuracy"] >= TARGET_ACCURACY),
    target=f"fewer than {FLATTEN_NETWORK_WEIGHTS:,} weights and validation accuracy >= {TARGET_ACCURACY}",
    hint="The average forgets where each feature was, so each feature must already see most of the digit: "
         "add convolutions, so that the maps the average reads are small and each of their positions sees most "
         "of the 28x28 pixels (ops.receptive_field(model) tells how many). Pay for them with fewer filters "
         "in the first layer.",
    solution=source_of(_gap_network_solution, "gap_network") + "\n\nanswer = gap_network()",
)
