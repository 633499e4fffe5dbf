"""Tests for cnnlearn.plots: every figure the notebooks draw.

Figures are drawn with the Agg backend (no window) and inspected through
matplotlib's objects: image axes, captions, lines, heatmap annotations.
Models are tiny and untrained (an untrained model makes plenty of mistakes
for plot_errors); data is the bundled sample, loaded once.
"""

import re
import subprocess
import sys
from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")

import keras  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from cnnlearn import CnnlearnError, plots  # noqa: E402
from cnnlearn.augment import augmenter  # noqa: E402
from cnnlearn.data import load_sample, prepare  # noqa: E402
from cnnlearn.evaluate import Errors, worst_errors  # noqa: E402
from cnnlearn.models import build_baseline, build_cnn  # noqa: E402

HISTORY = {
    "loss": [2.0, 1.0, 0.5],
    "accuracy": [0.3, 0.7, 0.9],
    "val_loss": [1.5, 0.9, 0.6],
    "val_accuracy": [0.5, 0.75, 0.85],
    "learning_rate": [1e-3, 1e-3, 5e-4],
}


@pytest.fixture(scope="module")
def sample():
    """200 digits of the bundled sample (20 of each), uint8 (200, 28, 28) and labels."""
    images, labels = load_sample()
    return images[::25], labels[::25]


@pytest.fixture(scope="module")
def model():
    """A tiny untrained build_cnn: block1 has 4 filters, block2 has 8."""
    keras.utils.set_random_seed(0)
    return build_cnn(filters=(4, 8), dense_units=16)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def image_axes(fig):
    """The axes that show an image, in drawing order."""
    return [ax for ax in fig.axes if ax.images]


def captions(fig):
    return [ax.get_title() for ax in image_axes(fig)]


def is_wrong_color(text):
    return to_rgba(text.get_color()) == to_rgba(plots.WRONG_COLOR)


def check_figure(fig):
    """What every figure needs: a Figure with a title."""
    assert isinstance(fig, Figure)
    assert fig.get_suptitle()


def test_importing_plots_does_not_import_tensorflow():
    code = "import sys, cnnlearn.plots; print('tensorflow' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


# --------------------------------------------------------------------------
# show_digits
# --------------------------------------------------------------------------

def test_show_digits_draws_n_digits_with_their_labels(sample):
    images, labels = sample
    fig = plots.show_digits(images, labels, n=7, ncols=5)
    check_figure(fig)
    assert len(image_axes(fig)) == 7
    assert len(fig.axes) == 7  # the unused cells of the 2x5 grid are removed
    assert captions(fig) == [str(d) for d in labels[:7]]
    for ax in image_axes(fig):
        assert ax.get_xticks().size == 0 and ax.get_yticks().size == 0


def test_show_digits_accepts_uint8_and_float_images_alike(sample):
    images, _ = sample
    from_uint8 = plots.show_digits(images, n=3)
    from_float = plots.show_digits(prepare(images), n=3)
    for a, b in zip(image_axes(from_uint8), image_axes(from_float)):
        np.testing.assert_allclose(a.images[0].get_array(), b.images[0].get_array(), atol=1e-6)
        assert a.images[0].get_array().shape == (28, 28)


def test_show_digits_marks_wrong_predictions_in_red(sample):
    images, labels = sample
    predictions = labels[:6].copy()
    predictions[[1, 4]] = (predictions[[1, 4]] + 1) % 10
    fig = plots.show_digits(images, labels, predictions, n=6)
    for i, ax in enumerate(image_axes(fig)):
        assert ax.get_title() == f"{labels[i]} → {predictions[i]}"
        assert is_wrong_color(ax.title) == (i in (1, 4))


def test_show_digits_shows_at_most_the_images_given(sample):
    images, labels = sample
    assert len(image_axes(plots.show_digits(images[:3], labels[:3]))) == 3


def test_show_digits_refuses_too_few_labels(sample):
    images, labels = sample
    with pytest.raises(CnnlearnError, match="labels"):
        plots.show_digits(images, labels[:2], n=5)


# --------------------------------------------------------------------------
# plot_history and compare_histories
# --------------------------------------------------------------------------

@pytest.mark.parametrize("form", ["dict", "dataframe", "history"])
def test_plot_history_draws_loss_accuracy_and_learning_rate(form):
    history = {
        "dict": HISTORY,
        "dataframe": pd.DataFrame(HISTORY),
        "history": SimpleNamespace(history=HISTORY),  # what keras's History offers
    }[form]
    fig = plots.plot_history(history)
    check_figure(fig)
    assert [ax.get_ylabel() for ax in fig.axes] == ["loss", "accuracy", "learning rate"]
    assert [len(ax.get_lines()) for ax in fig.axes] == [2, 2, 1]
    for ax in fig.axes:
        assert ax.get_xlabel() == "epoch"
        assert list(ax.get_lines()[0].get_xdata()) == [1, 2, 3]
    train, val = fig.axes[0].get_lines()
    assert train.get_linestyle() == "-" and val.get_linestyle() == "--"
    assert list(val.get_ydata()) == HISTORY["val_loss"]
    assert fig.axes[2].get_yscale() == "log"


def test_plot_history_accepts_a_keras_history_object():
    history = keras.callbacks.History()
    history.history = HISTORY
    assert len(plots.plot_history(history).axes) == 3


def test_plot_history_without_learning_rate_has_two_panels():
    history = {k: v for k, v in HISTORY.items() if k != "learning_rate"}
    fig = plots.plot_history(history)
    assert [ax.get_ylabel() for ax in fig.axes] == ["loss", "accuracy"]


def test_plot_history_ignores_an_epoch_column():
    fig = plots.plot_history(pd.DataFrame(HISTORY).assign(epoch=[0, 1, 2]))
    assert len(fig.axes) == 3


def test_plot_history_refuses_an_empty_history():
    with pytest.raises(CnnlearnError, match="empty"):
        plots.plot_history({"loss": []})


def test_compare_histories_draws_one_line_per_run():
    slower = {k: [v * 0.9 for v in values] for k, values in HISTORY.items()}
    fig = plots.compare_histories({"dropout": HISTORY, "no dropout": pd.DataFrame(slower)})
    check_figure(fig)
    (ax,) = fig.axes
    assert len(ax.get_lines()) == 2
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["dropout", "no dropout"]
    assert ax.get_xlabel() == "epoch" and ax.get_ylabel() == "validation accuracy"
    assert list(ax.get_lines()[1].get_ydata()) == slower["val_accuracy"]


def test_compare_histories_names_the_run_missing_the_metric():
    with pytest.raises(CnnlearnError, match="'short'.*'val_loss'"):
        plots.compare_histories({"full": HISTORY, "short": {"loss": [1.0]}}, metric="val_loss")


# --------------------------------------------------------------------------
# plot_confusion and plot_errors
# --------------------------------------------------------------------------

def test_plot_confusion_annotates_every_digit_once(sample):
    _, labels = sample
    predictions = np.where(np.arange(len(labels)) % 7 == 0, (labels + 3) % 10, labels)
    fig = plots.plot_confusion(labels, predictions)
    check_figure(fig)
    (ax,) = fig.axes
    counts = [int(t.get_text()) for t in ax.texts if t.get_text()]
    assert sum(counts) == len(labels)
    assert ax.get_xlabel() == "predicted digit" and ax.get_ylabel() == "true digit"
    assert "85.5%" in fig.get_suptitle()  # 29 of 200 are wrong


def test_plot_errors_captions_the_mistakes(sample, model):
    images, labels = sample
    errors = worst_errors(model, images, labels, k=6)
    assert len(errors.indices) == 6  # an untrained model gets most digits wrong
    fig = plots.plot_errors(images, errors, ncols=3)
    check_figure(fig)
    assert len(image_axes(fig)) == 6
    for i, ax in enumerate(image_axes(fig)):
        match = re.fullmatch(r"true (\d), predicted (\d) \((\d+)%\)", ax.get_title())
        assert match, ax.get_title()
        assert (int(match[1]), int(match[2])) == (errors.labels[i], errors.predicted[i])
        assert is_wrong_color(ax.title)
        np.testing.assert_allclose(ax.images[0].get_array(), images[errors.indices[i]] / 255, atol=1e-6)
    assert len(image_axes(plots.plot_errors(images, errors, n=2))) == 2


def test_plot_errors_with_no_errors_says_so(sample):
    images, _ = sample
    empty = np.array([], dtype=np.int64)
    fig = plots.plot_errors(images, Errors(empty, empty, empty, np.array([], dtype=np.float32)))
    check_figure(fig)
    assert not image_axes(fig)
    assert any("no errors" in t.get_text() for ax in fig.axes for t in ax.texts)


# --------------------------------------------------------------------------
# plot_kernels and plot_feature_maps
# --------------------------------------------------------------------------

def test_plot_kernels_draws_one_image_per_filter(model):
    fig = plots.plot_kernels(model)  # the first Conv2D: block1_conv1, 4 filters of 5x5
    check_figure(fig)
    axes = image_axes(fig)
    assert len(axes) == 4
    kernel = model.get_layer("block1_conv1").kernel.numpy()
    for i, ax in enumerate(axes):
        image = ax.images[0]
        np.testing.assert_allclose(image.get_array(), kernel[:, :, 0, i])
        vmin, vmax = image.get_clim()
        assert vmin == -vmax and vmax == pytest.approx(np.abs(kernel).max())


def test_plot_kernels_of_a_named_layer_and_channel(model):
    fig = plots.plot_kernels(model, "block2_conv2", channel=7, ncols=4)
    kernel = model.get_layer("block2_conv2").kernel.numpy()
    axes = image_axes(fig)
    assert len(axes) == 8
    np.testing.assert_allclose(axes[5].images[0].get_array(), kernel[:, :, 7, 5])


def test_plot_kernels_of_the_baseline():
    assert len(image_axes(plots.plot_kernels(build_baseline(), "conv2"))) == 64


@pytest.mark.parametrize("layer_name, message", [
    ("flatten", "not a Conv2D"),
    ("no_such_layer", "no layer 'no_such_layer'"),
])
def test_plot_kernels_refuses_a_layer_without_kernels(model, layer_name, message):
    with pytest.raises(CnnlearnError, match=message):
        plots.plot_kernels(model, layer_name)


def test_plot_feature_maps_shows_the_input_then_one_map_per_filter(sample, model):
    images, _ = sample
    fig = plots.plot_feature_maps(model, images[0])
    check_figure(fig)
    axes = image_axes(fig)
    assert len(axes) == 4 + 1
    assert axes[0].get_title() == "input"
    np.testing.assert_allclose(axes[0].images[0].get_array(), images[0] / 255, atol=1e-6)
    assert axes[1].images[0].get_array().shape == (28, 28)  # "same" padding


def test_plot_feature_maps_of_a_named_layer(sample, model):
    images, _ = sample
    float_image = prepare(images[:1])[0]
    fig = plots.plot_feature_maps(model, float_image, layer_name="block2_conv1", n=3)
    assert fig.get_suptitle() == "Feature maps of block2_conv1: showing 3 of 8 channels, 14x14"
    axes = image_axes(fig)
    assert len(axes) == 3 + 1
    assert axes[1].images[0].get_array().shape == (14, 14)  # after one 2x2 pooling
    pooled = plots.plot_feature_maps(model, float_image, layer_name="block2_pool")
    assert pooled.get_suptitle() == "Feature maps of block2_pool: 8 channels, 7x7"
    assert len(image_axes(pooled)) == 8 + 1


def test_plot_feature_maps_of_a_model_never_called(sample):
    model = keras.Sequential([keras.layers.Conv2D(3, 3, name="conv"), keras.layers.Flatten(),
                              keras.layers.Dense(10)])
    axes = image_axes(plots.plot_feature_maps(model, sample[0][0]))
    assert len(axes) == 3 + 1
    assert axes[1].images[0].get_array().shape == (26, 26)


def test_plot_feature_maps_refuses_a_flat_layer(sample, model):
    with pytest.raises(CnnlearnError, match="feature maps"):
        plots.plot_feature_maps(model, sample[0][0], layer_name="dense")


# --------------------------------------------------------------------------
# plot_augmentations
# --------------------------------------------------------------------------

def augmented_arrays(fig):
    return np.stack([ax.images[0].get_array() for ax in image_axes(fig)[1:]])


def test_plot_augmentations_shows_the_original_then_n_copies(sample):
    image = sample[0][0]
    fig = plots.plot_augmentations(image, augmenter(), n=6, ncols=4)
    check_figure(fig)
    axes = image_axes(fig)
    assert len(axes) == 6 + 1
    assert axes[0].get_title() == "original"
    original = axes[0].images[0].get_array()
    np.testing.assert_allclose(original, image / 255, atol=1e-6)
    copies = augmented_arrays(fig)
    for copy in copies:
        assert np.abs(copy - original).max() > 0.1
    assert np.abs(copies[0] - copies[1]).max() > 0.1  # each copy drawn afresh


def test_plot_augmentations_is_reproducible(sample):
    image, aug = sample[0][0], augmenter()
    first = augmented_arrays(plots.plot_augmentations(image, aug, n=4, seed=1))
    again = augmented_arrays(plots.plot_augmentations(image, aug, n=4, seed=1))
    other = augmented_arrays(plots.plot_augmentations(image, aug, n=4, seed=2))
    np.testing.assert_allclose(first, again)
    assert np.abs(first - other).max() > 0.1


# --------------------------------------------------------------------------
# plot_sliding_window
# --------------------------------------------------------------------------

def test_plot_sliding_window_outlines_the_window_and_its_output_pixel(sample):
    from matplotlib.patches import Rectangle

    from cnnlearn import ops

    image = sample[0][0]
    kernel = np.arange(15, dtype=np.float32).reshape(3, 5) - 7  # not square: rows and columns can't be swapped
    row, col = 9, 14
    fig = plots.plot_sliding_window(image, kernel, row, col)
    check_figure(fig)
    left, right = image_axes(fig)
    np.testing.assert_allclose(left.images[0].get_array(), image / 255, atol=1e-6)
    fmap = ops.conv2d(image / 255, kernel)
    assert right.images[0].get_array().shape == (26, 24)
    np.testing.assert_allclose(right.images[0].get_array()[row, col], fmap[row, col], rtol=1e-5)
    assert f"{fmap[row, col]:.2f}" in right.get_title()
    for ax, (height, width) in ((left, (3, 5)), (right, (1, 1))):
        (box,) = [p for p in ax.patches if isinstance(p, Rectangle)]
        assert box.get_xy() == (col - 0.5, row - 0.5)  # pixel (row, col) is centred on (col, row)
        assert (box.get_height(), box.get_width()) == (height, width)
    with pytest.raises(CnnlearnError, match="feature map"):
        plots.plot_sliding_window(image, kernel, 26, 0)  # past the last window
