"""Exercises for notebook 00, the data.

- ``q1`` which pixel of the 28x28 image a CSV column holds (a value)
- ``q2`` find the bug: a validation set cut from the end of sorted rows (a value)
- ``q3`` a pixel's value after ``data.prepare`` (a value)
"""

import numpy as np

from cnnlearn.exercises.questions import ValueQuestion, source_of


# --- q1: pixel column to row and column ---------------------------------------

def _pixel_position_solution():
    # Kaggle's pixelN reads the image row by row, 28 pixels a row: N = 28 * row + column.
    return divmod(300, 28)  # (10, 20): row 10, column 20, both counted from 0


def _diagnose_pixel_position(answer):
    if np.ndim(answer) != 1 or len(answer) != 2:
        return "give (row, column) as a tuple of two numbers"
    row, column = (int(v) for v in answer)
    if (row, column) == (20, 10):
        return "the pixels run along a row first: pixel300 is in row 300 // 28"
    if (row, column) == (11, 21):
        return "count rows and columns from 0, as Python and Kaggle's pixel0 do"
    return None


q1 = ValueQuestion(
    "q1",
    "Kaggle's train.csv has the columns label, pixel0, ..., pixel783. In which (row, column) of the 28x28 "
    "image is pixel300, both counted from 0? Answer with a tuple.",
    expected=_pixel_position_solution(),
    hint="The image is read row by row: pixel0 to pixel27 are row 0, pixel28 starts row 1.",
    solution=source_of(_pixel_position_solution, "pixel_position") + "\n\nanswer = pixel_position()",
    diagnose=_diagnose_pixel_position,
)


# --- q2: find the bug: a validation set from the last rows -------------------------

def _nines_share_solution():
    # The bundled sample is sorted by class, 500 digits each: the last 500 rows are all 9s.
    # Such a "validation set" measures one digit out of ten, and the training set has no 9s at all.
    return 1.0


def _diagnose_nines_share(answer):
    if isinstance(answer, (int, float)) and abs(answer - 0.1) < 0.02:
        return "0.1 would hold for a shuffled or stratified split; look at how the sample's rows are ordered"
    if isinstance(answer, (int, float)) and answer > 1:
        return "give a share between 0 and 1"
    return None


q2 = ValueQuestion(
    "q2",
    "Find the bug. A learner holds out a validation set with x_val, y_val = images[-500:], labels[-500:] on the "
    "bundled 5,000-digit sample (500 of each digit, stored sorted by class). What share of that validation "
    "set are 9s? (A number between 0 and 1; then fix the split with data.train_val_split.)",
    expected=_nines_share_solution(),
    tolerance=1e-9,
    hint="The cell under 'A validation set' counted the digits in the last tenth of the rows.",
    solution=source_of(_nines_share_solution, "nines_share") + "\n\nanswer = nines_share()",
    diagnose=_diagnose_nines_share,
)


# --- q3: a pixel after data.prepare ----------------------------------------

def _prepared_value_solution():
    # data.prepare divides by 255 (and adds a channel axis): 51 / 255 = 0.2.
    return 51 / 255


def _diagnose_prepared(answer):
    if answer == 51:
        return "data.prepare scales the pixels: it divides them by 255"
    if isinstance(answer, (int, float)) and abs(answer - 51 / 256) < 1e-6:
        return "the largest pixel value is 255, not 256: divide by 255"
    return None


q3 = ValueQuestion(
    "q3",
    "A pixel of Kaggle's CSV holds 51. What value does it have after data.prepare?",
    expected=_prepared_value_solution(),
    tolerance=1e-6,
    hint="After data.prepare the values run from 0.0 to 1.0.",
    solution=source_of(_prepared_value_solution, "prepared_value") + "\n\nanswer = prepared_value()  # 0.2",
    diagnose=_diagnose_prepared,
)
