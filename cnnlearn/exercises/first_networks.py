"""Exercises for notebook 01, your first networks.

- ``q1``, ``q2`` read two training logs: overfitting, underfitting or neither (reading a curve)
- ``q3`` the epoch a run was best on new digits (reading a curve)
- ``q4`` find the bug: an "MLP" that is no better than logistic regression (a model)
- ``q5`` predict, then run: the validation accuracy of a network trained on shuffled labels (a prediction)

The two logs of q1 to q3 are made up, shaped like the curves the series measures; q5's prediction
is checked against what a run gives in the notebook cell after it (and in the tests).
"""

import numpy as np

from cnnlearn.exercises.questions import ModelQuestion, ValueQuestion, source_of

# Two training logs, one value per epoch (made up, typical of what the series measures).
CURVES = {
    "A": {"loss": [2.05, 1.10, 0.62, 0.38, 0.25, 0.16, 0.10, 0.06, 0.04, 0.03],
          "val_loss": [1.80, 0.98, 0.66, 0.55, 0.52, 0.55, 0.61, 0.68, 0.76, 0.85]},
    "B": {"loss": [2.30, 2.24, 2.19, 2.15, 2.12, 2.09, 2.07, 2.05, 2.04, 2.03],
          "val_loss": [2.29, 2.23, 2.18, 2.15, 2.11, 2.09, 2.06, 2.05, 2.03, 2.02]},
}


# --- q1 and q2: overfitting or underfitting --------------------------------

def _curve_a_solution():
    # The training loss falls almost to 0 while the validation loss turns and climbs after epoch 5:
    # the network learns its training digits by heart.
    return "overfitting"


def _curve_b_solution():
    # Both losses stay near ln 10 = 2.30, the loss of a uniform guess, and fall slowly together:
    # the network has not learned much yet, on either set (train longer, or a bigger network).
    return "underfitting"


def _diagnose_curve(curve):
    def diagnose(answer):
        word = str(answer).strip().lower()
        if word not in ("overfitting", "underfitting", "neither"):
            return "answer with one of the words 'overfitting', 'underfitting' or 'neither'"
        if curve == "A":
            return "curve A's validation loss turns and climbs while its training loss goes on falling"
        return ("curve B's training loss is still above 2, near a uniform guess's ln 10 = 2.30: the network "
                "has not learned even its training digits yet")
    return diagnose


_READ = ("ex.CURVES holds two training logs, A and B (loss and val_loss per epoch; plot one with "
         "plots.plot_history(ex.CURVES['A'])). ")
_HINT = ("Overfitting: the training loss keeps falling while the validation loss turns upward. Underfitting: "
         "both stay high. A loss of ln 10 = 2.30 is what guessing each digit with probability 0.1 costs.")
q1 = ValueQuestion(
    "q1", _READ + "Is curve A 'overfitting', 'underfitting' or 'neither'?",
    expected=_curve_a_solution(), hint=_HINT,
    solution=source_of(_curve_a_solution, "curve_a") + "\n\nanswer = curve_a()", diagnose=_diagnose_curve("A"),
)
q2 = ValueQuestion(
    "q2", _READ + "Is curve B 'overfitting', 'underfitting' or 'neither'?",
    expected=_curve_b_solution(), hint=_HINT,
    solution=source_of(_curve_b_solution, "curve_b") + "\n\nanswer = curve_b()", diagnose=_diagnose_curve("B"),
)


# --- q3: the best epoch -----------------------------------------------------

def _best_epoch_solution():
    # The epoch with the lowest validation loss; argmin counts from 0, epochs from 1.
    return int(np.argmin(CURVES["A"]["val_loss"])) + 1


def _diagnose_best_epoch(answer):
    val_loss, loss = CURVES["A"]["val_loss"], CURVES["A"]["loss"]
    if answer == int(np.argmin(val_loss)):
        return "np.argmin counts from 0; epochs count from 1"
    if answer == int(np.argmin(loss)) + 1:
        return ("that epoch has the lowest *training* loss; on new digits the network is best where the "
                "validation loss is lowest")
    return None


q3 = ValueQuestion(
    "q3",
    "In curve A, after which epoch (counting from 1) was the network best on digits it had not trained on? "
    "That is the epoch to keep.",
    expected=_best_epoch_solution(),
    hint="Only the validation loss measures digits the network has not trained on.",
    solution="val_loss = ex.CURVES[\"A\"][\"val_loss\"]\n"
             "answer = int(np.argmin(val_loss)) + 1  # np.argmin counts from 0, epochs from 1: 5",
    diagnose=_diagnose_best_epoch,
)


# --- q4: find the bug --------------------------------------------------------

BUGGY_MLP = '''keras.Sequential([
    keras.Input((28, 28, 1)),
    keras.layers.Flatten(),
    keras.layers.Dense(1200),
    keras.layers.Dense(10, activation="softmax"),
])'''


def _fixed_mlp_solution():
    import keras

    # Without an activation the hidden layer is linear, and two linear layers are one (W1 @ W2):
    # the network can compute nothing logistic regression cannot. ReLU bends the hidden layer.
    return keras.Sequential([
        keras.Input((28, 28, 1)),
        keras.layers.Flatten(),
        keras.layers.Dense(1200, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ])


q4 = ModelQuestion(
    "q4",
    "Find the bug. A learner trained this MLP for 954,010 weights and got no better than logistic regression:\n"
    + BUGGY_MLP + "\nReturn the model fixed, changing as little as possible.",
    layer_types=["Flatten", "Dense", "Dense"],
    activations=[None, "relu", "softmax"],
    params=954_010,
    hint="Notebook 01 multiplied the two weight matrices together: what makes that impossible?",
    solution=source_of(_fixed_mlp_solution, "fixed_mlp") + "\n\nanswer = fixed_mlp()",
)


# --- q5: predict, then run ---------------------------------------------------

def _shuffled_labels_solution():
    # With the labels shuffled, a digit's label says nothing about its pixels. The network can
    # memorise its training digits' random labels, but on new digits it can only guess: about
    # one in ten right, whatever its training accuracy.
    return 0.1


def _diagnose_shuffled(answer):
    if isinstance(answer, (int, float)) and answer > 1:
        return "give the accuracy as a share between 0 and 1, not a percentage"
    if isinstance(answer, (int, float)) and answer >= 0.5:
        return ("the network can learn its training digits' labels by heart, but do those random labels "
                "tell it anything about new digits?")
    if isinstance(answer, (int, float)) and answer < 0.05:
        return "worse than guessing would need the network to know the right label and avoid it"
    return None


q5 = ValueQuestion(
    "q5",
    "Predict before you run the next cell: the MLP of this notebook is trained on the same training digits, "
    "but with their labels shuffled among them (each digit gets another digit's label). What validation "
    "accuracy will it reach, as a share between 0 and 1? Check your prediction, then run the cell below it.",
    expected=_shuffled_labels_solution(),
    tolerance=0.05,
    hint="What does a shuffled label tell the network about a digit it has never seen?",
    solution=source_of(_shuffled_labels_solution, "shuffled_labels_accuracy") + "\n\nanswer = shuffled_labels_accuracy()",
    diagnose=_diagnose_shuffled,
)
