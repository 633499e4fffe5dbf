"""The exercises of notebook 06: solutions pass, plausible mistakes get a specific message."""

import keras
import numpy as np
import pytest

from cnnlearn.exercises import augmentation as ex


def verdict(question, answer, capsys):
    ok = question.check(answer)
    return ok, capsys.readouterr().out


def test_q1_rotation_factor(capsys):
    assert verdict(ex.q1, ex._rotation_factor(), capsys)[0]
    ok, out = verdict(ex.q1, 15, capsys)
    assert not ok and "fraction of a full turn" in out
    ok, out = verdict(ex.q1, 15 / 180, capsys)
    assert not ok and "360" in out
    ok, out = verdict(ex.q1, np.radians(15), capsys)
    assert not ok and "radians" in out


def test_q2_shift(capsys):
    assert verdict(ex.q2, ex._my_shift_solution, capsys)[0]

    def wraps_around(images, dy, dx):
        return np.roll(images, (dy, dx), axis=(1, 2))

    ok, out = verdict(ex.q2, wraps_around, capsys)
    assert not ok and "values differ" in out and "np.roll wraps" in out

    def backwards(images, dy, dx):
        return ex._my_shift_solution(images, -dy, -dx)

    ok, out = verdict(ex.q2, backwards, capsys)
    assert not ok and "positive dy is down" in out

    def crops(images, dy, dx):
        return images[:, dy:] if dy > 0 else images

    ok, out = verdict(ex.q2, crops, capsys)
    assert not ok and "fill the uncovered pixels with 0" in out

    def forgets_return(images, dy, dx):
        np.zeros_like(images)

    ok, out = verdict(ex.q2, forgets_return, capsys)
    assert not ok and "missing return?" in out


def test_q3_the_unsafe_transformation(capsys):
    assert verdict(ex.q3, ex._unsafe_transformation(), capsys)[0]
    assert verdict(ex.q3, " Flip ", capsys)[0]
    ok, out = verdict(ex.q3, "rotation", capsys)
    assert not ok and "180 degrees" in out
    ok, out = verdict(ex.q3, "flips", capsys)
    assert not ok and "single word 'flip'" in out


def test_q4_pipeline(capsys):
    assert verdict(ex.q4, ex._pipeline_solution(), capsys)[0]
    with_flip = keras.Sequential([*ex._pipeline_solution().layers, keras.layers.RandomFlip("horizontal")])
    ok, out = verdict(ex.q4, with_flip, capsys)
    assert not ok and "leave out RandomFlip" in out
    half_turns = keras.Sequential([keras.layers.RandomRotation(15 / 180), keras.layers.RandomZoom(0.1),
                                   keras.layers.RandomTranslation(0.1, 0.1)])
    ok, out = verdict(ex.q4, half_turns, capsys)
    assert not ok and "15 / 360" in out
    wrong_order = keras.Sequential(list(reversed(ex._pipeline_solution().layers)))
    ok, out = verdict(ex.q4, wrong_order, capsys)
    assert not ok and "expected layers ['RandomRotation', 'RandomZoom', 'RandomTranslation']" in out


def test_q5_thought(capsys):
    assert verdict(ex.q5, "Training accuracy is measured on harder, augmented digits.", capsys)[0]
    ok, out = verdict(ex.q5, "   ", capsys)
    assert not ok and "sentence" in out
