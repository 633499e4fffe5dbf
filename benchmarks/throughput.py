"""Where training time goes: the input pipeline vs the model, in digits per second.

    python benchmarks/throughput.py --data-dir ../shared/data/digit-recognizer --recipes baseline fast strided seed

For each recipe, on the same digits and with its own batch size, it times:

- ``pipeline``: only the ``tf.data`` input pipeline (shuffle, batch, augment), no model;
- ``model``: only the training steps, fed batches already in memory (no augmentation);
- ``both``: training as ``cnnlearn train`` does it (pipeline and model together).

If ``both`` is close to ``model`` and ``pipeline`` is much faster than both, the
augmentation is not the bottleneck. Each figure is the best of ``--repeats`` timed
passes over ``--digits`` digits, after one untimed pass that builds the graphs.
The last line is the figure: ``RESULT recipe=... both=... model=... pipeline=...``.
"""

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

from cnnlearn import data, recipes, training  # noqa: E402
from cnnlearn.augment import augmenter  # noqa: E402


def _best_seconds(run, repeats):
    run()  # builds the graphs; not timed
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times)


def measure(recipe, images, labels, repeats=2, seed=0):
    """Digits per second for the pipeline alone, the model alone and both together.

    Parameters
    ----------
    recipe : cnnlearn.recipes.Recipe
    images : float32 (n, 28, 28, 1)
    labels : int (n,)

    Returns
    -------
    dict
        ``{"pipeline": float, "model": float, "both": float}``, digits per second.
    """
    y = data.one_hot(labels)
    n = len(images)
    augment = augmenter(seed=seed) if recipe.augment else None
    model, _ = recipe.compile(steps=repeats * -(-n // recipe.batch_size))
    augmented = training.dataset(images, y, recipe.batch_size, shuffle=True, augment=augment, seed=seed)
    in_memory = training.dataset(images, y, recipe.batch_size).cache()

    def pipeline():
        for _ in augmented:
            pass

    return {
        "pipeline": n / _best_seconds(pipeline, repeats),
        "model": n / _best_seconds(lambda: model.fit(in_memory, epochs=1, verbose=0, shuffle=False), repeats),
        "both": n / _best_seconds(lambda: model.fit(augmented, epochs=1, verbose=0, shuffle=False), repeats),
    }


def main(argv=None):
    parser = common.argument_parser(__doc__.splitlines()[0])
    parser.add_argument("--recipes", nargs="+", default=list(recipes.RECIPES))
    parser.add_argument("--digits", type=int, default=8192, help="digits per timed pass (default 8192)")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args(argv)
    common.configure(args)
    digits = data.load_digits("auto", args.data_dir)
    images, labels = data.subsample(digits.images, digits.labels, args.digits, seed=0)
    images = data.prepare(images)
    training.set_seed(0)  # as every benchmark trains: op determinism on
    print(f"{len(images):,} digits per pass, best of {args.repeats}; {common.machine()}")
    for name in args.recipes:
        recipe = recipes.get(name)
        rates = measure(recipe, images, labels, args.repeats)
        epoch = 37_800 / rates["both"]
        print(f"RESULT recipe={name} batch={recipe.batch_size} both={rates['both']:,.0f} "
              f"model={rates['model']:,.0f} pipeline={rates['pipeline']:,.0f} digits/s "
              f"(a 37,800-digit epoch: {epoch:.0f} s; the pipeline alone would take {37_800 / rates['pipeline']:.0f} s)",
              flush=True)


if __name__ == "__main__":
    main()
