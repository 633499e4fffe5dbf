"""Train a recipe on Kaggle's digits; print validation accuracy, time and throughput.

    python benchmarks/accuracy.py --data-dir ../shared/data/digit-recognizer --recipe strided24 --seeds 0

Validation is a stratified 10% of train.csv (the same split for every run).
Writes submission.csv for the data folder's test.csv (the first seed's model).
The last line is the figure: ``RESULT recipe=... val_accuracy=... seconds=...``.
"""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

from cnnlearn import data, evaluate  # noqa: E402


def main(argv=None):
    parser = common.argument_parser(__doc__.splitlines()[0])
    parser.add_argument("--recipe", default="strided24")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--epochs", type=int, help="default: the recipe's")
    parser.add_argument("--label-smoothing", type=float, help="default: the recipe's")
    args = parser.parse_args(argv)
    common.configure(args)
    digits, x_train, y_train, x_val, y_val = common.load_split(args)
    print(f"{len(x_train):,} training digits, {len(x_val):,} validation digits; {common.machine()}")
    results = []
    for seed in args.seeds:
        model, history, seconds = common.train_member(args.recipe, x_train, y_train, x_val, y_val, seed, args.epochs,
                                                        args.label_smoothing)
        epochs = len(history)
        plain = evaluate.accuracy(y_val, evaluate.predict_labels(model, x_val))
        tta = evaluate.accuracy(y_val, evaluate.predict_labels(model, x_val, tta=True))
        rate = len(x_train) * epochs / seconds
        print(f"seed {seed}: val_accuracy {plain:.4%} (with TTA {tta:.4%}), {epochs} epochs in {seconds:.0f} s, "
              f"{seconds / epochs:.1f} s/epoch, {rate:,.0f} digits/s")
        results.append((plain, tta, seconds, rate))
        if seed == args.seeds[0] and digits.test_images is not None:
            path = Path(args.out) / "submission.csv"
            data.write_submission(evaluate.predict_labels(model, digits.test_images, tta=True), path,
                                  expected_rows=len(digits.test_images))
            print(f"wrote {path}")
    plain, tta, seconds, rate = np.mean(results, axis=0)
    print(f"RESULT recipe={args.recipe} seeds={len(args.seeds)} val_accuracy={plain:.4%} tta_accuracy={tta:.4%} "
          f"seconds={seconds:.0f} digits_per_s={rate:.0f}")


if __name__ == "__main__":
    main()
