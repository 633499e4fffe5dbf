"""The annealer exercises: solutions pass, plausible mistakes fail with a helpful message."""

import keras
import numpy as np
import pytest

from cnnlearn import claims, training
from cnnlearn.exercises import annealer as ex

QUESTIONS = [ex.q1, ex.q2, ex.q3, ex.q4, ex.q5, ex.q6]


def verdict(capsys, question, answer):
    ok = question.check(answer)
    return ok, capsys.readouterr().out


def rates_from_the_callback(val_accuracies, initial=1e-3, **annealer_args):
    """Feed training.annealer one validation accuracy per epoch; the rate each epoch trained at."""
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(initial), loss="mse")
    callback = training.annealer(**annealer_args)
    callback.set_model(model)
    callback.on_train_begin()
    rates = []
    for epoch, accuracy in enumerate(val_accuracies):
        rates.append(float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)))
        callback.on_epoch_end(epoch, {"val_accuracy": accuracy})
    return rates


def test_solutions_print_their_source_under_the_learners_names(capsys):
    for question, name in [(ex.q1, "rate_after_cuts"), (ex.q2, "first_lower_epoch"), (ex.q3, "cosine_rate"),
                           (ex.q4, "my_cosine_decay")]:
        question.solution()
        out = capsys.readouterr().out
        assert f"def {name}(" in out and "_solution" not in out and "Q2_" not in out


@pytest.mark.parametrize("question", [ex.q1, ex.q2, ex.q3])
def test_value_solutions_set_the_answer(question, capsys):
    scope = {"math": __import__("math"), "np": np}
    exec(question._solution, scope)  # what the learner pastes into the cell
    assert verdict(capsys, question, scope["answer"])[0]


def test_every_thought_question_has_a_rubric():
    for question in QUESTIONS:
        if type(question).__name__ == "ThoughtQuestion":
            assert len(question.rubric) >= 2, question.name


# q1: two cuts ----------------------------------------------------------------

def test_q1_solution_is_what_the_annealer_does(capsys):
    # two plateaus of two epochs each: the rule fires twice
    rates = rates_from_the_callback([0.9, 0.9, 0.9, 0.9, 0.9, 0.9], patience=2, factor=0.5)
    assert rates[-1] == pytest.approx(ex._rate_after_cuts_solution()) == pytest.approx(2.5e-4)
    assert verdict(capsys, ex.q1, 2.5e-4)[0]


@pytest.mark.parametrize("answer, message", [
    (5e-4, "after one cut"),
    (1.25e-4, "three cuts"),
    (0, "not subtracted"),
    (1e-3, "starting rate"),
])
def test_q1_mistakes(capsys, answer, message):
    ok, out = verdict(capsys, ex.q1, answer)
    assert not ok and message in out


# q2: the epoch of the first cut --------------------------------------------------

def test_q2_solution_is_what_the_annealer_does(capsys):
    rates = rates_from_the_callback(ex.Q2_VAL_ACCURACIES, patience=2)
    first_lower = next(epoch for epoch, rate in enumerate(rates, start=1) if rate < rates[0])
    assert first_lower == ex._first_lower_epoch_solution(ex.Q2_VAL_ACCURACIES) == 6
    assert verdict(capsys, ex.q2, 6)[0]


@pytest.mark.parametrize("answer, message", [
    (5, "off by one"),
    (4, "first epoch without a new best"),
    (7, "a tie, 0.95 again, is no improvement"),
])
def test_q2_mistakes(capsys, answer, message):
    ok, out = verdict(capsys, ex.q2, answer)
    assert not ok and message in out


# q3 and q4: cosine decay -----------------------------------------------------

def test_q3_solution_is_what_keras_computes(capsys):
    schedule = keras.optimizers.schedules.CosineDecay(1e-3, decay_steps=20)
    assert ex._cosine_rate_solution() == pytest.approx(float(schedule(10)), rel=1e-5) == pytest.approx(5e-4)
    assert verdict(capsys, ex.q3, 5e-4)[0]


@pytest.mark.parametrize("answer, message", [
    (0.0, "already hits 0 halfway"),
    (6.1e-20, "already hits 0 halfway"),
    (1e-3 * np.cos(np.pi / 4), "a quarter of the way"),
])
def test_q3_mistakes(capsys, answer, message):
    ok, out = verdict(capsys, ex.q3, answer)
    assert not ok and message in out


def test_q4_solution(capsys):
    ok, out = verdict(capsys, ex.q4, ex._my_cosine_decay_solution)
    assert ok and "all 6 test inputs" in out


def test_q4_cases_cover_the_edge_cases():
    steps = [np.max(args[0]) > args[2] for args, _ in ex.q4.cases]
    assert any(steps)  # past the end
    assert any(np.ndim(args[0]) == 1 for args, _ in ex.q4.cases)  # an array of steps


def _without_clipping(step, initial, decay_steps):
    return initial * 0.5 * (1 + np.cos(np.pi * np.asarray(step) / decay_steps))


def test_q4_past_the_end_is_caught(capsys):
    ok, out = verdict(capsys, ex.q4, _without_clipping)
    assert not ok and "(30, 0.001, 20) the shape is right but values differ" in out


def test_q4_one_number_at_a_time(capsys):
    import math

    def scalar_only(step, initial, decay_steps):
        return initial * 0.5 * (1 + math.cos(math.pi * min(step, decay_steps) / decay_steps))

    ok, out = verdict(capsys, ex.q4, scalar_only)
    assert not ok and "raised" in out  # math.cos cannot take the array of steps


# q5: thought -----------------------------------------------------------------

def test_q5_takes_a_sentence_and_shows_the_rubric(capsys):
    ok, out = verdict(capsys, ex.q5, "The training loss keeps falling while the model memorises.")
    assert ok and "Correct" not in out and ex.q5.rubric[0] in out
    ok, out = verdict(capsys, ex.q5, "  ")
    assert not ok and "as a sentence in a string" in out


# q6: the experiment -------------------------------------------------------------

def test_q6_the_solutions_annealer_meets_the_target_with_room(capsys, monkeypatch):
    scope = {"training": training, "ex": ex}
    exec(ex.q6._solution, scope)
    measured = ex._q6_measure(scope["answer"])  # trained once, then shown through the verdict
    assert measured["cuts"] >= 1
    claims.check("q6: the solution's last training loss / the constant rate's", measured["ratio"],
                 below=ex.MAX_LOSS_RATIO)
    monkeypatch.setattr(ex.q6, "measure", lambda answer: measured)
    ok, out = verdict(capsys, ex.q6, scope["answer"])
    assert ok and "target met" in out and "validation accuracy = " in out and "cuts = " in out, out


def test_q6_without_a_cut_the_too_high_rate_misses_the_target():
    measured = ex._q6_measure(training.annealer(patience=100))  # never acts: a constant rate
    assert measured["cuts"] == 0 and not ex.q6.passes(measured), measured
    assert measured["ratio"] == 1  # the very run the reference is: the same seed, step for step


@pytest.mark.parametrize("answer", [0.5, (1, 0.5), keras.callbacks.EarlyStopping()])
def test_q6_wants_an_annealer(answer, capsys):
    ok, out = verdict(capsys, ex.q6, answer)
    assert not ok and "answer with an annealer" in out
