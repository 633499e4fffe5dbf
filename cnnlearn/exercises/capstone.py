"""The project of notebook 08, the capstone.

- q1  build and train a model with fewer than 100,000 weights (the strided
      network, ``models.build_strided_cnn()``, has 326,826) that gets at least
      97% of 1,000 held-out digits right

The held-out digits are the last fifth of a fixed stratified split of the
bundled sample; :func:`training_digits` gives the other 4,000 to learn from.
"""

import functools

import keras

from cnnlearn import augment, data, evaluate, models, settings, training
from cnnlearn.exercises.questions import Question, source_of

MAX_WEIGHTS = 100_000
MIN_ACCURACY = 0.97


@functools.lru_cache(maxsize=1)
def _split():
    images, labels = data.load_sample()
    return data.train_val_split(images, labels, val_fraction=0.2, seed=0)


def training_digits():
    """The 4,000 sample digits to train on: uint8 images (4000, 28, 28) and labels (4000,)."""
    x_train, y_train, _, _ = _split()
    return x_train.copy(), y_train.copy()


def held_out_accuracy(model):
    """Share of the 1,000 held-out sample digits the model gets right."""
    _, _, x_held_out, y_held_out = _split()
    return evaluate.accuracy(y_held_out, evaluate.predict_labels(model, x_held_out))


class ProjectQuestion(Question):
    """A trained model: the right input and output, few enough weights, accurate enough."""

    def _verdict(self, model):
        if isinstance(model, keras.callbacks.History):
            return False, f"{self.name}: that is the training history; pass the model, history.model"
        if not isinstance(model, keras.Model):
            return False, f"{self.name}: expected a trained keras model, got {type(model).__name__}"
        if tuple(model.input_shape) != (None, 28, 28, 1) or tuple(model.output_shape) != (None, 10):
            return False, (f"{self.name}: expected input shape (None, 28, 28, 1) and output shape (None, 10), "
                           f"got {tuple(model.input_shape)} and {tuple(model.output_shape)}")
        weights = model.count_params()
        if weights >= MAX_WEIGHTS:
            return False, (f"{self.name}: the model has {weights:,} weights; the project asks for fewer than "
                           f"{MAX_WEIGHTS:,}: narrow the layers or downsample earlier")
        accuracy = held_out_accuracy(model)
        if accuracy < MIN_ACCURACY:
            return False, (f"{self.name}: {accuracy:.1%} of the 1,000 held-out digits right with {weights:,} weights; "
                           f"the project asks for at least {MIN_ACCURACY:.0%}. Is the model trained? "
                           "Try more epochs or augmentation.")
        return True, (f"{self.name}: {accuracy:.1%} of the 1,000 held-out digits right with only {weights:,} "
                      "weights. Well done!")


def _solution_model():
    # The strided design at half width (a quarter of build_strided_cnn()'s weights), with
    # lighter dropout: a small model on 4,000 digits needs less holding back.
    return models.build_strided_cnn(width=16, dropout=0.2, name="compact_cnn")


def _solution():
    x, y = training_digits()
    x_fit, y_fit, x_val, y_val = data.train_val_split(x, y, seed=0)  # validate on our own digits
    training.set_seed(settings.SEED)
    model = _solution_model()
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="categorical_crossentropy", metrics=["accuracy"])
    model.fit(
        training.dataset(x_fit, y_fit, shuffle=True, augment=augment.augmenter(seed=settings.SEED), seed=settings.SEED),
        validation_data=training.dataset(x_val, y_val),
        epochs=20,
        # the learning rate 10% lower each epoch: 1e-3, 9e-4, 8.1e-4, ...
        callbacks=[keras.callbacks.LearningRateScheduler(lambda epoch: 1e-3 * 0.9**epoch)],
        verbose=0,
    )
    return model


# What solution() prints: the imports, then the two functions under public names, then the line the
# project cell checks; it runs as pasted into that cell of notebook 08 (or into a script).
_SOLUTION_IMPORTS = """import keras
from cnnlearn import augment, data, models, settings, training
from cnnlearn.exercises.capstone import training_digits"""


def _printed_solution():
    code = source_of(_solution_model) + "\n\n" + source_of(_solution)
    code = code.replace("_solution_model", "compact_cnn").replace("_solution", "train_compact_cnn")
    return _SOLUTION_IMPORTS + "\n\n\n" + code + "\n\nanswer = train_compact_cnn()  # a few minutes on a CPU"


q1 = ProjectQuestion(
    "q1",
    f"Project: build and train a model with fewer than {MAX_WEIGHTS:,} weights (the strided network, "
    f"models.build_strided_cnn(), has 326,826) that gets at least {MIN_ACCURACY:.0%} of 1,000 held-out "
    "sample digits right. Train it on ex.training_digits() (4,000 digits), not on Kaggle's data: Kaggle's "
    "training digits come from MNIST too and may include the held-out ones.",
    hint="Batch normalization, stride-2 convolutions instead of wide dense layers, augmentation and a decaying "
         "learning rate: everything in the strided network of notebook 08, at a smaller width. Hold out some "
         "of your 4,000 digits for validation.",
    solution=_printed_solution(),
)
