"""Notebook 00's exercises: solutions pass, known mistakes get advice, the answers agree with the data."""

import re

import numpy as np
import pytest

from cnnlearn import data
from cnnlearn.exercises import the_data as ex


def verdict(question, answer, capsys):
    ok = question.check(answer)
    return ok, capsys.readouterr().out


@pytest.mark.parametrize("question, answer", [
    (ex.q1, ex._pixel_position_solution()), (ex.q2, ex._nines_share_solution()), (ex.q3, ex._prepared_value_solution()),
], ids=lambda value: getattr(value, "name", ""))
def test_the_solution_passes(question, answer, capsys):
    ok, out = verdict(question, answer, capsys)
    assert ok and out.startswith("Correct"), out


def test_the_answers_agree_with_the_data(sample):
    images, labels = sample
    flat = images.reshape(len(images), -1)
    row, column = ex.q1.expected
    np.testing.assert_array_equal(flat[:, 300], images[:, row, column])  # pixel300 of a CSV row
    assert (labels[-500:] == 9).mean() == ex.q2.expected                  # the sample is sorted by class
    _, _, _, y_val = data.train_val_split(images, labels)
    assert (y_val == 9).mean() == pytest.approx(0.1)                      # the fix
    prepared = data.prepare(np.full((1, 28, 28), 51, dtype=np.uint8))
    assert prepared[0, 0, 0, 0] == pytest.approx(ex.q3.expected)


@pytest.mark.parametrize("question, answer, advice", [
    (ex.q1, (20, 10), "row 300 // 28"),
    (ex.q1, (11, 21), "count rows and columns from 0"),
    (ex.q1, 300, "as a tuple"),
    (ex.q2, 0.1, "how the sample's rows are ordered"),
    (ex.q2, 100, "between 0 and 1"),
    (ex.q3, 51, "divides them by 255"),
    (ex.q3, 51 / 256, "not 256"),
])
def test_known_mistakes_get_advice(question, answer, advice, capsys):
    ok, out = verdict(question, answer, capsys)
    assert not ok and re.search(advice, out), out
