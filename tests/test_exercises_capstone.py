"""The project of notebook 08: the checker measures what it says, the solution is well formed.

Training the solution takes minutes on a CPU, so these tests do not: the
accuracy gate is tested with an untrained model (which fails it) and with the
held-out accuracy replaced (to test the verdict on a passing model).
"""

import keras
import numpy as np
import pytest

from cnnlearn import models
from cnnlearn.exercises import capstone as ex


def verdict(answer, capsys):
    ok = ex.q1.check(answer)
    return ok, capsys.readouterr().out


@pytest.fixture(scope="module")
def compact():
    return ex._solution_model()


def test_the_split_keeps_the_held_out_digits_apart():
    x_train, y_train = ex.training_digits()
    _, _, x_held_out, y_held_out = ex._split()
    assert x_train.shape == (4000, 28, 28) and x_held_out.shape == (1000, 28, 28)
    assert np.bincount(y_train).tolist() == [400] * 10
    assert np.bincount(y_held_out).tolist() == [100] * 10
    train_rows = {image.tobytes() for image in x_train}
    assert not any(image.tobytes() in train_rows for image in x_held_out)


def test_not_attempted_hint_and_solution(capsys):
    ok, out = verdict(..., capsys)
    assert not ok and "not attempted yet" in out
    ex.q1.hint()
    ex.q1.solution()
    out = capsys.readouterr().out
    assert "Hint for q1" in out
    # the real, tested code, under public names
    assert "def compact_cnn():" in out and "def train_compact_cnn():" in out and "model = compact_cnn()" in out
    assert "_solution" not in out and out.rstrip().endswith("answer = train_compact_cnn()  # a few minutes on a CPU")


def test_the_solution_model_has_the_right_shape_and_few_enough_weights(compact):
    assert compact.input_shape == (None, 28, 28, 1)
    assert compact.output_shape == (None, 10)
    assert compact.count_params() < ex.MAX_WEIGHTS


@pytest.fixture
def recorded_training(monkeypatch):
    """Record what the solution feeds ``training.dataset`` and ``model.fit``, without training."""
    calls = {"datasets": [], "fits": []}
    real_dataset = ex.training.dataset

    def dataset(images, labels, **kwargs):
        calls["datasets"].append(dict(n=len(images), **kwargs))
        return real_dataset(images, labels, **kwargs)

    def fit(model, x=None, validation_data=None, epochs=1, callbacks=None, verbose="auto", **kwargs):
        calls["fits"].append(dict(model=model, x=x, validation_data=validation_data, epochs=epochs,
                                  callbacks=callbacks or [], verbose=verbose, **kwargs))
        return keras.callbacks.History()

    monkeypatch.setattr(ex.training, "dataset", dataset)
    monkeypatch.setattr(keras.Model, "fit", fit)
    return calls


def check_the_solution_run(model, calls):
    """One compile and one fit of the compact model, on the 4,000 training digits, with Keras's own callbacks."""
    assert isinstance(model, keras.Model) and model.name == "compact_cnn"
    assert len(calls["fits"]) == 1
    fit = calls["fits"][0]
    assert fit["model"] is model and model.compiled and model.loss == "categorical_crossentropy"
    assert isinstance(model.optimizer, keras.optimizers.Adam)
    train, val = calls["datasets"]
    assert train["n"] + val["n"] == 4000  # never the held-out digits
    assert train["shuffle"] and train["augment"] is not None and not val.get("augment")
    assert fit["epochs"] >= 10 and fit["verbose"] == 0
    (schedule,) = [c for c in fit["callbacks"] if isinstance(c, keras.callbacks.LearningRateScheduler)]
    np.testing.assert_allclose([schedule.schedule(epoch) for epoch in range(3)], [1e-3, 9e-4, 8.1e-4])


def test_the_solution_compiles_and_fits_the_solution_model(recorded_training):
    check_the_solution_run(ex._solution(), recorded_training)


def test_the_printed_solution_runs_as_printed(recorded_training, capsys):
    ex.q1.solution()
    printed = capsys.readouterr().out.split("Solution to q1:\n", 1)[1]
    assert "recipes" not in printed and "training.train" not in printed
    namespace = {}
    exec(compile(printed, "<printed solution>", "exec"), namespace)
    check_the_solution_run(namespace["answer"], recorded_training)


def test_a_trained_model_with_few_weights_passes(monkeypatch, compact, capsys):
    monkeypatch.setattr(ex, "held_out_accuracy", lambda model: 0.979)
    ok, out = verdict(compact, capsys)
    assert ok
    assert "97.9% of the 1,000 held-out digits right" in out and f"{compact.count_params():,} weights" in out


def test_an_untrained_model_fails_with_its_measured_accuracy(compact, capsys):
    accuracy = ex.held_out_accuracy(compact)
    assert accuracy < ex.MIN_ACCURACY
    ok, out = verdict(compact, capsys)
    assert not ok
    assert f"{accuracy:.1%} of the 1,000 held-out digits right" in out
    assert "Is the model trained?" in out


def test_too_many_weights_fail_before_any_prediction(monkeypatch, capsys):
    monkeypatch.setattr(ex, "held_out_accuracy", lambda model: pytest.fail("should not measure"))
    ok, out = verdict(models.build_strided_cnn(), capsys)
    assert not ok and "326,826 weights" in out and "fewer than 100,000" in out


def test_wrong_shapes_and_wrong_objects_are_named(capsys):
    flat = keras.Sequential([keras.Input((784,)), keras.layers.Dense(10, activation="softmax")])
    ok, out = verdict(flat, capsys)
    assert not ok and "expected input shape (None, 28, 28, 1)" in out and "(None, 784)" in out
    ok, out = verdict(keras.callbacks.History(), capsys)
    assert not ok and "history.model" in out
    ok, out = verdict("my model", capsys)
    assert not ok and "expected a trained keras model, got str" in out
