"""Tests for cnnlearn.augment: the augmenter pipeline and the elastic distortion layer."""

import keras
import numpy as np
import pytest

from cnnlearn import data, training
from cnnlearn.augment import RandomElastic, augmenter


@pytest.fixture(scope="module")
def digits(sample):
    """32 digits as the models take them: float32 (32, 28, 28, 1) in [0, 1]."""
    return data.prepare(sample[0][:32])


def numpy(x):
    return keras.ops.convert_to_numpy(x)


# augmenter


def test_augmenter_stacks_the_layers_asked_for():
    assert [layer.name for layer in augmenter().layers] == ["rotate", "zoom", "shift"]
    assert [layer.name for layer in augmenter(zoom=0, flip=True).layers] == ["rotate", "shift", "flip"]
    rotate = augmenter(rotation_degrees=15).layers[0]
    np.testing.assert_allclose(rotate.factor, (-15 / 360, 15 / 360))  # degrees become a fraction of a turn


def test_augmenter_is_the_identity_at_inference(digits):
    np.testing.assert_array_equal(numpy(augmenter(seed=0)(digits, training=False)), digits)


# RandomElastic


def test_elastic_is_exactly_the_identity_at_inference(digits):
    layer = RandomElastic(seed=0)
    np.testing.assert_array_equal(numpy(layer(digits)), digits)
    np.testing.assert_array_equal(numpy(layer(digits, training=False)), digits)


def test_elastic_changes_every_image_in_training_and_keeps_shape_and_dtype(digits):
    out = numpy(RandomElastic(seed=0)(digits, training=True))
    assert out.shape == digits.shape and out.dtype == np.float32
    assert (np.abs(out - digits).max(axis=(1, 2, 3)) > 0.1).all()
    assert 0 <= out.min() and out.max() <= 1 + 1e-6  # bilinear interpolation stays within the pixels' range
    colour = np.random.default_rng(0).uniform(0, 1, (2, 20, 24, 3)).astype(np.float32)
    assert numpy(RandomElastic(seed=0)(colour, training=True)).shape == colour.shape


def test_elastic_with_zero_strength_is_the_identity_in_training(digits):
    np.testing.assert_allclose(numpy(RandomElastic(alpha=0, seed=0)(digits, training=True)), digits, atol=1e-6)


def test_elastic_keeps_the_ink_and_moves_it_only_a_few_pixels(digits):
    out = numpy(RandomElastic(seed=0)(digits, training=True))
    ink, moved = digits.sum(axis=(1, 2, 3)), out.sum(axis=(1, 2, 3))
    np.testing.assert_allclose(moved.sum(), ink.sum(), rtol=0.05)  # the ink is moved, not added or removed
    np.testing.assert_allclose(moved, ink, rtol=0.4)  # per digit: a stretched stroke gains some, a squeezed one loses
    rows = np.arange(28, dtype=np.float32)[:, None]
    centre = (digits[..., 0] * rows).sum(axis=(1, 2)) / ink
    drift = np.abs((out[..., 0] * rows).sum(axis=(1, 2)) / moved - centre)  # how far the centre of mass moves
    assert drift.mean() < 1.5 and drift.max() < 3  # a wobble of a pixel or two, not a shift out of the frame


def test_elastic_resamples_a_flat_image_to_itself_away_from_the_border():
    flat = np.ones((4, 28, 28, 1), np.float32)  # bilinear weights sum to 1: a constant stays constant
    out = numpy(RandomElastic(seed=0)(flat, training=True))
    np.testing.assert_allclose(out[:, 8:20, 8:20], 1, atol=1e-5)
    assert out.min() < 0.9  # at the border the background (0) moves in


def test_elastic_is_reproducible_for_a_seed_and_differs_across_seeds_and_calls(digits):
    first, again = RandomElastic(seed=3), RandomElastic(seed=3)
    a, b = numpy(first(digits, training=True)), numpy(again(digits, training=True))
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, numpy(RandomElastic(seed=4)(digits, training=True)))
    assert not np.allclose(a, numpy(first(digits, training=True)))  # a new draw every call


def test_elastic_config_round_trips():
    layer = RandomElastic(alpha=20, sigma=5, seed=7, name="wobble")
    copy = RandomElastic.from_config(layer.get_config())
    assert (copy.alpha, copy.sigma, copy.seed, copy.name) == (20, 5, 7, "wobble")


def test_elastic_runs_in_the_input_pipeline(digits, sample):
    batches = training.dataset(digits, sample[1][:32], batch_size=8, augment=RandomElastic(seed=0))
    x, y = next(iter(batches))
    assert x.shape == (8, 28, 28, 1) and y.shape == (8, 10)
    assert not np.allclose(numpy(x), digits[:8])


def test_elastic_trains_inside_a_sequential_model_before_conv2d(digits, sample):
    training.set_seed(0)
    model = keras.Sequential([
        keras.Input((28, 28, 1)),
        RandomElastic(seed=0),
        keras.layers.Conv2D(4, 3, activation="relu"),
        keras.layers.Flatten(),
        keras.layers.Dense(10, activation="softmax"),
    ])
    assert model.output_shape == (None, 10) and model.layers[0].count_params() == 0
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    model.fit(training.dataset(digits, sample[1][:32], batch_size=16), epochs=1, verbose=0)
    # at inference the layer is the identity: the model's output is that of the layers after it
    after = keras.Sequential(model.layers[1:])
    np.testing.assert_allclose(model.predict(digits, verbose=0), after.predict(digits, verbose=0), atol=1e-6)
