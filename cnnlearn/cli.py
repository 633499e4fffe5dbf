"""The ``cnnlearn`` command: train, predict, evaluate.

    cnnlearn train [--data-dir DIR] [--recipe NAME] [--epochs N] [--out DIR] ...
    cnnlearn predict --model runs/.../model.keras [--model ...] --input data/test.csv --out submission.csv
    cnnlearn evaluate --model runs/.../model.keras --input data/train.csv

Bad input ends with one message and exit code 2, before anything is written;
see :data:`EXIT_CODES`.
"""

import argparse
import contextlib
import errno
import io
import json
import os
import shlex
import sys
import time
from datetime import datetime
from pathlib import Path

from cnnlearn import CnnlearnError, __version__, settings

DEMO_EPOCHS = 4
EXIT_CODES = """exit codes:
  0    done (or the run in --out was already finished: nothing was changed)
  2    bad input: an argument, a data or model file, or a run folder that holds another run or is in use
  3    a file could not be written or reached (no permission, read-only or full disk); nothing half-written is left
  130  interrupted (Ctrl-C); a training run keeps its finished epochs and resumes when rerun
"""


def _out_dir(path, default):
    out = Path(path) if path else default
    if out.exists() and not out.is_dir():
        raise CnnlearnError(f"--out {out}: is a file; expected a folder for the run's files")
    return out


def _output_file(path, inputs):
    """--out for predict: "-" (standard output), an existing device or FIFO, or a file name in an
    existing folder; and none of the files it reads. Needs no TensorFlow."""
    if path == "-":
        return path
    path = Path(path)
    if path.is_dir():
        raise CnnlearnError(f"--out {path}: is a folder; expected a file name such as {path / 'submission.csv'}")
    if not path.parent.is_dir():
        raise CnnlearnError(f"--out {path}: the folder {path.parent} does not exist; expected a file name in an "
                            "existing folder (or - for standard output)")
    for given in inputs:
        if given == "-":
            continue
        same = os.path.samefile(path, given) if path.exists() and Path(given).exists() else \
            path.resolve() == Path(given).resolve()
        if same:
            raise CnnlearnError(f"--out {path}: is also an input ({given}); writing there would destroy it")
    return path


def _digit_model(path):
    """A model file that takes 28x28x1 digits and gives 10 probabilities."""
    from cnnlearn import evaluate

    model = evaluate.load_model(path)
    shapes = (getattr(model, "input_shape", None), getattr(model, "output_shape", None))
    if shapes != ((None, 28, 28, 1), (None, 10)):
        raise CnnlearnError(f"{path}: the model takes {shapes[0]} and gives {shapes[1]}; expected a digit model "
                            "that takes (None, 28, 28, 1) and gives (None, 10), one probability per digit")
    return model


def _predicted(models, images, tta):
    """The digit the models' mean probabilities pick for each image, int64 (n,)."""
    from cnnlearn import evaluate

    probabilities = sum(evaluate.predict_proba(model, images, tta=tta) for model in models) / len(models)
    return probabilities.argmax(axis=1)


def _files(folder):
    return ", ".join(sorted(p.name for p in Path(folder).iterdir() if p.is_file() and p.name != ".lock"))


def _save_figure(figure, path):
    import matplotlib.pyplot as plt

    from cnnlearn.kaggle import write_atomically

    write_atomically(path, lambda p: figure.savefig(p, dpi=100, bbox_inches="tight"))
    plt.close(figure)


def train_command(args):
    """Train a recipe on the digits into a run folder; resume it if it is unfinished."""
    from cnnlearn import data, recipes

    recipe = recipes.get(args.recipe)
    if args.data_dir is not None and not Path(args.data_dir).is_dir():
        raise CnnlearnError(f"--data-dir {args.data_dir}: no such folder; expected one holding Kaggle's train.csv")
    out = _out_dir(args.out, Path("runs") / datetime.now().strftime("%Y%m%d-%H%M%S"))
    fast = args.fast or settings.FAST
    epochs = args.epochs or (1 if fast else DEMO_EPOCHS if args.demo else recipe.epochs)
    digits = data.load_digits("sample" if args.demo else "auto", args.data_dir)
    images, labels = digits.images, digits.labels
    if fast:
        images, labels = data.subsample(images, labels, 1000, seed=args.seed)
    x_train, y_train, x_val, y_val = data.train_val_split(images, labels, val_fraction=0.1, seed=args.seed)

    from cnnlearn import evaluate, plots, runs, training

    run = {"recipe": recipe.name, "seed": args.seed, "epochs": epochs,
           "batch_size": args.batch_size or recipe.batch_size,
           "augment": recipe.augment and not args.no_augment, "data_source": digits.source,
           "data_fingerprint": runs.fingerprint(images, labels), "train_digits": len(x_train),
           "val_digits": len(x_val), "cnnlearn": __version__}
    out.mkdir(parents=True, exist_ok=True)
    with runs.lock(out):
        state = runs.check_folder(out, run, restart=args.restart)
        if state == "finished":
            print(f"{out}: this run is already finished; nothing was changed. Its files: {_files(out)}")
            return 0
        data.write_atomically(out / "run.json", lambda p: p.write_text(json.dumps(run, indent=2) + "\n"))
        print(f"{'Resuming' if state == 'resume' else 'Training'} recipe '{recipe.name}' on {len(x_train):,} digits, "
              f"validating on {len(x_val):,}, {epochs} epochs; run folder: {out}")
        strategy = None
        if args.mirrored:
            import tensorflow as tf

            strategy = tf.distribute.MirroredStrategy()
            print(f"MirroredStrategy on {strategy.num_replicas_in_sync} device(s)")
        training.set_seed(args.seed)
        started = time.perf_counter()
        try:
            _, history = runs.fit(recipe, x_train, y_train, x_val, y_val, out, epochs=epochs,
                                  batch_size=run["batch_size"], augment=run["augment"], seed=args.seed,
                                  strategy=strategy, verbose=args.verbose)
        except KeyboardInterrupt:
            print(f"\nInterrupted. The finished epochs are saved; to resume, run:\n  "
                  f"{shlex.join(['cnnlearn', *args.argv, *(['--out', str(out)] if not args.out else [])])}",
                  file=sys.stderr)
            return 130
        seconds = time.perf_counter() - started

        model = evaluate.load_model(out / "model.keras")  # the epoch with the best validation accuracy
        predictions = evaluate.predict_labels(model, x_val)
        val_accuracy = evaluate.accuracy(y_val, predictions)
        metrics = {"recipe": recipe.name, "val_accuracy": round(val_accuracy, 5), "epochs": len(history),
                   "best_epoch": int(history["val_accuracy"].idxmax()) + 1, "seconds": round(seconds, 1),
                   "data_source": digits.source, "train_digits": len(x_train), "val_digits": len(x_val),
                   "seed": args.seed}
        _save_figure(plots.plot_history(history, title=f"{recipe.name}: training curves"), out / "curves.png")
        _save_figure(plots.plot_confusion(y_val, predictions, title="Validation confusion matrix"),
                     out / "confusion.png")
        errors = evaluate.worst_errors(model, x_val, y_val, k=15)
        _save_figure(plots.plot_errors(x_val, errors, title="Most confident mistakes"), out / "errors.png")
        if digits.test_images is not None:
            test_labels = evaluate.predict_labels(model, digits.test_images)
            data.write_submission(test_labels, out / "submission.csv", expected_rows=len(digits.test_images))
        data.write_atomically(out / "metrics.json", lambda p: p.write_text(json.dumps(metrics, indent=2) + "\n"))
        data.write_atomically(out / "run.json",
                              lambda p: p.write_text(json.dumps({**run, "finished": True}, indent=2) + "\n"))
    print(f"Validation accuracy {val_accuracy:.2%} after {len(history)} epochs in {seconds:.0f} s.")
    print(f"Run folder: {out}  ({_files(out)})")
    return 0


def predict_command(args):
    """Write a Kaggle submission for a test CSV: one model's predictions, or several models' averaged.

    The paths, the model files and the CSV's header are checked before TensorFlow loads; then the
    input is read, predicted and written a chunk at a time, in memory bounded by the chunk.
    """
    from cnnlearn import evaluate, kaggle

    out = _output_file(args.out, [*args.model, args.input])
    for path in args.model:
        evaluate.check_model_file(path)
    with kaggle.iter_kaggle_csv(args.input) as chunks:
        if chunks.labelled:
            raise CnnlearnError(f"{'standard input' if args.input == '-' else args.input}: has a 'label' column, like Kaggle's train.csv; predict "
                                "writes a submission for unlabelled digits (test.csv). To measure a model on "
                                "labelled digits, run: cnnlearn evaluate --model ... --input "
                                + shlex.quote(str(args.input)))
        models = [_digit_model(path) for path in args.model]
        rows = kaggle.write_submission_chunks((_predicted(models, images, args.tta) for images, _ in chunks), out)
    where = "standard output" if out == "-" else out
    print(f"Wrote {rows:,} predictions{f' (the mean of {len(models)} models)' if len(models) > 1 else ''} "
          f"to {where}", file=sys.stderr if out == "-" else sys.stdout)
    return 0


def evaluate_command(args):
    """Accuracy and per-digit report of a model on a labelled CSV, read a chunk at a time."""
    import numpy as np

    from cnnlearn import evaluate, kaggle

    for path in args.model:
        evaluate.check_model_file(path)
    labels, predictions = [], []
    with kaggle.iter_kaggle_csv(args.input, require_labels=True) as chunks:
        models = [_digit_model(path) for path in args.model]
        for images, chunk_labels in chunks:
            labels.append(chunk_labels.astype(np.uint8))  # a byte per digit is all that is kept
            predictions.append(_predicted(models, images, args.tta).astype(np.uint8))
    labels, predictions = np.concatenate(labels), np.concatenate(predictions)
    print(evaluate.classification_report(labels, predictions))
    print(f"Accuracy: {evaluate.accuracy(labels, predictions):.4%} on {len(labels):,} digits")
    return 0


def _model_and_input(command, input_help):
    """The arguments predict and evaluate share."""
    command.add_argument("--model", required=True, action="append",
                         help="a .keras file written by cnnlearn train; repeat it to average several models")
    command.add_argument("--input", required=True, help=input_help)
    command.add_argument("--tta", action="store_true", help="test-time augmentation (average over 1-pixel shifts)")


def _count(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1; got {value}")
    return value


def _seed(text):
    value = int(text)
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError(f"must be between 0 and 2**32 - 1 (what NumPy accepts); got {value}")
    return value


def parser():
    from cnnlearn.recipes import RECIPES

    kinds = {"formatter_class": argparse.RawDescriptionHelpFormatter, "epilog": EXIT_CODES}
    top = argparse.ArgumentParser(prog="cnnlearn", description="Train and use CNNs on Kaggle's Digit Recognizer.",
                                  **kinds)
    commands = top.add_subparsers(dest="command", required=True)

    train = commands.add_parser("train", help="train a CNN and write a run folder", **kinds,
                                description="Train a CNN (with the annealer and augmentation) and write model.keras, "
                                            "history.csv, metrics.json, curves.png, confusion.png, errors.png and, "
                                            "when test.csv exists, submission.csv to the run folder. "
                                            "Ctrl-C keeps the finished epochs: rerun the same command to resume; "
                                            "a finished run is never overwritten.")
    train.add_argument("--data-dir", help="folder with Kaggle's train.csv/test.csv (default: $CNNLEARN_DATA_DIR, "
                                          "else ./data, the repository's data/ or Kaggle's "
                                          "/kaggle/input/digit-recognizer, else the bundled 5,000-digit sample)")
    train.add_argument("--recipe", default="seed", choices=sorted(RECIPES), help="what to train (default: seed)")
    train.add_argument("--epochs", type=_count, help="epochs, at least 1 (default: the recipe's)")
    train.add_argument("--batch-size", type=_count, help="batch size, at least 1 (default: the recipe's)")
    train.add_argument("--no-augment", action="store_true", help="train without data augmentation")
    train.add_argument("--seed", type=_seed, default=0, help="random seed, 0 to 2**32 - 1 (default: 0)")
    train.add_argument("--out", help="run folder (default: runs/<timestamp>/); an unfinished run of the same "
                                     "recipe, seed, epochs and data there resumes")
    train.add_argument("--restart", action="store_true",
                       help="delete the run already in --out (finished or not) and start this one there")
    train.add_argument("--fast", action="store_true", help="1,000 digits and 1 epoch: a quick smoke run")
    train.add_argument("--demo", action="store_true",
                       help=f"the bundled 5,000-digit sample, {DEMO_EPOCHS} epochs (a minute or two on 2 cores)")
    train.add_argument("--mirrored", action="store_true",
                       help="train with tf.distribute.MirroredStrategy on all local devices (e.g. several GPUs)")
    train.add_argument("--verbose", type=int, default=2, choices=(0, 1, 2), help="Keras progress: 0 none, "
                                                                                "1 bar, 2 a line per epoch")
    train.set_defaults(run=train_command)

    predict = commands.add_parser("predict", help="write submission.csv for a test CSV", **kinds,
                                  description="Predict the digits of a Kaggle-format CSV and write ImageId,Label.")
    _model_and_input(predict, "Kaggle's test.csv (or .csv.gz); - reads standard input")
    predict.add_argument("--out", default="submission.csv",
                         help="where to write (default: submission.csv); - writes standard output, and an existing "
                              "device or FIFO is written to as it is")
    predict.set_defaults(run=predict_command)

    evaluate = commands.add_parser("evaluate", help="accuracy of a model on a labelled CSV", **kinds,
                                   description="Accuracy and per-digit precision/recall on a labelled CSV.")
    _model_and_input(evaluate, "a labelled Kaggle-format CSV (train.csv, or .csv.gz); - reads standard input")
    evaluate.set_defaults(run=evaluate_command)
    return top


#: What to do about an OSError, by errno: said after the error and the file.
WRITE_HINTS = {errno.ENOSPC: "free some space, or write somewhere else",
               errno.EROFS: "expected a disk that can be written to; write somewhere else",
               errno.EACCES: "expected a file and folder you may write to; write somewhere else",
               errno.EPERM: "expected a file and folder you may write to; write somewhere else",
               errno.EPIPE: "the reader went away before every row was written"}


def _os_error(error):
    """One line for an OSError: what went wrong, with which file, and what was expected."""
    what = str(error.strerror or error)
    what = what[:1].lower() + what[1:]
    hint = WRITE_HINTS.get(error.errno)
    return f"{what}{f': {error.filename}' if error.filename else ''}{f'; {hint}' if hint else ''}"


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser().parse_args(argv)
    args.argv = argv
    try:
        return args.run(args)
    except CnnlearnError as e:
        print(f"cnnlearn {args.command}: error: {e}", file=sys.stderr)
        return 2
    except OSError as e:  # a file that cannot be written or reached: permission, read-only or full disk
        print(f"cnnlearn {args.command}: error: {_os_error(e)}", file=sys.stderr)
        if e.errno == errno.EPIPE:  # nothing more can go to the closed pipe, not even at exit
            with contextlib.suppress(OSError, ValueError, io.UnsupportedOperation):
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 3
    except KeyboardInterrupt:
        print(f"cnnlearn {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
