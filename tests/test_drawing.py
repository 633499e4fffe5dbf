"""prepare_drawing: a canvas becomes a 28×28 digit the MNIST way (crop, fit 20×20, centre of mass)."""

import numpy as np
import pytest
from scipy import ndimage

from cnnlearn import CnnlearnError
from cnnlearn.drawing import prepare_drawing


def ink_box(image):
    rows, cols = np.nonzero(image)
    return rows.max() - rows.min() + 1, cols.max() - cols.min() + 1


def check_centred(image):
    row, col = ndimage.center_of_mass(image.astype(float))
    assert abs(row - 14) <= 1 and abs(col - 14) <= 1, (row, col)


def test_an_off_centre_digit_on_a_big_canvas_comes_back_centred_and_fitting_20x20(sample):
    images, _ = sample
    canvas = np.zeros((120, 90), np.uint8)
    canvas[5:61, 30:86] = np.kron(images[7], np.ones((2, 2), np.uint8))  # twice the size, top right
    out = prepare_drawing(canvas)
    assert out.shape == (28, 28) and out.dtype == np.uint8
    check_centred(out)
    assert max(ink_box(out)) == 20 and min(ink_box(out)) >= 1
    assert out.max() > 200


def test_the_aspect_ratio_is_kept():
    canvas = np.zeros((200, 200), np.uint8)
    canvas[20:180, 90:130] = 255  # a tall bar, 160×40: 4 to 1
    height, width = ink_box(prepare_drawing(canvas))
    assert height == 20 and width == 5
    wide = prepare_drawing(canvas.T)  # lying down
    assert ink_box(wide) == (5, 20)
    check_centred(wide)


def test_a_real_digit_keeps_its_class_shape(sample):
    images, _ = sample
    out = prepare_drawing(images[0])
    # the sample digits were made this way: redoing it barely changes them
    assert np.abs(out.astype(int) - images[0].astype(int)).mean() < 40
    check_centred(out)


def test_an_empty_canvas_says_draw_something_first():
    with pytest.raises(CnnlearnError, match="draw something first"):
        prepare_drawing(np.zeros((280, 280), np.uint8))
    with pytest.raises(CnnlearnError, match="draw something first"):
        prepare_drawing(np.zeros((50, 50, 4), np.uint8))  # an RGBA canvas nobody drew on


def test_a_single_dot_is_handled():
    canvas = np.zeros((100, 60), np.uint8)
    canvas[3, 50] = 255
    out = prepare_drawing(canvas)
    assert out.shape == (28, 28) and out.dtype == np.uint8 and out.max() == 255
    check_centred(out)


def test_a_full_canvas_is_handled():
    out = prepare_drawing(np.full((280, 280), 255, np.uint8))
    assert ink_box(out) == (20, 20)
    check_centred(out)
    assert out[0].sum() == 0 and out[:, 0].sum() == 0  # a black margin remains


def test_a_non_square_canvas_and_rgba_and_float_canvases():
    canvas = np.zeros((60, 200, 4), np.uint8)
    canvas[20:40, 10:30, 3] = 255  # ink in the alpha channel, far left
    out = prepare_drawing(canvas)
    check_centred(out)
    assert ink_box(out) == (20, 20)
    as_float = prepare_drawing(canvas[..., 3] / 255.0)
    np.testing.assert_array_equal(as_float, out)


@pytest.mark.parametrize("bad", [np.zeros((5,)), np.zeros((0, 10)), np.zeros((3, 3, 2)),
                                 np.full((4, 4), np.nan)], ids=["1-D", "empty-axis", "2-channel", "nan"])
def test_a_malformed_canvas_is_a_clear_error(bad):
    with pytest.raises(CnnlearnError, match="prepare_drawing"):
        prepare_drawing(bad)
