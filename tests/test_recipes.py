"""The named recipes: each one builds, trains and follows its documented schedule."""

import pytest

from cnnlearn import CnnlearnError, recipes


def rates(recipe, epochs):
    """The learning rate the recipe's schedule sets for each epoch."""
    schedule = recipe.schedule()
    return [schedule.schedule(epoch) for epoch in range(epochs)]


def test_unknown_recipe_names_the_choices():
    with pytest.raises(CnnlearnError, match="unknown recipe 'strongest'.*seed.*strided20"):
        recipes.get("strongest")


def test_every_recipe_is_in_the_module_table():
    for name in recipes.RECIPES:
        assert f"\n{name} " in recipes.__doc__, name


def test_strided20_anneals_tenfold_over_its_epochs():
    recipe = recipes.get("strided20")
    schedule = rates(recipe, recipe.epochs)
    assert schedule[0] == pytest.approx(1e-3)
    assert schedule[-1] == pytest.approx(1e-4, rel=0.15)
    assert all(later < earlier for earlier, later in zip(schedule, schedule[1:]))


@pytest.mark.parametrize("name", sorted(recipes.RECIPES))
def test_recipe_trains_one_epoch(name, sample):
    images, labels = sample
    recipe = recipes.get(name)
    history = recipe.train(images[:96], labels[:96], images[96:128], labels[96:128], epochs=1, verbose=0)
    assert history.model.output_shape == (None, 10)
    assert len(history.history["val_accuracy"]) == 1
    if recipe.schedule is not None and hasattr(recipe.schedule(), "schedule"):  # a per-epoch schedule
        assert history.history["learning_rate"][0] == pytest.approx(rates(recipe, 1)[0])


@pytest.mark.parametrize("name, initial", [("fast", 5e-3), ("strided24", 2e-3)])
def test_cosine_recipes_anneal_from_their_initial_rate_to_zero(name, initial):
    recipe = recipes.get(name)
    schedule = recipe.schedule()
    assert isinstance(schedule, recipes.CosineDecay) and schedule.initial == pytest.approx(initial)
    assert float(recipe.optimizer().learning_rate) == pytest.approx(initial)
