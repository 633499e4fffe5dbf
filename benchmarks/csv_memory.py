"""Peak memory and throughput of ``cnnlearn predict`` (or ``evaluate``) as the input CSV grows.

    python benchmarks/csv_memory.py                        # 20, 20,000 and 200,000 rows
    python benchmarks/csv_memory.py --rows 300 3000 --command evaluate

For each size, writes a Kaggle-format CSV of that many digits (the bundled sample's, repeated) to a
temporary folder, then runs the command on it in a fresh process with a small digit model (one
convolution; ``--model`` to use another) and measures:

- ``peak_mb``: the process's peak resident memory (``ru_maxrss``), what a user's machine must hold;
- ``rise_mb``: how far that peak rose above the resident memory just before the command ran, with
  TensorFlow, Keras and pandas already imported (their size is a fixed overhead);
- ``rows_per_s``: rows over the command's wall time (loading the model included, importing not).

One line per size: ``RESULT command=... rows=... file_mb=... peak_mb=... rise_mb=... seconds=...
rows_per_s=...``; then the peak of the largest size over that of the second largest, which stays
within 1.2 when memory is bounded by the batch, not the file.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cnnlearn  # noqa: F401  (quiets TensorFlow's start-up log)

CHILD = """
import resource, sys, time
import keras, numpy, pandas, tensorflow  # imported before the baseline: their size is the fixed overhead
from cnnlearn import cli
with open("/proc/self/statm") as f:  # resident pages now
    before = int(f.read().split()[1]) * resource.getpagesize()
started = time.perf_counter()
code = cli.main(sys.argv[1:])
seconds = time.perf_counter() - started
print("CHILD", code, before, seconds, file=sys.stderr)
sys.exit(code)
"""


def write_csv(path, rows, labelled=True):
    """``rows`` digits in Kaggle's format (with a label column when ``labelled``), a block at a time."""
    from cnnlearn.data import load_sample
    from cnnlearn.kaggle import PIXEL_COLUMNS

    images, labels = load_sample()
    lines = [(f"{label}," if labelled else "") + ",".join(map(str, image.ravel())) + "\n"
             for image, label in zip(images, labels)]
    with open(path, "w") as f:
        f.write(("label," if labelled else "") + ",".join(PIXEL_COLUMNS) + "\n")
        for start in range(0, rows, len(lines)):
            f.writelines(lines[:min(len(lines), rows - start)])


def write_model(path):
    """A small untrained digit model: one convolution, pooling, a softmax layer."""
    import keras

    keras.utils.set_random_seed(0)
    keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Conv2D(8, 3, activation="relu"),
                      keras.layers.MaxPooling2D(), keras.layers.Flatten(),
                      keras.layers.Dense(10, activation="softmax")]).save(path)
    return path


def run_child(argv, timeout):
    """Run the command in a fresh process; return (exit code, peak RSS bytes, baseline bytes, seconds, stderr).

    A command still running after ``timeout`` seconds is killed; its peak so far is returned, with
    exit code None and the seconds it ran.
    """
    with tempfile.TemporaryFile("w+") as err:
        process = subprocess.Popen([sys.executable, "-c", CHILD, *argv], stdout=subprocess.DEVNULL, stderr=err)
        started = time.perf_counter()
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() - started > timeout:
                process.kill()
                _, status, usage = os.wait4(process.pid, 0)
                break
            time.sleep(0.1)
        process.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        err.seek(0)
        stderr = err.read()
    child = [line.split() for line in stderr.splitlines() if line.startswith("CHILD ")]
    if not child:
        return None, usage.ru_maxrss * 1024, 0, time.perf_counter() - started, stderr
    code, before, seconds = int(child[-1][1]), int(child[-1][2]), float(child[-1][3])
    return code, usage.ru_maxrss * 1024, before, seconds, stderr


def measure(folder, command, rows, model, timeout):
    """One size: write its CSV, run the command on it, delete the CSV; return the figures as a dict."""
    path = Path(folder) / f"{rows}.csv"
    write_csv(path, rows, labelled=command == "evaluate")
    size = path.stat().st_size
    argv = [command, "--model", str(model), "--input", str(path)]
    if command == "predict":
        argv += ["--out", str(Path(folder) / "submission.csv")]
    try:
        code, peak, before, seconds, stderr = run_child(argv, timeout)
    finally:
        path.unlink()
    if code not in (0, None):
        raise SystemExit(f"cnnlearn {command} on {rows:,} rows exited {code}:\n{stderr[-2000:]}")
    return {"command": command, "rows": rows, "file_mb": size / 1e6, "peak_mb": peak / 1e6,
            "rise_mb": (peak - before) / 1e6 if before else float("nan"), "seconds": seconds,
            "rows_per_s": rows / seconds, "finished": code == 0}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[20, 20_000, 200_000], help="the sizes to measure")
    parser.add_argument("--command", choices=("predict", "evaluate"), default="predict")
    parser.add_argument("--model", help="a .keras digit model (default: a small untrained one)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds before a run is killed (default 600)")
    args = parser.parse_args(argv)
    results = []
    with tempfile.TemporaryDirectory(prefix="csv_memory-") as folder:
        model = args.model or write_model(Path(folder) / "model.keras")
        for rows in args.rows:
            r = measure(folder, args.command, rows, model, args.timeout)
            results.append(r)
            note = "" if r["finished"] else f" (killed after {args.timeout:.0f} s, unfinished)"
            print(f"{r['command']} on {rows:,} rows ({r['file_mb']:.0f} MB of CSV): peak {r['peak_mb']:.0f} MB, "
                  f"{r['rows_per_s']:,.0f} rows/s{note}")
            print(f"RESULT command={r['command']} rows={rows} file_mb={r['file_mb']:.1f} peak_mb={r['peak_mb']:.0f} "
                  f"rise_mb={r['rise_mb']:.0f} seconds={r['seconds']:.1f} rows_per_s={r['rows_per_s']:.0f}"
                  f"{'' if r['finished'] else ' unfinished'}", flush=True)
    if len(results) > 1:
        largest, second = results[-1], results[-2]
        print(f"peak at {largest['rows']:,} rows / peak at {second['rows']:,} rows = "
              f"{largest['peak_mb'] / second['peak_mb']:.2f} (bounded memory: at most 1.2)")
    return results


if __name__ == "__main__":
    main()
