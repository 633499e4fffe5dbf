"""Turn a drawing into the 28×28 digit a model expects, the way MNIST made its digits.

MNIST's digits were cropped to their ink, scaled to fit a 20×20 box keeping their aspect ratio,
then placed in a 28×28 image so that their centre of mass sits at the centre. A digit drawn on a
canvas (any size, anywhere, thin or thick) goes through the same steps in :func:`prepare_drawing`.
"""

import numpy as np
from PIL import Image
from scipy import ndimage

from cnnlearn import CnnlearnError

SIZE = 28  # the image a model sees
BOX = 20  # MNIST's digits fit a 20×20 box inside it


def _as_grey(array):
    """A 2-D float array in [0, 255]: an RGBA canvas gives its alpha (the ink), RGB its mean."""
    array = np.asarray(array)
    if array.ndim == 3 and array.shape[2] == 4:
        array = array[..., 3]
    elif array.ndim == 3 and array.shape[2] in (1, 3):
        array = array.mean(axis=2)
    if array.ndim != 2 or 0 in array.shape:
        raise CnnlearnError(f"prepare_drawing: expected a 2-D canvas (height, width); got shape {array.shape}")
    integer = np.issubdtype(array.dtype, np.integer) or array.dtype == bool
    array = array.astype(np.float64)
    if not np.isfinite(array).all():
        raise CnnlearnError("prepare_drawing: the canvas holds NaN or infinite values")
    if array.max() <= 1.0 and not integer:
        array = array * 255.0  # a float canvas in [0, 1]
    return np.clip(array, 0.0, 255.0)


def prepare_drawing(array, threshold=0.0):
    """A drawing as MNIST would have stored it: uint8 (28, 28), white ink on black.

    Parameters
    ----------
    array : array-like
        The canvas, (height, width) of ink intensities (0 = empty; 0..255, or floats in
        [0, 1]), or (height, width, 4) RGBA whose alpha is the ink, or (height, width, 3) RGB.
        Any size, square or not.
    threshold : float
        Pixels at or below this count as empty when finding the ink's bounding box.

    Returns
    -------
    numpy.ndarray
        uint8 (28, 28): the ink cropped to its bounding box, scaled so its longer side is 20
        pixels (the aspect ratio kept), and shifted so its centre of mass is at (14, 14).

    Raises
    ------
    CnnlearnError
        "draw something first" for an empty canvas; a clear message for a canvas of the wrong
        shape or with NaNs.
    """
    grey = _as_grey(array)
    rows, cols = np.nonzero(grey > threshold)
    if rows.size == 0:
        raise CnnlearnError("prepare_drawing: the canvas is empty: draw something first")
    ink = grey[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
    # Scale so the longer side is BOX pixels, keeping the aspect ratio (a dot stays a dot, at least 1 px).
    scale = BOX / max(ink.shape)
    height, width = (max(1, round(n * scale)) for n in ink.shape)
    # Pillow's resize averages over the area it shrinks (anti-aliasing), so a thin stroke fades
    # instead of vanishing; then the darkest ink is restored to the canvas's own darkest value.
    resized = np.asarray(Image.fromarray(ink.astype(np.float32), mode="F").resize((width, height), Image.BILINEAR))
    resized = np.clip(resized.astype(np.float64), 0.0, 255.0)
    if resized.max() > 0:
        resized = resized * (ink.max() / resized.max())
    # Paste the box in the middle of a 28×28 image, then shift its centre of mass to the centre.
    image = np.zeros((SIZE, SIZE))
    top, left = (SIZE - resized.shape[0]) // 2, (SIZE - resized.shape[1]) // 2
    image[top:top + resized.shape[0], left:left + resized.shape[1]] = resized
    centre = np.array(ndimage.center_of_mass(image))
    shift = np.round((SIZE - 1) / 2 - centre + 0.5).astype(int)  # (14, 14) up to rounding
    # Never push ink off the image: limit the shift to the empty margin on each side.
    used_rows, used_cols = np.nonzero(image > 0)
    shift[0] = int(np.clip(shift[0], -used_rows.min(), SIZE - 1 - used_rows.max()))
    shift[1] = int(np.clip(shift[1], -used_cols.min(), SIZE - 1 - used_cols.max()))
    image = np.roll(image, tuple(shift), axis=(0, 1))
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)
