"""Every figure the notebooks draw. Each function returns its matplotlib Figure (a notebook shows it, a
script saves it) and never calls ``plt.show()``; each takes a ``title`` (default: what it shows).

One look throughout (:func:`_style`): digits dark on white, kernels red positive and blue negative, feature maps
in viridis, wrong predictions in red. Keras is imported only by the functions that take a model or an augmenter.
"""

import contextlib

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.patches import ConnectionPatch, Rectangle
from matplotlib.ticker import MaxNLocator

from cnnlearn import CnnlearnError, ops
from cnnlearn.data import model_input

DIGIT_CMAP = "gray_r"
KERNEL_CMAP = "RdBu_r"
FEATURE_CMAP = "viridis"
WRONG_COLOR = "tab:red"
CELL = 1.6  # inches per digit in a grid of images: room for the digit and its caption


@contextlib.contextmanager
def _style():
    """The look of every figure: seaborn's white grid and compact fonts."""
    style = {**sns.axes_style("whitegrid"), **sns.plotting_context("notebook", font_scale=0.9)}
    with plt.rc_context({**style, "axes.titlesize": 10, "figure.titlesize": 13, "figure.titleweight": "bold"}):
        yield
        # Jupyter switches interactive mode on when the first figure is made; keep it, or no later figure shows.
        interactive = matplotlib.is_interactive()
    matplotlib.interactive(interactive)


def _finish(fig, title):
    """Title the figure and make its ticks now, in this style: matplotlib makes them lazily, when drawing."""
    fig.suptitle(title)
    for ax in fig.axes:
        ax.tick_params(which="both")  # reaching the ticks makes them
    return fig


def _show(ax, image, caption="", color=None, cmap=DIGIT_CMAP, vmin=0.0, vmax=1.0):
    """Draw one 2-D image with a caption and no ticks."""
    ax.imshow(image, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
    ax.set(xticks=[], yticks=[])
    ax.set_title(caption, color=color or plt.rcParams["text.color"])


def _image_grid(images, captions, ncols, cell=CELL, colors=None, aside=None, **imshow):
    """A figure of 2-D ``images`` with ``captions`` in rows of ``ncols``, after ``aside`` in a column of its own."""
    ncols = max(1, min(ncols, len(images)))
    cells = list(range(len(images))) + ["."] * (-len(images) % ncols)  # "." leaves a cell empty
    mosaic = [["aside"] * (aside is not None) + cells[i:i + ncols] for i in range(0, len(cells), ncols)]
    fig = plt.figure(figsize=(max(cell * len(mosaic[0]), 3.0), cell * len(mosaic) + 0.5), layout="constrained")
    axes = fig.subplot_mosaic(mosaic)
    if aside is not None:
        _show(axes["aside"], aside, "input")
    for i, image in enumerate(images):
        _show(axes[i], image, f"{captions[i]}", None if colors is None else colors[i], **imshow)
    return fig


def _history_frame(history):
    """A keras History, dict of lists or DataFrame as a DataFrame, one row per epoch."""
    frame = pd.DataFrame(getattr(history, "history", history))
    if frame.empty:
        raise CnnlearnError("the history is empty: no epochs to plot")
    return frame.drop(columns="epoch", errors="ignore").reset_index(drop=True)


def _by_epoch(ax, lines, metric, **plot):
    """Draw the columns of ``lines`` against the epoch (from 1)."""
    lines.set_axis(lines.index + 1).plot(ax=ax, marker=".", **plot)
    ax.autoscale(axis="x")  # pandas fits the x axis tightly around the data
    if metric == "learning_rate":  # log scale, with room around: a constant rate is not drawn on the edge
        ax.set_yscale("log")
        rates = lines.to_numpy()[lines.to_numpy() > 0]
        if len(rates):
            ax.set_ylim(rates.min() / 2, rates.max() * 2)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set(xlabel="epoch", ylabel=metric.replace("val_", "validation ", 1).replace("_", " "))


def show_digits(images, labels=None, predictions=None, n=25, ncols=5, title=None):
    """A grid of the first ``n`` digits, captioned "3", "3 → 5" (true → predicted, wrong in red) or "predicted 5".

    Parameters
    ----------
    images : uint8 (m, 28, 28) or float (m, 28, 28, 1)
    labels, predictions : int (m,), optional
    n, ncols : int, default 25 and 5: how many digits, and per row
    """
    digits = model_input(images)[:n, ..., 0]
    if len(digits) == 0 or any(values is not None and len(values) < len(digits) for values in (labels, predictions)):
        raise CnnlearnError(f"show_digits: need at least one image, and labels and predictions for all {len(digits)}")
    both = labels is not None and predictions is not None
    captions = [""] * len(digits) if labels is None else labels
    if predictions is not None:
        captions = [f"{t} → {p}" if both else f"predicted {p}" for t, p in zip(captions, predictions)]
    colors = [WRONG_COLOR if t != p else None for t, p in zip(labels, predictions)] if both else None
    with _style():
        fig = _image_grid(digits, captions, ncols, colors=colors)
        return _finish(fig, title or ("True → predicted digit (wrong in red)" if both else f"{len(digits)} digits"))


def plot_errors(images, errors, n=None, ncols=5, title=None):
    """The digits a model got wrong, captioned "true 4, predicted 9 (97%)" in red.

    Parameters
    ----------
    images : uint8 (m, 28, 28) or float (m, 28, 28, 1)
    errors : cnnlearn.evaluate.Errors, from :func:`cnnlearn.evaluate.worst_errors` (indices into ``images``)
    n, ncols : int, default all and 5: how many errors, and per row
    """
    indices = np.asarray(errors.indices[:n], dtype=int)
    with _style():
        if len(indices) == 0:
            fig, ax = plt.subplots(figsize=(4, 1.5), layout="constrained")
            ax.text(0.5, 0.5, "no errors", ha="center", va="center", fontsize=14)
            ax.set_axis_off()
            return _finish(fig, title or "The model made no errors")
        wrong = zip(errors.labels, errors.predicted, errors.confidence)
        captions = [f"true {t}, predicted {p} ({c:.0%})" for t, p, c in wrong]
        fig = _image_grid(model_input(np.asarray(images)[indices])[..., 0], captions, ncols, cell=2.1,
                          colors=[WRONG_COLOR] * len(indices))  # wider cells: the captions are long
        return _finish(fig, title or f"The {len(indices)} most confident mistakes")


def plot_augmentations(image, augmenter, n=15, ncols=8, seed=0, title=None):
    """One digit ("original"), then ``n`` random augmentations of it.

    Parameters
    ----------
    image : uint8 (28, 28) or float (28, 28, 1)
    augmenter : keras layer, e.g. :func:`cnnlearn.augment.augmenter` (left untouched: a copy draws)
    n, ncols : int, default 15 and 8: how many augmentations, and per row
    seed : int, default 0: the same seed draws the same augmentations
    """
    import keras

    original = model_input(np.reshape(image, (1, 28, 28)))
    keras.utils.set_random_seed(seed)
    with contextlib.suppress(Exception):  # a fresh copy, if it can be rebuilt: its random state moves on every call
        augmenter = augmenter.__class__.from_config(augmenter.get_config())
    augmented = keras.ops.convert_to_numpy(augmenter(np.repeat(original, n, axis=0), training=True))
    with _style():
        fig = _image_grid(np.concatenate([original, augmented])[..., 0], ["original"] + [""] * n, ncols)
        return _finish(fig, title or f"{n} random augmentations of one digit")


def plot_history(history, title=None):
    """Loss, accuracy and learning rate by epoch; training solid, validation dashed.

    Parameters
    ----------
    history : the keras History from model.fit, a dict of lists or a DataFrame: "loss", "val_loss", ...
    """
    frame = _history_frame(history)
    metrics = [m for m in ("loss", "accuracy", "learning_rate") if m in frame or f"val_{m}" in frame]
    with _style():
        fig, _ = plt.subplots(1, len(metrics), figsize=(4.2 * len(metrics), 3.6), layout="constrained")
        for ax, metric in zip(fig.axes, metrics):
            names = {metric: "training", f"val_{metric}": "validation"}
            _by_epoch(ax, frame.filter(names).rename(columns=names), metric, legend=metric != "learning_rate",
                      style={"training": "-", "validation": "--"}, color={"training": "C0", "validation": "C1"})
        return _finish(fig, title or f"Training history ({len(frame)} epochs)")


def compare_histories(histories, metric="val_accuracy", title=None):
    """One metric by epoch for several runs on one axes ("with vs without dropout").

    Parameters
    ----------
    histories : dict of str -> keras.callbacks.History, dict of lists, or pandas.DataFrame
    metric : str, default "val_accuracy"
    """
    frames = {name: _history_frame(h) for name, h in histories.items()}
    for name, frame in frames.items():
        if metric not in frame:
            raise CnnlearnError(f"compare_histories: run {name!r} has no {metric!r}; it has {list(frame.columns)}")
    with _style():
        fig, ax = plt.subplots(figsize=(6.5, 4), layout="constrained")
        _by_epoch(ax, pd.DataFrame({name: frame[metric] for name, frame in frames.items()}), metric)
        return _finish(fig, title or f"{ax.get_ylabel().capitalize()} by epoch")


def plot_confusion(labels, predictions, title=None):
    """The 10x10 confusion matrix as a heatmap: rows true, columns predicted digits, zeros left blank.

    Parameters
    ----------
    labels, predictions : int (n,)
    """
    from cnnlearn.evaluate import accuracy, confusion_matrix

    matrix = confusion_matrix(labels, predictions)
    with _style():
        fig, ax = plt.subplots(figsize=(5.8, 5.5), layout="constrained")
        sns.heatmap(matrix, annot=np.where(matrix > 0, matrix.astype(str), ""), fmt="", cmap="Blues", cbar=False,
                    square=True, linewidths=0.5, linecolor="white", ax=ax)
        ax.set(xlabel="predicted digit", ylabel="true digit")
        ax.tick_params(axis="y", rotation=0)
        default = f"Confusion matrix: {accuracy(labels, predictions):.1%} of {len(labels):,} digits right"
        return _finish(fig, title or default)


def _find_layer(model, layer_name, conv_only):
    """The named layer (default: the model's first Conv2D), or a clear error."""
    from keras.layers import Conv2D

    layers = {layer.name: layer for layer in model.layers}
    convs = [name for name, layer in layers.items() if isinstance(layer, Conv2D)]
    name = layer_name or (convs + [None])[0]
    if name not in layers:
        raise CnnlearnError(f"model {model.name!r} has no layer {name!r}; its Conv2D layers are {convs}")
    if conv_only and name not in convs:
        raise CnnlearnError(f"layer {name!r} is not a Conv2D; the Conv2D layers of {model.name!r} are {convs}")
    return layers[name]


def plot_kernels(model, layer_name=None, channel=0, ncols=8, title=None):
    """The kernels of a Conv2D layer, one (kh, kw) image per filter, red positive, blue negative.

    Parameters
    ----------
    model : keras.Model
    layer_name : str, optional: a Conv2D layer (default: the model's first)
    channel : int, default 0: which input channel of the kernels to show
    ncols : int, default 8
    """
    layer = _find_layer(model, layer_name, conv_only=True)
    kernel = layer.kernel.numpy()[:, :, channel]  # (kh, kw, filters)
    kh, kw, n_filters = kernel.shape
    limit = float(np.abs(kernel).max()) or 1.0
    with _style():
        fig = _image_grid(np.moveaxis(kernel, -1, 0), range(n_filters), ncols, cell=1.0, cmap=KERNEL_CMAP,
                          vmin=-limit, vmax=limit)
        fig.colorbar(fig.axes[0].images[0], ax=fig.axes, shrink=0.8, label="weight")
        default = f"Kernels of {layer.name}: {n_filters} filters, {kh}x{kw}, input channel {channel}"
        return _finish(fig, title or default)


def plot_feature_maps(model, image, layer_name=None, n=None, ncols=8, title=None):
    """What one layer makes of one digit: the input, then one activation map per channel.

    Parameters
    ----------
    model : keras.Model
    image : uint8 (28, 28) or float (28, 28, 1)
    layer_name : str, optional: any layer with output (batch, h, w, channels) (default: the first Conv2D)
    n, ncols : int, default all and 8: how many channels, and per row
    """
    import keras

    x = model_input(np.reshape(image, (1, 28, 28)))
    layer = _find_layer(model, layer_name, conv_only=False)
    model(x, training=False)  # builds a Sequential model never called yet
    if len(layer.output.shape) != 4:
        raise CnnlearnError(f"layer {layer.name!r} outputs shape {tuple(layer.output.shape)}; "
                            "expected feature maps (batch, height, width, channels)")
    maps = keras.ops.convert_to_numpy(keras.Model(model.inputs[0], layer.output)(x, training=False))[0]
    h, w, c = maps.shape
    shown = c if n is None else min(n, c)
    with _style():
        fig = _image_grid(np.moveaxis(maps, -1, 0)[:shown], range(shown), ncols, cell=1.3, aside=x[0, ..., 0],
                          cmap=FEATURE_CMAP, vmin=None, vmax=None)
        channels = f"showing {shown} of {c} channels" if shown < c else f"{c} channels"
        return _finish(fig, title or f"Feature maps of {layer.name}: {channels}, {h}x{w}")


def plot_sliding_window(image, kernel, row, col, title=None):
    """One step of a convolution: a window of the image, an arrow, and the one output pixel it makes.

    Parameters
    ----------
    image, kernel : uint8 (28, 28) or float (28, 28, 1), and float (kh, kw)
    row, col : int: the window's top-left corner, and so the output pixel ("valid" padding, stride 1)
    """
    digit = model_input(np.reshape(image, (1, 28, 28)))[0, ..., 0]
    kernel = np.asarray(kernel, dtype=np.float32)
    fmap = ops.conv2d(digit, kernel)
    if not (0 <= row < fmap.shape[0] and 0 <= col < fmap.shape[1]):
        raise CnnlearnError(f"plot_sliding_window: the feature map is {fmap.shape}; got row {row}, column {col}")
    kh, kw = kernel.shape
    limit = float(np.abs(fmap).max()) or 1.0
    with _style():
        fig, (left, right) = plt.subplots(1, 2, figsize=(7.5, 4), layout="constrained")
        _show(left, digit, f"input {digit.shape[0]}x{digit.shape[1]}: window at ({row}, {col})")
        _show(right, fmap, f"feature map {fmap.shape[0]}x{fmap.shape[1]}: value {fmap[row, col]:.2f}",
              cmap=KERNEL_CMAP, vmin=-limit, vmax=limit)
        for ax, (h, w) in ((left, (kh, kw)), (right, (1, 1))):
            ax.add_patch(Rectangle((col - 0.5, row - 0.5), w, h, fill=False, edgecolor="tab:green", linewidth=2))
        fig.add_artist(ConnectionPatch((col + kw - 0.5, row + kh / 2 - 0.5), (col - 0.5, row), "data", "data",
                                       axesA=left, axesB=right, arrowstyle="->", color="tab:green", linewidth=1.5))
        return _finish(fig, title or f"One {kh}x{kw} window of the input makes one pixel of the feature map")
