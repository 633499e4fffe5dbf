"""What the benchmark scripts share: arguments, the data split, timing one training run."""

import argparse
import dataclasses
import os
import time
from pathlib import Path

import cnnlearn
from cnnlearn import data, evaluate, recipes, runs, training


def argument_parser(description):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--data-dir", help="Kaggle's train.csv/test.csv (default: $CNNLEARN_DATA_DIR or data/)")
    parser.add_argument("--limit", type=int, help="use only this many training digits (smoke runs)")
    parser.add_argument("--threads", type=int, help="TensorFlow intra-op threads (default: TensorFlow's choice)")
    parser.add_argument("--out", default=".", help="folder for submission.csv (default: .)")
    return parser


def configure(args):
    """Make the ``--out`` folder (before any training, so a long run cannot fail at its end for
    want of it) and apply thread settings before TensorFlow runs anything."""
    try:
        Path(args.out).mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise SystemExit(f"--out {args.out}: cannot create this folder ({error.strerror})") from None
    if args.threads:
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(args.threads)


def load_split(args, split_seed=0):
    """The digits, a stratified 10% validation split (the same for every recipe and seed)."""
    digits = data.load_digits("auto", args.data_dir)
    images, labels = data.subsample(digits.images, digits.labels, args.limit, seed=split_seed)
    x_train, y_train, x_val, y_val = data.train_val_split(images, labels, val_fraction=0.1, seed=split_seed)
    return digits, data.prepare(x_train), y_train, data.prepare(x_val), y_val


def train_member(recipe_name, x_train, y_train, x_val, y_val, seed, epochs=None, label_smoothing=None):
    """Train one model of a recipe (its label smoothing replaced when given); return (model, history, seconds)."""
    recipe = recipes.get(recipe_name)
    if label_smoothing is not None:
        recipe = dataclasses.replace(recipe, label_smoothing=label_smoothing)
    training.set_seed(seed)
    started = time.perf_counter()
    model, history = runs.fit(recipe, x_train, y_train, x_val, y_val, out=None, epochs=epochs, seed=seed, verbose=2)
    return model, history, time.perf_counter() - started


def machine():
    return f"{os.cpu_count()} cores, cnnlearn {cnnlearn.__version__}"


def report_accuracy(name, probabilities, y_val):
    accuracy = evaluate.accuracy(y_val, probabilities.argmax(axis=1))
    print(f"{name}: validation accuracy {accuracy:.4%}")
    return accuracy
