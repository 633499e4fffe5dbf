"""The pooling exercises: every solution passes, likely mistakes get specific advice."""

import keras
import numpy as np
import pytest

from cnnlearn import ops
from cnnlearn.exercises import pooling as ex

QUESTIONS = [ex.q1, ex.q2, ex.q3, ex.q4, ex.q5, ex.q6, ex.q7]
GRADED = [ex.q1, ex.q2, ex.q3, ex.q4, ex.q5]  # q6 is a thought question, q7 trains (tested below)


def verdict(question, answer, capsys):
    """check()'s return value and what it printed."""
    ok = question.check(answer)
    return ok, capsys.readouterr().out


# --------------------------------------------------------------------------
# Every graded question: solutions pass; printed solutions use the learner's names
# --------------------------------------------------------------------------

SOLUTIONS = {
    "q1": lambda: ex._pooled_shape_solution(),
    "q2": lambda: ex._my_max_pool_solution,
    "q3": lambda: ex._grid_pooled_solution(),
    "q4": lambda: ex._small_cnn_weights_solution(),
    "q5": lambda: ex._small_cnn_solution(),
}


@pytest.mark.parametrize("question", GRADED, ids=lambda q: q.name)
def test_the_solution_passes(question, capsys):
    ok, out = verdict(question, SOLUTIONS[question.name](), capsys)
    assert ok, out
    assert out.startswith("Correct")


def test_solutions_show_code_under_the_learners_names():
    for question, name in ((ex.q1, "def pooled_shape("), (ex.q2, "def my_max_pool("),
                           (ex.q3, "def grid_pooled("), (ex.q4, "def small_cnn_weights("), (ex.q5, "def small_cnn("),
                           (ex.q7, "def gap_network(")):
        assert name in question._solution
        assert "_solution" not in question._solution and "_q" not in question._solution
    for question in (ex.q1, ex.q3, ex.q4, ex.q5, ex.q7):  # the notebook's cell checks `answer`
        assert "\nanswer = " in question._solution


def test_the_answers_agree_with_ops_and_keras():
    assert ex.q1.expected == (13, 13, 32)
    np.testing.assert_array_equal(ex.q3.expected, ops.max_pool2d(ex.GRID, 2))
    pooled = keras.layers.MaxPool2D(2)(np.zeros((1, 26, 26, 32), dtype="float32"))
    assert tuple(pooled.shape[1:]) == ex.q1.expected
    assert ex.q4.expected == ex._small_cnn_solution().count_params() == ex.q5.params == 27_210


# --------------------------------------------------------------------------
# Wrong answers: rejected, with advice for the likely mistake
# --------------------------------------------------------------------------

@pytest.mark.parametrize("answer, advice", [
    ((26, 26, 32), "halves height and width"),
    ((25, 25, 32), "stride 2"),
    ((13, 13, 16), "number of channels does not change"),
    ((13, 13), "keep the channel axis"),
    ((None, 13, 13, 32), "leave out the batch axis"),
    (13, "as a tuple"),
])
def test_q1_explains_wrong_shapes(answer, advice, capsys):
    ok, out = verdict(ex.q1, answer, capsys)
    assert not ok
    assert "expected shape (13, 13, 32)" in out and advice in out


def test_q2_rejects_a_partial_window_at_the_edge(capsys):
    def ceil_pool(image, size=2):  # pads the last, incomplete window instead of dropping it
        h, w = np.shape(image)
        padded = np.full((-(-h // size) * size, -(-w // size) * size), -np.inf)
        padded[:h, :w] = image
        return ex._my_max_pool_solution(padded, size)

    ok, out = verdict(ex.q2, ceil_pool, capsys)
    assert not ok
    assert "expected output shape (3, 3), got (4, 4)" in out and "dropped ('valid' pooling)" in out


def test_q2_rejects_overlapping_windows(capsys):
    def sliding_pool(image, size=2):
        return ops.max_pool2d(image, size, stride=1)

    ok, out = verdict(ex.q2, sliding_pool, capsys)
    assert not ok and "your windows overlap" in out


def test_q2_rejects_a_fixed_window_of_two(capsys):
    ok, out = verdict(ex.q2, lambda image, size=2: ops.max_pool2d(image, 2), capsys)
    assert not ok and "use the size argument" in out


def test_q2_rejects_a_max_that_starts_at_zero(capsys):
    def from_zero(image, size=2):
        return np.maximum(ex._my_max_pool_solution(image, size), 0)

    ok, out = verdict(ex.q2, from_zero, capsys)
    assert not ok and "values differ" in out and "did you start the maximum at 0?" in out


def test_q2_rejects_the_mean_of_each_window(capsys):
    def mean_pool(image, size=2):
        h, w = np.shape(image)[0] // size, np.shape(image)[1] // size
        return np.asarray(image)[:h * size, :w * size].reshape(h, size, w, size).mean(axis=(1, 3))

    ok, out = verdict(ex.q2, mean_pool, capsys)
    assert not ok and "that is the mean of each window" in out


def test_q2_says_when_the_function_returns_nothing(capsys):
    def my_max_pool(image, size=2):
        ...

    ok, out = verdict(ex.q2, my_max_pool, capsys)
    assert not ok and out.startswith("Note: q2 is not attempted yet") and "missing return" in out


@pytest.mark.parametrize("answer, advice", [
    (ex.GRID.reshape(2, 2, 2, 2).mean(axis=(1, 3)), "that is average pooling"),
    (np.array([[1, 0], [0, 1]]), "smallest values"),
    (np.array([[4, 6], [5, 7]]), "rows and columns are swapped"),
    (ops.max_pool2d(ex.GRID, 2, stride=1), "move by 2"),
    (7, "not one for the whole array"),
])
def test_q3_explains_wrong_arrays(answer, advice, capsys):
    ok, out = verdict(ex.q3, answer, capsys)
    assert not ok and advice in out


@pytest.mark.parametrize("answer, advice", [
    (108_330, "without the MaxPool2D"),
    (27_050, "the Dense layer alone"),
    (160, "the convolution alone"),
    (27_184, "no biases?"),
    (31_530, "no padding"),
])
def test_q4_explains_wrong_weight_counts(answer, advice, capsys):
    ok, out = verdict(ex.q4, answer, capsys)
    assert not ok and "expected 27210" in out and advice in out


def test_q4_wants_a_number(capsys):
    ok, out = verdict(ex.q4, "27,210", capsys)
    assert not ok and "(not a number)" in out


def test_q5_rejects_a_model_without_pooling(capsys):
    model = keras.Sequential([
        keras.Input((28, 28, 1)),
        keras.layers.Conv2D(16, 3, activation="relu"),
        keras.layers.Flatten(),
        keras.layers.Dense(10, activation="softmax"),
    ])
    ok, out = verdict(ex.q5, model, capsys)
    assert not ok and "expected layers" in out and "MaxPooling2D" in out


def test_q5_rejects_the_wrong_number_of_filters(capsys):
    model = keras.Sequential([
        keras.Input((28, 28, 1)),
        keras.layers.Conv2D(32, 3, activation="relu"),
        keras.layers.MaxPool2D(2),
        keras.layers.Flatten(),
        keras.layers.Dense(10, activation="softmax"),
    ])
    ok, out = verdict(ex.q5, model, capsys)
    assert not ok and "54,410 weights; expected 27,210" in out


def test_q5_rejects_a_convolution_without_relu(capsys):
    model = keras.Sequential([
        keras.Input((28, 28, 1)),
        keras.layers.Conv2D(16, 3),
        keras.layers.MaxPool2D(2),
        keras.layers.Flatten(),
        keras.layers.Dense(10, activation="softmax"),
    ])
    ok, out = verdict(ex.q5, model, capsys)
    assert not ok and "layer 0 (Conv2D) should have activation 'relu'" in out


def test_q6_shows_its_rubric_and_never_says_correct(capsys):
    assert ex.q6.rubric
    ok, out = verdict(ex.q6, "The max keeps a thin stroke at full strength; pooling forgets where it was.", capsys)
    assert ok and "Correct" not in out and "Not yet" not in out
    assert all(point in out for point in ex.q6.rubric) and "A model answer:" in out
    ok, out = verdict(ex.q6, "   ", capsys)
    assert not ok and "not attempted yet" in out


# --------------------------------------------------------------------------
# q7, the experiment: it trains, so both ways once each; wrong heads are refused before training
# --------------------------------------------------------------------------

def notebook_gap_network():
    """The notebook's "max pool + global average": GAP in place of Flatten, nothing else changed."""
    return keras.Sequential([
        keras.Input((28, 28, 1)),
        keras.layers.Conv2D(32, 3, activation="relu"),
        keras.layers.MaxPool2D(2),
        keras.layers.Conv2D(64, 3, activation="relu"),
        keras.layers.MaxPool2D(2),
        keras.layers.GlobalAveragePooling2D(),
        keras.layers.Dense(10, activation="softmax"),
    ])


def test_q7_the_solution_meets_the_target(capsys):
    ok, out = verdict(ex.q7, ex._gap_network_solution(), capsys)
    assert ok, out
    assert out.startswith("Correct: q7: measured weights = 33194, validation accuracy = ") and "target met" in out


def test_q7_global_average_alone_falls_short(capsys):
    model = notebook_gap_network()
    assert model.count_params() < ex.FLATTEN_NETWORK_WEIGHTS
    ok, out = verdict(ex.q7, model, capsys)
    assert not ok and out.startswith("Not yet: q7: measured weights = 19466, validation accuracy = ")
    accuracy = float(out.split("validation accuracy = ")[1].split(";")[0])
    assert accuracy < ex.TARGET_ACCURACY - 0.1  # far below, not a near miss


def test_q7_measures_a_fresh_copy_with_seed_0():
    """The learner's own weights (and seed) do not matter: the measured copy starts from settings.SEED."""
    import keras as k

    from cnnlearn import training

    trained_elsewhere = ex._gap_network_solution()
    trained_elsewhere.set_weights([w + 1 for w in trained_elsewhere.get_weights()])
    copies = []
    for _ in range(2):
        training.set_seed(0)
        copies.append(k.models.clone_model(trained_elsewhere).get_weights())
    assert all(np.array_equal(a, b) for a, b in zip(*copies))
    assert not np.array_equal(copies[0][0], trained_elsewhere.get_weights()[0])


def test_q7_refuses_a_flatten_head_without_training(capsys, monkeypatch):
    monkeypatch.setattr("keras.Model.fit", lambda *a, **k: pytest.fail("no training for a wrong head"))
    model = keras.Sequential([
        keras.Input((28, 28, 1)),
        keras.layers.Conv2D(8, 3, activation="relu"),
        keras.layers.MaxPool2D(2),
        keras.layers.Flatten(),
        keras.layers.Dense(10, activation="softmax"),
    ])
    ok, out = verdict(ex.q7, model, capsys)
    assert not ok and "still has a Flatten layer" in out


def test_q7_refuses_a_head_without_global_average_pooling(capsys, monkeypatch):
    monkeypatch.setattr("keras.Model.fit", lambda *a, **k: pytest.fail("no training for a wrong head"))
    model = keras.Sequential([
        keras.Input((28, 28, 1)),
        keras.layers.Conv2D(64, 4, strides=4, activation="relu"),  # 7x7x64
        keras.layers.MaxPool2D(7),                                 # 1x1x64: a global max, not an average
        keras.layers.Reshape((64,)),
        keras.layers.Dense(10, activation="softmax"),
    ])
    ok, out = verdict(ex.q7, model, capsys)
    assert not ok and "there is no GlobalAveragePooling2D layer" in out


def test_q7_needs_both_few_weights_and_accuracy():
    assert ex.q7.passes({"weights": 33_194, "validation accuracy": ex.TARGET_ACCURACY})
    assert not ex.q7.passes({"weights": ex.FLATTEN_NETWORK_WEIGHTS, "validation accuracy": 0.99})
    assert not ex.q7.passes({"weights": 20_000, "validation accuracy": ex.TARGET_ACCURACY - 0.01})
