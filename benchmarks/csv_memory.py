"""Peak memory of reading a large Kaggle-format CSV, against the size of the array it gives.

    python benchmarks/csv_memory.py --rows 200000

Writes a CSV of ``--rows`` labelled digits (the bundled sample's, repeated) to a temporary file,
then reads it with ``cnnlearn.kaggle.load_kaggle_csv`` in a fresh process and prints how far the
process's peak resident memory (``ru_maxrss``) rose above its resident memory just before reading
(Linux's ``/proc/self/statm``). The goal: at most 4 times the
final uint8 array, plus a fixed overhead. The last line is the figure:
``RESULT rows=... file_mb=... array_mb=... peak_rise_mb=... ratio=...``.
"""

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = """
import resource, sys, time
import cnnlearn.kaggle as kaggle
import numpy, pandas  # imported before the baseline: their size is the fixed overhead
with open("/proc/self/statm") as f:  # resident pages now
    before = int(f.read().split()[1]) * resource.getpagesize() // 1024
started = time.perf_counter()
images, labels = kaggle.load_kaggle_csv(sys.argv[1], require_labels=True)
seconds = time.perf_counter() - started
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(images.nbytes + labels.nbytes, (after - before) * 1024, seconds)
"""


def write_csv(path, rows):
    """``rows`` labelled digits in Kaggle's format, written a block at a time."""
    from cnnlearn.data import load_sample
    from cnnlearn.kaggle import PIXEL_COLUMNS

    images, labels = load_sample()
    lines = [f"{label}," + ",".join(map(str, image.ravel())) + "\n" for image, label in zip(images, labels)]
    with open(path, "w") as f:
        f.write("label," + ",".join(PIXEL_COLUMNS) + "\n")
        for start in range(0, rows, len(lines)):
            f.writelines(lines[:min(len(lines), rows - start)])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "train.csv"
        write_csv(path, args.rows)
        size = path.stat().st_size
        child = subprocess.run([sys.executable, "-c", CHILD, str(path)], capture_output=True, text=True, check=True)
    array, rise, seconds = (float(x) for x in child.stdout.split()[-3:])
    mb = 1e6
    print(f"read {args.rows:,} rows ({size / mb:.0f} MB of CSV) in {seconds:.1f} s")
    print(f"RESULT rows={args.rows} file_mb={size / mb:.0f} array_mb={array / mb:.1f} peak_rise_mb={rise / mb:.1f} "
          f"ratio={rise / array:.2f}")


if __name__ == "__main__":
    main()
