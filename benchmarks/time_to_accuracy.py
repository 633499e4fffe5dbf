"""Seconds of training until a validation accuracy is first reached: keras-io's convnet vs cnnlearn's fast recipe.

    python benchmarks/time_to_accuracy.py --data-dir ../shared/data/digit-recognizer --target 0.99

Both recipes train on the same split in the same run, alternately (baseline,
fast, baseline, fast, ...), so machine noise hits both alike, and each
timing runs in a fresh Python process, so neither inherits the other's state
(thread pools, caches, leftover input pipelines). Validation accuracy is
measured every ``--check-every`` batches; the clock stops while it is measured. The last line is the figure:
``RESULT target=... baseline_s=... fast_s=... ratio=...`` (fast / baseline).
"""

import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402  (imports cnnlearn first: TensorFlow starts quietly)
import keras  # noqa: E402

from cnnlearn import evaluate, recipes, runs, training  # noqa: E402


class TimeToTarget(keras.callbacks.Callback):
    """Stop training when validation accuracy first reaches ``target``; keep the training seconds it took."""

    def __init__(self, x_val, y_val, target, every):
        super().__init__()
        self.x_val, self.y_val, self.target, self.every = x_val, y_val, target, every
        self.seconds, self.reached, self.steps, self.started = 0.0, None, 0, None

    def on_train_begin(self, logs=None):
        self.started = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        self.steps += 1
        if self.steps % self.every:
            return
        self.seconds += time.perf_counter() - self.started
        accuracy = evaluate.accuracy(self.y_val, evaluate.predict_labels(self.model, self.x_val, batch_size=1024))
        if accuracy >= self.target and self.reached is None:
            self.reached = self.seconds
            self.model.stop_training = True
            print(f"    reached {accuracy:.4%} after {self.steps} batches, {self.seconds:.1f} s of training", flush=True)
        self.started = time.perf_counter()


def time_to(recipe_name, x_train, y_train, x_val, y_val, target, every, epochs, seed):
    """Train one recipe until ``target``; return (seconds to reach it or None, seconds trained)."""
    training.set_seed(seed)
    timer = TimeToTarget(x_val, y_val, target, every)
    runs.fit(recipes.get(recipe_name), x_train, y_train, x_val, y_val, out=None, epochs=epochs, seed=seed,
             callbacks=[timer], verbose=0)
    return timer.reached, timer.seconds


def main(argv=None):
    parser = common.argument_parser(__doc__.splitlines()[0])
    parser.add_argument("--target", type=float, default=0.99)
    parser.add_argument("--rounds", type=int, default=2, help="how many times each recipe is timed")
    parser.add_argument("--check-every", type=int, default=50, help="batches between validation checks")
    parser.add_argument("--epochs", type=int, nargs=2, metavar=("BASELINE", "FAST"),
                        help="the most epochs each recipe trains (default: each recipe's own; a recipe whose "
                             "schedule spans its run, like fast's, anneals over these epochs)")
    parser.add_argument("--recipes", nargs=2, default=["baseline", "fast"], metavar=("BASELINE", "FAST"))
    args = parser.parse_args(argv)
    common.configure(args)
    _, x_train, y_train, x_val, y_val = common.load_split(args)
    print(f"{len(x_train):,} training digits, {len(x_val):,} validation digits; target {args.target:.2%}; "
          f"{common.machine()}")
    seconds = {name: [] for name in args.recipes}
    epochs = dict(zip(args.recipes, args.epochs or [recipes.get(name).epochs for name in args.recipes]))
    for round_ in range(args.rounds):
        for name in args.recipes:
            with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as fresh_process:
                reached, trained = fresh_process.submit(
                    time_to, name, x_train, y_train, x_val, y_val, args.target, args.check_every,
                    epochs[name], seed=round_,
                ).result()
            shown = f"not reached in {trained:.1f} s ({epochs[name]} epochs)" if reached is None else f"{reached:.1f} s"
            print(f"round {round_ + 1}, {name}: {shown}", flush=True)
            seconds[name].append(float("inf") if reached is None else reached)
    baseline, fast = (statistics.median(seconds[name]) for name in args.recipes)
    print(f"RESULT target={args.target} baseline_s={baseline:.1f} fast_s={fast:.1f} ratio={fast / baseline:.3f}")


if __name__ == "__main__":
    main()
