"""Notebook 01's exercises: reading curves, finding a bug, predicting a result. Solutions pass; known
mistakes fail with advice; the logs say what the answers say; the prediction holds when it is run."""

import keras
import numpy as np
import pytest

from cnnlearn import data, models, settings, training
from cnnlearn.exercises import first_networks as ex


def verdict(question, answer, capsys):
    ok = question.check(answer)
    return ok, capsys.readouterr().out


@pytest.mark.parametrize("question, answer", [
    (ex.q1, ex._curve_a_solution()), (ex.q2, ex._curve_b_solution()), (ex.q3, ex._best_epoch_solution()),
    (ex.q4, ex._fixed_mlp_solution()), (ex.q5, ex._shuffled_labels_solution()),
], ids=lambda value: getattr(value, "name", ""))
def test_the_solution_passes(question, answer, capsys):
    ok, out = verdict(question, answer, capsys)
    assert ok and out.startswith("Correct"), out


def test_the_logs_show_what_the_answers_say():
    a, b = ex.CURVES["A"], ex.CURVES["B"]
    assert all(len(log["loss"]) == len(log["val_loss"]) == 10 for log in (a, b))
    best = int(np.argmin(a["val_loss"]))
    assert 0 < best < 9 and a["val_loss"][-1] > 1.5 * a["val_loss"][best]  # A turns and climbs...
    assert np.all(np.diff(a["loss"]) < 0) and a["loss"][-1] < 0.05        # ...while its training loss falls
    assert min(b["loss"] + b["val_loss"]) > 2 and max(b["loss"]) < np.log(10) + 0.01  # B: near a uniform guess
    assert abs(b["loss"][-1] - b["val_loss"][-1]) < 0.05                  # and no gap between the two


@pytest.mark.parametrize("question, answer, advice", [
    (ex.q1, "underfitting", "validation loss turns and climbs"),
    (ex.q1, "neither", "validation loss turns and climbs"),
    (ex.q1, "the model overfits", "answer with one of the words"),
    (ex.q2, "overfitting", "near a uniform guess"),
    (ex.q3, 4, "counts from 0"),
    (ex.q3, 10, "lowest \\*training\\* loss"),
    (ex.q5, 0.95, "do those random labels tell it anything"),
    (ex.q5, 10, "not a percentage"),
    (ex.q5, 0.0, "worse than guessing"),
])
def test_known_mistakes_get_advice(question, answer, advice, capsys):
    ok, out = verdict(question, answer, capsys)
    assert not ok
    assert __import__("re").search(advice, out), out


def test_the_bug_itself_and_a_wrong_fix_fail(capsys):
    buggy = eval(ex.BUGGY_MLP, {"keras": keras})
    ok, out = verdict(ex.q4, buggy, capsys)
    assert not ok and "layer 1 (Dense) should have activation 'relu', got 'linear'" in out
    wider = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(),
                              keras.layers.Dense(2000, activation="relu"), keras.layers.Dense(10, activation="softmax")])
    ok, out = verdict(ex.q4, wider, capsys)
    assert not ok and "weights" in out
    assert ex._fixed_mlp_solution().count_params() == models.build_mlp(1200).count_params() == 954_010


@pytest.mark.slow
def test_the_prediction_holds_when_run(sample):
    """q5: an MLP trained on shuffled labels learns nothing that carries to new digits."""
    images, labels = sample
    x_train, y_train, x_val, y_val = data.train_val_split(images, labels)
    x_train, y_train = data.subsample(x_train, y_train, 1000)
    shuffled = np.random.default_rng(settings.SEED).permutation(y_train)
    training.set_seed(0)
    model = models.build_mlp(1200)
    model.compile(optimizer=keras.optimizers.RMSprop(1e-3), loss="categorical_crossentropy", metrics=["accuracy"])
    model.fit(training.dataset(x_train, shuffled, shuffle=True, seed=0), epochs=5, verbose=0)
    accuracy = model.evaluate(training.dataset(x_val, y_val), verbose=0)[1]
    assert accuracy < 0.2, accuracy  # chance, 0.1, give or take the noise of 500 validation digits
