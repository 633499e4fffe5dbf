"""The margins of the lessons' claims over seeds and floating-point kernels.

    python benchmarks/claims.py --seeds 0 1 2 3 4 --numerics default onednn-off avx2
    python benchmarks/claims.py --notebooks 04 06 --seeds 0 1 2 --full
    python benchmarks/claims.py --report runs/claims/*.jsonl     # the table again, from earlier runs

Every claim a notebook or a training exercise makes about a trained model goes through
``cnnlearn.claims.check``, which logs its margin (how far the measured value is inside its
bound). This script executes the notebooks (``--notebooks``, default: every one) and the exercise
tests and printed solutions (``--tests``, as ``make test-claims`` runs them) once per configuration, a seed
(``CNNLEARN_SEED``) crossed with numerics:

- ``default``: TensorFlow as installed (oneDNN on, the widest vector instructions the CPU has);
- ``onednn-off``: ``TF_ENABLE_ONEDNN_OPTS=0``, TensorFlow's own (Eigen) kernels;
- ``avx2``: ``ONEDNN_MAX_CPU_ISA=AVX2``, oneDNN limited to AVX2 as on a CPU without AVX-512
  (the same as ``default`` on such a CPU).

Fast mode unless ``--full``. Each run's checks are appended to ``--log`` (JSON lines, one per check,
tagged with its source and configuration), so runs can be split over sessions and joined by
``--report``. The table gives, per claim, the margin in each configuration and the smallest one;
a claim whose smallest margin is not positive failed somewhere. The last line is
``RESULT claims=... configurations=... failed=... smallest_relative_margin=...``.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NUMERICS = {"default": {}, "onednn-off": {"TF_ENABLE_ONEDNN_OPTS": "0"}, "avx2": {"ONEDNN_MAX_CPU_ISA": "AVX2"}}


def notebook_paths(prefixes):
    paths = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    return [path for path in paths if not prefixes or path.name[:2] in prefixes]


def run_one(source, command, env, log):
    """Run one notebook or the tests under ``env``; append its checks to ``log``, tagged. Returns the
    problems that are not claims (a cell's error, a test's failure), as lines."""
    with tempfile.TemporaryDirectory() as folder:
        checks = Path(folder) / "checks.jsonl"
        result = subprocess.run(command(folder), cwd=ROOT, capture_output=True, text=True,
                                env={**os.environ, **env, "CNNLEARN_CLAIMS_LOG": str(checks), "MPLBACKEND": "Agg"})
        records = [json.loads(line) for line in checks.read_text().splitlines()] if checks.exists() else []
        problems = [] if result.returncode == 0 else [f"{source}: exit {result.returncode}: "
                                                      + (result.stdout + result.stderr).strip()[-300:]]
        if source.endswith(".ipynb"):
            executed = next(Path(folder).glob("*.ipynb"), None)
            problems = problems if executed is None else notebook_errors(source, executed)
    tags = {"source": source, "numerics": env["_NUMERICS"],
            **{k: v for k, v in env.items() if k.startswith("CNNLEARN_")}}
    records = [{**record, **tags} for record in records]
    with open(log, "a") as file:
        for record in records:
            file.write(json.dumps(record) + "\n")
    return records, problems


def notebook_errors(source, executed):
    """Errors in an executed notebook's cells, other than failed claims (which the table shows)."""
    cells = json.loads(executed.read_text())["cells"]
    return [f"{source} cell {index}: {output['ename']}: {output['evalue'][:200]}"
            for index, cell in enumerate(cells) for output in cell.get("outputs", [])
            if output.get("output_type") == "error" and not output["evalue"].startswith("claim failed")]


def execute_notebook(path):
    jupyter = Path(sys.executable).with_name("jupyter")
    return lambda folder: [str(jupyter), "nbconvert", "--to", "notebook", "--execute", "--allow-errors",
                           "--ExecutePreprocessor.timeout=3600", "--ExecutePreprocessor.kernel_name=python3",
                           "--output-dir", folder, str(path)]


def run_tests(folder):
    """The exercise tests (those that train check right answers pass and known wrong ones fail) and the
    printed solutions: the same files as ``make test-claims``."""
    tests = [p for p in (ROOT / "tests").glob("test_exercises*.py") if p.name != "test_exercises_jupyterlab.py"]
    return [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
            *sorted(str(p.relative_to(ROOT)) for p in tests + [ROOT / "tests" / "test_solutions.py"])]


def report(records):
    """Print the table; return the number of claims that failed somewhere."""
    configurations = sorted({(r["numerics"], int(r["CNNLEARN_SEED"])) for r in records})
    by_claim = {}
    for r in records:
        key = (Path(r["source"]).name[:2] if r["source"].endswith(".ipynb") else "tests", r["mode"], r["claim"])
        by_claim.setdefault(key, {})[(r["numerics"], int(r["CNNLEARN_SEED"]))] = r
    failed, relative = 0, []
    print(f"{len(by_claim)} claims over {len(configurations)} configurations "
          f"({', '.join(f'{n}/seed {s}' for n, s in configurations)})\n")
    print("| where | mode | claim | bound | values (min to max) | margins (min to max) | runs | smallest margin |")
    print("|---|---|---|---|---|---|---|---|")
    for (where, mode, claim), runs in sorted(by_claim.items()):
        margins = [r["margin"] for r in runs.values()]
        values = [r["value"] for r in runs.values()]
        first = next(iter(runs.values()))
        bound = " and ".join(f"{word} {first[word]:.4g}" for word in ("below", "above") if first[word] is not None)
        smallest = min(margins)
        failed += smallest <= 0
        spread = max(values) - min(values)
        relative.append(smallest / spread if spread else float("inf"))
        print(f"| {where} | {mode} | {claim.replace('|', chr(92) + '|')} | {bound} | {min(values):.4g} to {max(values):.4g} | "
              f"{min(margins):.4g} to {max(margins):.4g} | {len(runs)} | **{smallest:.4g}** |")
    finite = [r for r in relative if r != float("inf")]
    print(f"\nRESULT claims={len(by_claim)} configurations={len(configurations)} failed={failed} "
          f"smallest_relative_margin={min(finite) if finite else float('nan'):.3g}")
    return failed


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--notebooks", nargs="*", default=[], metavar="NN",
                        help="two-digit prefixes (default: every notebook)")
    parser.add_argument("--no-notebooks", action="store_true", help="run no notebook")
    parser.add_argument("--tests", action="store_true", help="also run the exercise tests that train")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--numerics", nargs="+", choices=sorted(NUMERICS), default=["default"])
    parser.add_argument("--full", action="store_true", help="full mode (default: fast mode)")
    parser.add_argument("--log", type=Path, default=ROOT / "runs" / "claims" / "claims.jsonl")
    parser.add_argument("--report", nargs="+", type=Path, metavar="LOG", help="only print the table of these logs")
    args = parser.parse_args(argv)
    if args.report:
        records = [json.loads(line) for log in args.report for line in log.read_text().splitlines() if line]
        return 1 if report(records) else 0

    if "avx2" in args.numerics and "avx512f" not in Path("/proc/cpuinfo").read_text():
        print("note: this CPU has no AVX-512, so 'avx2' gives the same kernels as 'default'")
    args.log.parent.mkdir(parents=True, exist_ok=True)
    sources = [] if args.no_notebooks else [(str(p.relative_to(ROOT)), execute_notebook(p))
                                            for p in notebook_paths(args.notebooks)]
    sources += [("tests (exercises and solutions)", run_tests)] if args.tests else []
    records, problems = [], []
    for seed in args.seeds:
        for numerics in args.numerics:
            env = {**NUMERICS[numerics], "_NUMERICS": numerics, "CNNLEARN_SEED": str(seed),
                   "CNNLEARN_FAST": "0" if args.full else "1"}
            for source, command in sources:
                got, trouble = run_one(source, command, env, args.log)
                print(f"{source}, {numerics}, seed {seed}: {len(got)} checks, "
                      f"{sum(r['margin'] <= 0 for r in got)} failed" + "".join(f"\n  {t}" for t in trouble),
                      flush=True)
                records += got
                problems += trouble
    failed = report(records)
    for problem in problems:
        print("problem:", problem)
    return 1 if failed or problems else 0


if __name__ == "__main__":
    sys.exit(main())
