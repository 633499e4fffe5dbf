"""The named recipes: each one builds, compiles, trains and follows its documented schedule."""

import keras
import pytest

from cnnlearn import CnnlearnError, recipes, runs


def test_unknown_recipe_names_the_choices():
    with pytest.raises(CnnlearnError, match="unknown recipe 'strongest'.*seed.*strided24"):
        recipes.get("strongest")


def test_every_recipe_is_in_the_module_table():
    for name in recipes.RECIPES:
        assert f"\n{name} " in recipes.__doc__, name


def test_only_taught_or_measured_recipes_remain():
    assert set(recipes.RECIPES) == {"seed", "baseline", "fast", "strided24", "strided44", "elastic", "bn_cnn"}


@pytest.mark.parametrize("name", sorted(recipes.RECIPES))
def test_recipe_trains_one_epoch(name, sample):
    images, labels = sample
    model, history = runs.fit(recipes.get(name), images[:96], labels[:96], images[96:128], labels[96:128], out=None,
                              epochs=1, verbose=0)
    assert model.output_shape == (None, 10)
    assert len(history["val_accuracy"]) == 1
    if recipes.get(name).label_smoothing:
        assert isinstance(model.loss, keras.losses.CategoricalCrossentropy)
        assert model.loss.get_config()["label_smoothing"] == recipes.get(name).label_smoothing
    else:
        assert model.loss == "categorical_crossentropy"


@pytest.mark.parametrize("name, initial", [("fast", 5e-3), ("strided24", 2e-3), ("strided44", 2e-3),
                                           ("elastic", 2e-3), ("bn_cnn", 2e-3)])
def test_cosine_recipes_anneal_from_their_initial_rate_to_zero(name, initial):
    model, callbacks = recipes.get(name).compile(steps=100)
    schedule = model.optimizer._learning_rate
    assert isinstance(schedule, keras.optimizers.schedules.CosineDecay)
    assert (schedule.initial_learning_rate, schedule.decay_steps, schedule.alpha) == (initial, 100, 0.0)
    assert float(schedule(0)) == pytest.approx(initial)
    assert float(schedule(50)) == pytest.approx(initial / 2)
    assert float(schedule(100)) == pytest.approx(0.0, abs=1e-12)
    assert callbacks == []


def test_seed_recipe_anneals_on_a_plateau_with_rmsprop():
    model, callbacks = recipes.get("seed").compile(steps=10)
    assert isinstance(model.optimizer, keras.optimizers.RMSprop)
    assert [type(c) for c in callbacks] == [keras.callbacks.ReduceLROnPlateau]
    assert callbacks[0].monitor == "val_accuracy"


def test_strided44_is_strided24_over_44_epochs():
    long, short = recipes.get("strided44"), recipes.get("strided24")
    assert (long.epochs, short.epochs) == (44, 24)
    assert (long.make, long.batch_size, long.augment, long.label_smoothing) == \
        (short.make, short.batch_size, short.augment, short.label_smoothing)


def test_the_ensemble_members_differ_where_their_table_says():
    elastic, _ = recipes.get("elastic").compile(steps=10, augment=True, seed=0)
    strided, _ = recipes.get("strided24").compile(steps=10, augment=True, seed=0)
    bn_cnn, _ = recipes.get("bn_cnn").compile(steps=10, augment=True, seed=0)
    kinds = [[type(layer).__name__ for layer in model.layers] for model in (elastic, strided, bn_cnn)]
    assert kinds[0][0] == "RandomElastic" and "RandomRotation" not in kinds[0]
    assert kinds[1][:3] == ["RandomRotation", "RandomZoom", "RandomTranslation"] and "RandomElastic" not in kinds[1]
    assert kinds[0][1:] == kinds[1][3:]  # the same strided network behind another augmentation
    assert kinds[2][:3] == kinds[1][:3] and "MaxPooling2D" in kinds[2] and "BatchNormalization" in kinds[2]
    assert [model.optimizer.use_ema for model in (elastic, strided, bn_cnn)] == [True, False, False]
