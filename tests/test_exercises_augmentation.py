"""The exercises of notebook 07: solutions pass, plausible mistakes get a specific message."""

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
    assert not ok and "not attempted yet" in out and "missing return" in out


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


def test_q5_thought_shows_the_rubric_and_never_grades(capsys):
    assert ex.q5.rubric and all(isinstance(point, str) and point for point in ex.q5.rubric)
    ok, out = verdict(ex.q5, "Training accuracy is measured on harder, augmented digits.", capsys)
    assert ok and "Correct" not in out and ex.q5.rubric[0] in out and "model.evaluate" in out
    ok, out = verdict(ex.q5, "   ", capsys)
    assert not ok and "sentence" in out
    ok, out = verdict(ex.q5, ..., capsys)
    assert not ok and "not attempted" in out


def test_printed_solutions_use_public_names():
    for question in (ex.q1, ex.q2, ex.q3, ex.q4, ex.q6):
        assert "_solution" not in question._solution and "def _" not in question._solution
    assert "def my_shift(" in ex.q2._solution and "answer = my_augmenter()" in ex.q4._solution


def test_q4_declares_an_activation_per_layer():
    assert ex.q4.activations == [None, None, None] and len(ex.q4.activations) == len(ex.q4.layer_types)


def test_q6_the_default_shift_meets_the_target(capsys):
    measured = ex.q6.measure(0.1)
    assert ex.q6.passes(measured), measured
    assert measured["gain on moved digits"] >= ex.MIN_GAIN
    ok, out = verdict(ex.q6, 0.1, capsys)
    assert ok and "target met" in out and "gain on moved digits" in out


def test_q6_no_shift_and_too_much_shift_miss_the_target(capsys):
    ok, out = verdict(ex.q6, 0, capsys)
    assert not ok and "gain on moved digits = 0" in out and "the target" in out
    measured = ex.q6.measure(0.3)  # digits pushed half out of the frame: the crisp digits suffer
    assert not ex.q6.passes(measured) and measured["loss on crisp digits"] > ex.MAX_LOSS, measured


def test_q6_refuses_an_answer_that_is_not_a_shift(capsys):
    for wrong in ("0.1", True, 3):
        ok, out = verdict(ex.q6, wrong, capsys)
        assert not ok and "fraction of the image size" in out
