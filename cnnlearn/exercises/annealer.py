"""Exercises for notebook 06, the annealer and other learning-rate schedules.

- ``q1``: the learning rate after the annealer has fired twice (value)
- ``q2``: in which epoch does training first run at the lower rate? (value)
- ``q3``: cosine decay halfway through training (value)
- ``q4``: write ``my_cosine_decay(step, initial, decay_steps)``, checked against Keras (function)
- ``q5``: why watch validation accuracy rather than the training loss? (thought)
- ``q6``: choose the annealer's ``patience`` and ``factor`` so that SGD at a too-high rate ends with a clearly
  lower training loss than at the constant rate, trained in seconds (experiment)

Each solution is real code below (``_..._solution``), tested in ``tests/test_exercises_annealer.py``;
``solution()`` prints its source under the name the learner uses, followed by the lines that answer the
exercise's cell in notebook 06.
"""

import functools
import math

import numpy as np

from cnnlearn.exercises.questions import (ExperimentQuestion, FunctionQuestion, ThoughtQuestion, ValueQuestion,
                                          sample_digits, source_of)


def _close(answer, value, rtol=1e-3):
    return np.ndim(answer) == 0 and math.isclose(float(answer), value, rel_tol=rtol, abs_tol=1e-12)


# --------------------------------------------------------------------------
# q1: the rate after two cuts
# --------------------------------------------------------------------------

def _rate_after_cuts_solution(learning_rate=1e-3, factor=0.5, cuts=2):
    for _ in range(cuts):  # each plateau multiplies the rate by the factor
        learning_rate *= factor
    return learning_rate


def _q1_diagnose(answer):
    known = {
        5e-4: "that is the rate after one cut: the rule fired twice, so multiply by 0.5 twice",
        1.25e-4: "that is three cuts: the rule fired twice, so multiply by 0.5 twice",
        0.0: "the factor multiplies the rate; it is not subtracted (1e-3 - 2 x 0.5e-3 would be 0)",
        1e-3: "that is the starting rate: each time the rule fires it multiplies the rate by 0.5",
    }
    for value, message in known.items():
        if _close(answer, value):
            return message
    return None


q1 = ValueQuestion(
    "q1",
    "training.annealer(factor=0.5) starts at learning rate 1e-3 and fires twice during "
    "training (min_lr is 1e-5). What is the learning rate after the second time?",
    expected=_rate_after_cuts_solution(),
    tolerance=1e-9,
    diagnose=_q1_diagnose,
    hint="Each time the validation accuracy plateaus, the rate is multiplied by the factor.",
    solution=source_of(_rate_after_cuts_solution, "rate_after_cuts")
    + "\n\nanswer = rate_after_cuts(1e-3, factor=0.5, cuts=2)  # 1e-3 * 0.5 * 0.5 = 2.5e-4",
)


# --------------------------------------------------------------------------
# q2: when does the rate first drop?
# --------------------------------------------------------------------------

Q2_VAL_ACCURACIES = [0.90, 0.94, 0.95, 0.95, 0.94, 0.96, 0.97, 0.97]


def _first_lower_epoch_solution(val_accuracies, patience=2):
    best, wait = -math.inf, 0
    for epoch, accuracy in enumerate(val_accuracies, start=1):
        if accuracy > best + 1e-4:  # a new best by more than min_delta (a tie is not an improvement)
            best, wait = accuracy, 0
        else:
            wait += 1
            if wait >= patience:  # the cut happens at the end of this epoch...
                return epoch + 1  # ...so the next epoch is the first at the lower rate
    return None


def _q2_diagnose(answer):
    known = {
        5: "off by one: the cut happens at the END of epoch 5, so epoch 5 itself still trained "
           "at the old rate; the next epoch is the first at the lower rate",
        4: "epoch 4 is the first epoch without a new best; patience=2 waits for two in a row",
        7: "0.96 in epoch 6 is a new best, but by then the rate has already dropped: count "
           "the epochs without a new best from epoch 4 (a tie, 0.95 again, is no improvement)",
    }
    return known.get(answer) if np.ndim(answer) == 0 else None


q2 = ValueQuestion(
    "q2",
    f"The validation accuracies of epochs 1, 2, 3, ... are {Q2_VAL_ACCURACIES}. "
    "With training.annealer(patience=2), in which epoch (counting from 1) does training "
    "first run at the lower learning rate (the first lower value in history['learning_rate'])?",
    expected=_first_lower_epoch_solution(Q2_VAL_ACCURACIES),
    tolerance=0,
    diagnose=_q2_diagnose,
    hint="Walk through the epochs keeping the best accuracy so far and a count of epochs without "
         "a new best. When the count reaches patience, the rate is cut at the end of that epoch.",
    solution=source_of(_first_lower_epoch_solution, "first_lower_epoch")
    + f"\n\nanswer = first_lower_epoch({Q2_VAL_ACCURACIES}, patience=2)"
      "  # 6: epochs 4 and 5 bring no new best, the cut comes at the end of 5",
)


# --------------------------------------------------------------------------
# q3 and q4: cosine decay
# --------------------------------------------------------------------------

def _cosine_rate_solution(initial=1e-3, total=20, epoch=10):
    return initial * 0.5 * (1 + math.cos(math.pi * epoch / total))


def _q3_diagnose(answer):
    if _close(answer, 0.0) or abs(float(answer)) < 1e-12:
        return "that is initial * cos(pi * t / T), which already hits 0 halfway: the schedule is " \
               "initial * 0.5 * (1 + cos(pi * t / T))"
    if _close(answer, 1e-3 * math.cos(math.pi / 4)):
        return "cos(pi / 4) is for a quarter of the way: halfway, t / T = 0.5"
    return None


q3 = ValueQuestion(
    "q3",
    "A cosine schedule takes the learning rate from 1e-3 down to 0 over 20 epochs "
    "(keras.optimizers.schedules.CosineDecay(1e-3, decay_steps=20), epochs counted from 0). "
    "What is the rate halfway, at epoch 10?",
    expected=_cosine_rate_solution(),
    tolerance=1e-9,
    diagnose=_q3_diagnose,
    hint="lr(t) = initial * 0.5 * (1 + cos(pi * t / T)); halfway, t / T = 1/2.",
    solution=source_of(_cosine_rate_solution, "cosine_rate")
    + "\n\nanswer = cosine_rate(1e-3, total=20, epoch=10)  # 5e-4: cos(pi / 2) = 0, so exactly half the start",
)


def _keras_cosine_decay(step, initial, decay_steps):
    import keras

    schedule = keras.optimizers.schedules.CosineDecay(initial, decay_steps)
    return keras.ops.convert_to_numpy(schedule(np.asarray(step, dtype=np.float32)))


def _my_cosine_decay_solution(step, initial, decay_steps):
    t = np.minimum(step, decay_steps) / decay_steps  # after decay_steps the rate stays at 0
    return initial * 0.5 * (1 + np.cos(np.pi * t))


q4 = FunctionQuestion(
    "q4",
    "Write my_cosine_decay(step, initial, decay_steps): the rate of "
    "keras.optimizers.schedules.CosineDecay(initial, decay_steps) at step (a number or an "
    "array of steps). Past decay_steps the rate stays at 0.",
    reference=_keras_cosine_decay,
    cases=[
        ((0, 1e-3, 20), {}),
        ((10, 1e-3, 20), {}),
        ((5, 0.01, 20), {}),
        ((20, 1e-3, 20), {}),
        ((30, 1e-3, 20), {}),                     # past the end
        ((np.arange(0, 31), 1e-3, 20), {}),        # every epoch at once
    ],
    atol=1e-7,
    hint="initial * 0.5 * (1 + cos(pi * t / T)) with t = min(step, T); use np.cos and np.minimum "
         "so it works on arrays too.",
    solution=source_of(_my_cosine_decay_solution, "my_cosine_decay"),
)


# --------------------------------------------------------------------------
# q5: a thought question
# --------------------------------------------------------------------------

q5 = ThoughtQuestion(
    "q5",
    "training.annealer watches the validation accuracy. Why not the training loss, which "
    "is smoother?",
    solution=(
        "The training loss keeps falling for as long as the network can memorise its training "
        "digits, so it rarely plateaus: an annealer watching it would hardly ever act, or act for "
        "the wrong reason. What we care about is accuracy on digits the model has not seen; when "
        "that stops improving at the current rate, the steps are too big to settle into a better "
        "minimum, and a smaller rate helps. Validation accuracy measures exactly that. Its price "
        "is noise (on 500 validation digits one digit is 0.2%), which is why the rule waits "
        "`patience` epochs before acting (val_loss is a smoother alternative that also looks at "
        "unseen digits)."
    ),
    rubric=[
        "the training loss keeps falling while the network memorises its training digits, so it seldom "
        "plateaus and would hardly ever trigger a cut",
        "what matters is performance on unseen digits; a stall there is the sign that the steps are too big "
        "to settle, which a smaller rate fixes",
        "the validation accuracy is noisy (one of 500 digits is 0.2%), which is why the rule waits `patience` "
        "epochs; val_loss is a smoother number that also looks at unseen digits",
    ],
)


# --------------------------------------------------------------------------
# q6: an experiment: an annealer that rescues a too-high rate
# --------------------------------------------------------------------------

EXPERIMENT_DIGITS, EXPERIMENT_EPOCHS, EXPERIMENT_RATE = 2000, 10, 0.1
MAX_LOSS_RATIO = 0.8


def _q6_train(annealer):
    """Notebook 06's run at the too-high rate (fast mode's 2,000 digits), with ``annealer`` (None: a
    constant rate) among its callbacks; the history."""
    import keras

    from cnnlearn import models, settings, training

    x_few, y_few, x_val, y_val = sample_digits(EXPERIMENT_DIGITS)
    training.set_seed(settings.SEED)
    model = models.build_cnn(filters=(16, 32), dense_units=64)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=EXPERIMENT_RATE, momentum=0.9),
                  loss="categorical_crossentropy", metrics=["accuracy"])
    callbacks = [training.LearningRateLog()] + ([annealer] if annealer is not None else [])
    return model.fit(training.dataset(x_few, y_few, shuffle=True, seed=settings.SEED),
                     validation_data=training.dataset(x_val, y_val), epochs=EXPERIMENT_EPOCHS,
                     callbacks=callbacks, verbose=0).history


@functools.lru_cache(maxsize=4)
def _q6_constant_loss(seed):
    """The last epoch's training loss at the constant rate: the reference, trained once per seed."""
    return _q6_train(None)["loss"][-1]


def _q6_measure(answer):
    import keras

    from cnnlearn import settings

    if not isinstance(answer, keras.callbacks.ReduceLROnPlateau):
        raise ValueError(f"answer with an annealer, training.annealer(patience=..., factor=...), got {answer!r}")
    history = _q6_train(answer)
    rates = history["learning_rate"]
    return {"training loss": history["loss"][-1], "at a constant rate": _q6_constant_loss(settings.SEED),
            "ratio": history["loss"][-1] / _q6_constant_loss(settings.SEED),
            "cuts": int(sum(later < earlier for earlier, later in zip(rates, rates[1:]))),
            "last epoch's rate": rates[-1], "validation accuracy": history["val_accuracy"][-1]}


q6 = ExperimentQuestion(
    "q6",
    f"The slim CNN of this notebook (models.build_cnn(filters=(16, 32), dense_units=64)) is trained by SGD with "
    f"momentum 0.9 at the too-high rate {EXPERIMENT_RATE} for {EXPERIMENT_EPOCHS} epochs on {EXPERIMENT_DIGITS:,} "
    f"of the bundled digits (batches of 64, the notebook's seed), with your annealer among its callbacks. At a "
    f"constant rate its training loss stalls near 1 (the check trains that run too, and prints it). Choose "
    f"patience and factor so that the training loss of the last epoch ends below {MAX_LOSS_RATIO} times the "
    f"constant rate's. Answer with the callback, training.annealer(patience=..., factor=...).",
    measure=_q6_measure,
    passes=lambda measured: measured["ratio"] < MAX_LOSS_RATIO,
    target=f"last epoch's training loss below {MAX_LOSS_RATIO} x the constant rate's, after {EXPERIMENT_EPOCHS} "
           f"epochs from a rate of {EXPERIMENT_RATE}",
    hint="The training loss is the number to watch here: at a rate too high to settle it stalls, whatever the "
         "validation digits say from one epoch to the next. In a run this short, patience 3 acts late, if at "
         "all. Try patience 1, then see what a gentler (0.5) or a harsher (0.2) factor does.",
    solution="answer = training.annealer(patience=1, factor=0.5)\n"
             "# The first cut comes after the first epoch without a new best (after epoch 3 to 6 over seeds 0-4,\n"
             "# 0-2 also with two other kinds of CPU kernels), and the training loss falls at once: it ends at 0.15 to 0.66 of\n"
             "# the constant rate's. A patience of 100 never cuts: a ratio of exactly 1.",
)
