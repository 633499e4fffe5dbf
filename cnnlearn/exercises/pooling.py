"""Exercises for notebook 03, pooling.

- ``q1`` the output shape of ``MaxPool2D(2)`` on a (26, 26, 32) feature map (a value)
- ``q2`` write max pooling for one 2-D image in NumPy (a function)
- ``q3`` max-pool a 4x4 array by hand (a value)
- ``q4`` build a small CNN with pooling (a model)
- ``q5`` why max rather than average, and what pooling throws away (a thought)

Each solution is real code below (``_..._solution``); ``solution()`` prints its source.
"""


import numpy as np

from cnnlearn import ops
from cnnlearn.exercises.questions import FunctionQuestion, ModelQuestion, ThoughtQuestion, ValueQuestion, source_of


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
    solution=source_of(_pooled_shape_solution, "pooled_shape") + "\npooled_shape()  # (13, 13, 32)",
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
    solution=source_of(_grid_pooled_solution, "grid_pooled"),
    diagnose=_diagnose_grid,
)


# --- q4: a small CNN with pooling -------------------------------------------

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


q4 = ModelQuestion(
    "q4",
    "Build a keras.Sequential model for digits: keras.Input((28, 28, 1)), Conv2D with 16 filters of 3x3 and "
    "ReLU (no padding), MaxPool2D(2), Flatten, and Dense(10) with softmax. How many weights does it have, "
    "and how many without the MaxPool2D? (The check wants the model with pooling.)",
    layer_types=["Conv2D", "MaxPooling2D", "Flatten", "Dense"],
    params=27_210,
    hint="model.count_params() counts the weights; model.summary() shows each layer's output shape.",
    solution=source_of(_small_cnn_solution, "small_cnn"),
)


# --- q5: why max ------------------------------------------------------------

q5 = ThoughtQuestion(
    "q5",
    "Why does max pooling suit digits (bright strokes on a dark background) better than average pooling? "
    "And what does pooling throw away that could matter?",
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
