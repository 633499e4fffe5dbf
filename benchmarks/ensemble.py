"""Train several models and average their probabilities (optionally with test-time augmentation).

    python benchmarks/ensemble.py --data-dir ../shared/data/digit-recognizer --recipe strided24 \
        --members 3 --max-minutes 90

Members differ only in their seed (weights, shuffles, augmentations). After
each member it prints that member's and the ensemble-so-far's validation
accuracy, with and without test-time augmentation, and the training time so
far. With ``--max-minutes`` it starts no member that would, at the members'
average pace, end past that much training time. Writes submission.csv from the
ensemble with TTA. The last line is the figure:
``RESULT ensemble=... members=... val_accuracy=... tta_accuracy=... seconds=...``.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

from cnnlearn import data, evaluate  # noqa: E402


def main(argv=None):
    parser = common.argument_parser(__doc__.splitlines()[0])
    parser.add_argument("--recipe", default="strided24")
    parser.add_argument("--members", type=int, default=5)
    parser.add_argument("--epochs", type=int, help="default: the recipe's")
    parser.add_argument("--label-smoothing", type=float, help="default: the recipe's")
    parser.add_argument("--max-minutes", type=float, help="start no member that would end past this much training")
    args = parser.parse_args(argv)
    common.configure(args)
    digits, x_train, y_train, x_val, y_val = common.load_split(args)
    print(f"{len(x_train):,} training digits, {len(x_val):,} validation digits; {common.machine()}")
    total_seconds, val_sum, val_sum_tta, test_sum, trained = 0.0, 0, 0, 0, 0
    for seed in range(args.members):
        if trained and args.max_minutes and total_seconds * (trained + 1) / trained > 60 * args.max_minutes:
            print(f"stopping at {trained} members: another would end past {args.max_minutes:g} minutes")
            break
        model, _, seconds = common.train_member(args.recipe, x_train, y_train, x_val, y_val, seed, args.epochs,
                                                 args.label_smoothing)
        total_seconds += seconds
        trained += 1
        probabilities = evaluate.predict_proba(model, x_val)
        with_tta = evaluate.predict_proba(model, x_val, tta=True)
        val_sum, val_sum_tta = val_sum + probabilities, val_sum_tta + with_tta
        common.report_accuracy(f"member {seed} ({seconds:.0f} s)", probabilities, y_val)
        common.report_accuracy(f"member {seed} with TTA", with_tta, y_val)
        common.report_accuracy(f"ensemble of {trained} ({total_seconds:.0f} s)", val_sum, y_val)
        common.report_accuracy(f"ensemble of {trained} with TTA", val_sum_tta, y_val)
        sys.stdout.flush()
        if digits.test_images is not None:
            test_sum = test_sum + evaluate.predict_proba(model, digits.test_images, tta=True)
    plain = common.report_accuracy("ensemble", val_sum, y_val)
    tta = common.report_accuracy("ensemble with TTA", val_sum_tta, y_val)
    if digits.test_images is not None:
        path = Path(args.out) / "submission.csv"
        data.write_submission(test_sum.argmax(axis=1), path, expected_rows=len(digits.test_images))
        print(f"wrote {path}")
    print(f"RESULT ensemble={args.recipe} members={trained} val_accuracy={plain:.4%} "
          f"tta_accuracy={tta:.4%} seconds={total_seconds:.0f}")


if __name__ == "__main__":
    main()
