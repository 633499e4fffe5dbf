"""Train several models and average their probabilities (optionally with test-time augmentation).

    python benchmarks/ensemble.py --data-dir ../shared/data/digit-recognizer --recipe strided24 \
        --members 3 --max-minutes 90
    python benchmarks/ensemble.py --data-dir ../shared/data/digit-recognizer \
        --recipes strided44,elastic,bn_cnn --out runs/diverse

With ``--recipe`` the members differ only in their seed (weights, shuffles,
augmentations); with ``--recipes`` member ``i`` is the ``i``-th recipe of the
list, with seed ``i``. After each member it prints that member's and the
ensemble-so-far's validation accuracy, with and without test-time augmentation,
and the training time so far; a member whose optimizer keeps an exponential
moving average of its weights also prints the last epoch's accuracy with its
raw weights. At the end it prints how many validation digits each member gets
wrong and how many *every* member gets wrong (what no vote can fix). With
``--max-minutes`` it starts no member that would, at the members' average
pace, end past that much training time. Writes submission.csv from the
ensemble with TTA, and each member's validation and test probabilities
(``member-<i>-<recipe>.npz``) to ``--out``. The last line is the figure:
``RESULT ensemble=... members=... val_accuracy=... tta_accuracy=... seconds=...``.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

import numpy as np  # noqa: E402

from cnnlearn import CnnlearnError, data, evaluate, recipes  # noqa: E402


def main(argv=None):
    parser = common.argument_parser(__doc__.splitlines()[0])
    parser.add_argument("--recipe", default="strided24", help="every member's recipe (with --members)")
    parser.add_argument("--members", type=int, default=5)
    parser.add_argument("--recipes", help="comma-separated: one member per recipe, instead of --recipe/--members")
    parser.add_argument("--epochs", type=int, help="default: the recipe's")
    parser.add_argument("--label-smoothing", type=float, help="default: the recipe's")
    parser.add_argument("--max-minutes", type=float, help="start no member that would end past this much training")
    args = parser.parse_args(argv)
    common.configure(args)
    digits, x_train, y_train, x_val, y_val = common.load_split(args)
    names = args.recipes.split(",") if args.recipes else [args.recipe] * args.members
    for name in dict.fromkeys(names):  # an unknown name fails now, not after an hour of training
        try:
            recipes.get(name)
        except CnnlearnError as error:
            raise SystemExit(f"--recipes {args.recipes}: {error}") from None
    print(f"{len(x_train):,} training digits, {len(x_val):,} validation digits; {common.machine()}")
    total_seconds, val_sum, val_sum_tta, test_sum, trained, wrong = 0.0, 0, 0, 0, 0, []
    for seed, name in enumerate(names):
        if trained and args.max_minutes and total_seconds * (trained + 1) / trained > 60 * args.max_minutes:
            print(f"stopping at {trained} members: another would end past {args.max_minutes:g} minutes")
            break
        model, history, seconds = common.train_member(name, x_train, y_train, x_val, y_val, seed, args.epochs,
                                                       args.label_smoothing)
        total_seconds += seconds
        trained += 1
        label = f"member {seed} ({name})" if args.recipes else f"member {seed}"
        if model.optimizer.use_ema:  # fit ended by copying the average into the weights
            print(f"{label}: last epoch with its raw weights: validation accuracy "
                  f"{history['val_accuracy'].iloc[-1]:.4%}; the weights' moving average below")
        probabilities = evaluate.predict_proba(model, x_val)
        with_tta = evaluate.predict_proba(model, x_val, tta=True)
        val_sum, val_sum_tta = val_sum + probabilities, val_sum_tta + with_tta
        wrong.append(probabilities.argmax(axis=1) != y_val)
        common.report_accuracy(f"{label} ({seconds:.0f} s)", probabilities, y_val)
        common.report_accuracy(f"{label} with TTA", with_tta, y_val)
        common.report_accuracy(f"ensemble of {trained} ({total_seconds:.0f} s)", val_sum, y_val)
        common.report_accuracy(f"ensemble of {trained} with TTA", val_sum_tta, y_val)
        test = evaluate.predict_proba(model, digits.test_images, tta=True) if digits.test_images is not None else None
        if test is not None:
            test_sum = test_sum + test
        np.savez_compressed(Path(args.out) / f"member-{seed}-{name}.npz", val=probabilities, val_tta=with_tta,
                            **({} if test is None else {"test_tta": test}))
        sys.stdout.flush()
    wrong = np.array(wrong)
    print(f"validation digits wrong: {', '.join(str(n) for n in wrong.sum(axis=1))} (each member); "
          f"{wrong.any(axis=0).sum()} by at least one, {wrong.all(axis=0).sum()} by every member")
    plain = common.report_accuracy("ensemble", val_sum, y_val)
    tta = common.report_accuracy("ensemble with TTA", val_sum_tta, y_val)
    if digits.test_images is not None:
        path = Path(args.out) / "submission.csv"
        data.write_submission(test_sum.argmax(axis=1), path, expected_rows=len(digits.test_images))
        print(f"wrote {path}")
    print(f"RESULT ensemble={args.recipes or args.recipe} members={trained} val_accuracy={plain:.4%} "
          f"tta_accuracy={tta:.4%} seconds={total_seconds:.0f}")


if __name__ == "__main__":
    main()
