"""Every figure the notebooks draw, with matplotlib and seaborn.

Each function returns its :class:`matplotlib.figure.Figure` and never calls
``plt.show()``: a notebook shows the figure it gets back, a script can
``fig.savefig(...)`` it. All figures share one look (see :func:`_style`):

- digits are drawn dark on white (colormap ``"gray_r"``), without ticks;
- convolution kernels use a diverging colormap centred at 0 (``"RdBu_r"``:
  red positive, blue negative weights);
- feature maps use ``"viridis"`` (bright = strong activation);
- wrong predictions are captioned in red.

Images come as cnnlearn uses them everywhere: uint8 ``(n, 28, 28)`` with
pixels 0..255, or float32 ``(n, 28, 28, 1)`` in [0, 1].

Keras is imported only by the functions that take a model or an augmenter.
"""

import contextlib

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.ticker import MaxNLocator

from cnnlearn import CnnlearnError
from cnnlearn.data import model_input

DIGIT_CMAP = "gray_r"
KERNEL_CMAP = "RdBu_r"
FEATURE_CMAP = "viridis"
WRONG_COLOR = "tab:red"
#: Inches per digit in a grid of images: room for the digit and its caption.
CELL = 1.6


# --------------------------------------------------------------------------
# Helpers: the look, grids of images, histories
# --------------------------------------------------------------------------

@contextlib.contextmanager
def _style():
    """The look of every figure: seaborn's white grid and compact fonts."""
    with plt.rc_context({
        **sns.axes_style("whitegrid"),
        **sns.plotting_context("notebook", font_scale=0.9),
        "axes.titlesize": 10,
        "figure.titlesize": 13,
        "figure.titleweight": "bold",
    }):
        yield
        # Jupyter switches interactive mode on when the first figure is made;
        # keep that, or no later figure would be shown.
        interactive = matplotlib.is_interactive()
    matplotlib.interactive(interactive)


def _finish(fig, title):
    """Give the figure its title and make its ticks in this module's style."""
    fig.suptitle(title)
    for ax in fig.axes:  # matplotlib makes ticks lazily: make them now, while the style is on
        for axis in (ax.xaxis, ax.yaxis):
            axis.get_major_ticks()
            axis.get_minor_ticks()
    return fig


def _digits(images):
    """Images as float (n, 28, 28) in [0, 1], ready for ``imshow``."""
    return model_input(images)[..., 0]


def _one_digit(image):
    """One image, uint8 (28, 28) or float (28, 28, 1), as float (1, 28, 28, 1)."""
    image = np.asarray(image)
    if image.size != 28 * 28:
        raise CnnlearnError(f"expected one digit of shape (28, 28) or (28, 28, 1); got {image.shape}")
    return model_input(image.reshape(1, 28, 28))


def _grid(n_panels, ncols, cell=CELL, aside=False):
    """A figure with ``n_panels`` axes in rows of ``ncols``; returns (fig, list of axes).

    With ``aside`` one more axes comes first, in a column of its own on the
    left (for the input next to its feature maps).
    """
    ncols = max(1, min(ncols, n_panels))
    nrows = -(-n_panels // ncols)
    width = max(cell * (ncols + aside), 3.0)  # room for the title above a single image
    fig = plt.figure(figsize=(width, cell * nrows + 0.5), layout="constrained")
    first = []
    grid = fig
    if aside:
        left, grid = fig.subfigures(1, 2, width_ratios=[1, ncols])
        first = [left.subplots()]
    axes = grid.subplots(nrows, ncols, squeeze=False)
    for ax in axes.flat[n_panels:]:
        ax.remove()
    return fig, first + list(axes.flat[:n_panels])


def _show(ax, image, caption="", color=None, cmap=DIGIT_CMAP, vmin=0.0, vmax=1.0):
    """Draw one 2-D image with a caption and no ticks."""
    ax.imshow(image, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(caption, color=color or plt.rcParams["text.color"])


def _check_n(n, name="n"):
    if n is not None and (int(n) != n or n < 1):
        raise CnnlearnError(f"{name} must be a whole number of at least 1; got {n!r}")


def _history_frame(history):
    """A keras History, a dict of lists or a DataFrame, as a DataFrame (one row per epoch)."""
    if hasattr(history, "history"):
        history = history.history
    if isinstance(history, dict):
        history = pd.DataFrame(history)
    if not isinstance(history, pd.DataFrame):
        raise CnnlearnError(
            f"expected a keras History, a dict of lists or a DataFrame; got {type(history).__name__}"
        )
    if len(history) == 0:
        raise CnnlearnError("the history is empty: no epochs to plot")
    return history.drop(columns="epoch", errors="ignore").reset_index(drop=True)


def _log_scale(ax, values):
    """Log y axis with a margin around the values (a constant rate is not drawn on the edge)."""
    ax.set_yscale("log")
    values = np.asarray(values, dtype=float)
    values = values[values > 0]
    if len(values):
        ax.set_ylim(values.min() / 2, values.max() * 2)


def _pretty(metric):
    """'val_accuracy' -> 'validation accuracy'."""
    return metric.replace("val_", "validation ", 1).replace("_", " ")


# --------------------------------------------------------------------------
# Digits
# --------------------------------------------------------------------------

def show_digits(images, labels=None, predictions=None, n=25, ncols=5, title=None):
    """A grid of the first ``n`` digits, captioned with labels and predictions.

    Parameters
    ----------
    images : uint8 (m, 28, 28) or float (m, 28, 28, 1)
    labels : int (m,), optional
        Captions "3".
    predictions : int (m,), optional
        With labels, captions "3 → 5" (true → predicted), wrong ones in red;
        alone, captions "predicted 5".
    n, ncols : int
        How many digits (at most m), and how many per row.
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    _check_n(n)
    digits = _digits(images)[:n]
    if len(digits) == 0:
        raise CnnlearnError("show_digits: no images to show")
    for name, values in (("labels", labels), ("predictions", predictions)):
        if values is not None and len(values) < len(digits):
            raise CnnlearnError(f"show_digits: {len(values)} {name} for {len(digits)} images")
    with _style():
        fig, axes = _grid(len(digits), ncols)
        for i, (ax, digit) in enumerate(zip(axes, digits)):
            caption, color = "", None
            if labels is not None and predictions is not None:
                caption = f"{labels[i]} → {predictions[i]}"
                color = WRONG_COLOR if labels[i] != predictions[i] else None
            elif labels is not None:
                caption = f"{labels[i]}"
            elif predictions is not None:
                caption = f"predicted {predictions[i]}"
            _show(ax, digit, caption, color)
        if title is None:
            title = "True → predicted digit (wrong in red)" if labels is not None and predictions is not None \
                else f"{len(digits)} digits"
        return _finish(fig, title)


def plot_errors(images, errors, n=None, ncols=5, title=None):
    """The digits a model got wrong, captioned "true 4, predicted 9 (97%)".

    Parameters
    ----------
    images : uint8 (m, 28, 28) or float (m, 28, 28, 1)
        All the images the model saw; ``errors.indices`` point into them.
    errors : cnnlearn.evaluate.Errors
        From :func:`cnnlearn.evaluate.worst_errors`: indices, labels,
        predicted and confidence, each of shape (k,).
    n : int, optional
        Show only the first ``n`` errors (default: all k).
    ncols : int
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
        With no errors, a figure that says so.
    """
    _check_n(n)
    k = len(errors.indices) if n is None else min(n, len(errors.indices))
    with _style():
        if k == 0:
            fig, ax = plt.subplots(figsize=(4, 1.5), layout="constrained")
            ax.text(0.5, 0.5, "no errors", ha="center", va="center", fontsize=14)
            ax.set_axis_off()
            return _finish(fig, title or "The model made no errors")
        digits = _digits(np.asarray(images)[np.asarray(errors.indices[:k])])
        fig, axes = _grid(k, ncols, cell=2.1)  # wider cells: the captions are long
        for i, (ax, digit) in enumerate(zip(axes, digits)):
            caption = f"true {errors.labels[i]}, predicted {errors.predicted[i]} ({errors.confidence[i]:.0%})"
            _show(ax, digit, caption, WRONG_COLOR)
        return _finish(fig, title or f"The {k} most confident mistakes")


def plot_augmentations(image, augmenter, n=15, ncols=8, seed=0, title=None):
    """One digit, then ``n`` random augmentations of it.

    Parameters
    ----------
    image : uint8 (28, 28) or float (28, 28, 1)
    augmenter : keras layer
        Such as :func:`cnnlearn.augment.augmenter`; called as
        ``augmenter(batch, training=True)`` on float (n, 28, 28, 1) in [0, 1].
    n, ncols : int
    seed : int
        The same seed draws the same augmentations. The augmenter is rebuilt
        from its config after ``keras.utils.set_random_seed(seed)`` (its random
        state moves on with every call, so reusing it would not repeat), and
        the one given is left untouched.
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
        n + 1 images: the original (captioned "original") first.
    """
    import keras

    _check_n(n)
    original = _one_digit(image)
    keras.utils.set_random_seed(seed)
    try:
        fresh = augmenter.__class__.from_config(augmenter.get_config())
    except Exception:  # a layer that cannot be rebuilt: use it as it is
        fresh = augmenter
    batch = np.repeat(original, n, axis=0)
    augmented = keras.ops.convert_to_numpy(fresh(batch, training=True))
    if augmented.shape != batch.shape:
        raise CnnlearnError(f"plot_augmentations: the augmenter returned shape {augmented.shape}; "
                            f"expected {batch.shape}, the shape it was given")
    with _style():
        fig, axes = _grid(n + 1, ncols)
        _show(axes[0], original[0, ..., 0], "original")
        for ax, digit in zip(axes[1:], augmented[..., 0]):
            _show(ax, digit)
        return _finish(fig, title or f"{n} random augmentations of one digit")


# --------------------------------------------------------------------------
# Training histories
# --------------------------------------------------------------------------

def plot_history(history, title=None):
    """Loss, accuracy and learning rate by epoch, training vs validation.

    Parameters
    ----------
    history : keras.callbacks.History, dict of lists, or pandas.DataFrame
        Keys such as "loss", "accuracy", "val_loss", "val_accuracy",
        "learning_rate", one value per epoch (as :func:`cnnlearn.training.train`
        returns). Without "learning_rate" that panel is left out.
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
        One panel per metric; training solid, validation ("val_") dashed;
        epochs counted from 1.
    """
    frame = _history_frame(history)
    epochs = np.arange(1, len(frame) + 1)
    metrics = [m for m in ("loss", "accuracy") if m in frame or f"val_{m}" in frame]
    if "learning_rate" in frame:
        metrics.append("learning_rate")
    if not metrics:
        raise CnnlearnError(f"plot_history: no loss, accuracy or learning_rate in the history "
                            f"(it has {', '.join(map(str, frame.columns))})")
    with _style():
        fig, axes = plt.subplots(1, len(metrics), figsize=(4.2 * len(metrics), 3.6),
                                 squeeze=False, layout="constrained")
        for ax, metric in zip(axes[0], metrics):
            if metric in frame:
                ax.plot(epochs, frame[metric], "-", marker=".", color="C0", label="training")
            if f"val_{metric}" in frame:
                ax.plot(epochs, frame[f"val_{metric}"], "--", marker=".", color="C1", label="validation")
            if metric == "learning_rate":
                _log_scale(ax, frame[metric])
            else:
                ax.legend()
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.set(xlabel="epoch", ylabel=_pretty(metric))
        return _finish(fig, title or f"Training history ({len(frame)} epochs)")


def compare_histories(histories, metric="val_accuracy", title=None):
    """One metric by epoch for several runs on one axis ("with vs without dropout").

    Parameters
    ----------
    histories : dict of str -> history
        Run name -> keras History, dict of lists or DataFrame.
    metric : str
        The history key to compare, e.g. "val_accuracy", "loss",
        "learning_rate" (drawn on a log scale).
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    if not histories:
        raise CnnlearnError("compare_histories: no histories to compare")
    frames = {name: _history_frame(h) for name, h in histories.items()}
    for name, frame in frames.items():
        if metric not in frame:
            raise CnnlearnError(f"compare_histories: run {name!r} has no {metric!r} "
                                f"(it has {', '.join(map(str, frame.columns))})")
    with _style():
        fig, ax = plt.subplots(figsize=(6.5, 4), layout="constrained")
        for name, frame in frames.items():
            ax.plot(np.arange(1, len(frame) + 1), frame[metric], marker=".", label=name)
        if metric == "learning_rate":
            _log_scale(ax, pd.concat([frame[metric] for frame in frames.values()]))
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set(xlabel="epoch", ylabel=_pretty(metric))
        ax.legend()
        return _finish(fig, title or f"{_pretty(metric).capitalize()} by epoch")


# --------------------------------------------------------------------------
# Evaluation
# --------------------------------------------------------------------------

def plot_confusion(labels, predictions, title=None):
    """The 10x10 confusion matrix as an annotated heatmap.

    Parameters
    ----------
    labels, predictions : int (n,)
        True and predicted digits.
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
        Rows are true digits, columns predicted digits; each cell shows its
        count (empty cells are left blank, so the mistakes stand out).
    """
    from cnnlearn.evaluate import accuracy, confusion_matrix

    matrix = confusion_matrix(labels, predictions)
    counts = np.where(matrix > 0, matrix.astype(str), "")
    with _style():
        fig, ax = plt.subplots(figsize=(5.8, 5.5), layout="constrained")
        sns.heatmap(matrix, annot=counts, fmt="", cmap="Blues", cbar=False, square=True,
                    linewidths=0.5, linecolor="white", ax=ax)
        ax.set(xlabel="predicted digit", ylabel="true digit")
        ax.tick_params(axis="y", rotation=0)
        default = f"Confusion matrix: {accuracy(labels, predictions):.1%} of {len(labels):,} digits right"
        return _finish(fig, title or default)


# --------------------------------------------------------------------------
# Inside the network: kernels and feature maps
# --------------------------------------------------------------------------

def _find_layer(model, layer_name, conv_only):
    """The named layer, or the model's first Conv2D; a clear error otherwise."""
    import keras

    convs = [layer.name for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    if layer_name is None:
        if not convs:
            raise CnnlearnError(f"model {model.name!r} has no Conv2D layer")
        layer_name = convs[0]
    try:
        layer = model.get_layer(layer_name)
    except ValueError:
        raise CnnlearnError(f"model {model.name!r} has no layer {layer_name!r}; "
                            f"its Conv2D layers are {convs}") from None
    if conv_only and not isinstance(layer, keras.layers.Conv2D):
        raise CnnlearnError(f"layer {layer_name!r} is a {type(layer).__name__}, not a Conv2D; "
                            f"the Conv2D layers of {model.name!r} are {convs}")
    return layer


def plot_kernels(model, layer_name=None, channel=0, ncols=8, title=None):
    """The learned kernels of a Conv2D layer, one small image per filter.

    Parameters
    ----------
    model : keras.Model
    layer_name : str, optional
        A Conv2D layer (default: the model's first one).
    channel : int
        Which input channel of the kernels to show (a first layer has only 0).
    ncols : int
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
        One image per filter, (kh, kw) pixels each, on one colour scale
        symmetric around 0 (red positive, blue negative weights).
    """
    layer = _find_layer(model, layer_name, conv_only=True)
    if not layer.built:
        raise CnnlearnError(f"layer {layer.name!r} has no weights yet; build the model (call it once) first")
    kernel = layer.kernel.numpy()  # (kh, kw, in_channels, filters)
    kh, kw, n_channels, n_filters = kernel.shape
    if not 0 <= channel < n_channels:
        raise CnnlearnError(f"layer {layer.name!r} has {n_channels} input channels; "
                            f"channel must be 0..{n_channels - 1}, got {channel}")
    limit = float(np.abs(kernel[:, :, channel]).max()) or 1.0
    with _style():
        fig, axes = _grid(n_filters, ncols, cell=1.0)
        for i, ax in enumerate(axes):
            _show(ax, kernel[:, :, channel, i], f"{i}", cmap=KERNEL_CMAP, vmin=-limit, vmax=limit)
        fig.colorbar(axes[0].images[0], ax=axes, shrink=0.8, label="weight")
        default = f"Kernels of {layer.name}: {n_filters} filters, {kh}x{kw}, input channel {channel}"
        return _finish(fig, title or default)


def plot_feature_maps(model, image, layer_name=None, n=None, ncols=8, title=None):
    """What one layer makes of one digit: its activation for each channel.

    Parameters
    ----------
    model : keras.Model
    image : uint8 (28, 28) or float (28, 28, 1)
    layer_name : str, optional
        Any layer with image-shaped output (batch, h, w, channels), e.g. a
        Conv2D, its ReLU or a pooling layer. Default: the first Conv2D.
    n : int, optional
        Show only the first ``n`` channels (default: all).
    ncols : int
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
        The input digit first, then one (h, w) map per channel, each on its
        own colour scale (bright = strong activation).
    """
    import keras

    _check_n(n)
    x = _one_digit(image)
    layer = _find_layer(model, layer_name, conv_only=False)
    try:
        inputs = model.inputs
    except (AttributeError, ValueError):  # a Sequential model never called yet
        model(x)
        inputs = model.inputs
    if len(layer.output.shape) != 4:
        raise CnnlearnError(f"layer {layer.name!r} outputs shape {tuple(layer.output.shape)}; "
                            "expected image-shaped feature maps (batch, height, width, channels)")
    inputs = inputs[0] if len(inputs) == 1 else inputs  # a single input as a tensor, not a list
    maps = keras.Model(inputs, layer.output)(x, training=False)
    maps = keras.ops.convert_to_numpy(maps)[0]  # (h, w, channels)
    shown = maps.shape[-1] if n is None else min(n, maps.shape[-1])
    with _style():
        fig, axes = _grid(shown, ncols, cell=1.3, aside=True)
        _show(axes[0], x[0, ..., 0], "input")
        for i, ax in enumerate(axes[1:]):
            _show(ax, maps[..., i], f"{i}", cmap=FEATURE_CMAP, vmin=None, vmax=None)
        h, w, c = maps.shape
        default = f"Feature maps of {layer.name}: {c} channels, {h}x{w}"
        return _finish(fig, title or default)
