"""The ``cnnlearn`` command end to end, on a tiny Kaggle-format data folder."""

import json
import os
import subprocess
import sys

import pandas as pd
import pytest

from cnnlearn import cli, data

RUN_FILES = {"model.keras", "history.csv", "metrics.json", "curves.png", "confusion.png", "errors.png",
             "submission.csv"}


@pytest.fixture(scope="module")
def run_dir(kaggle_dir, tmp_path_factory):
    """One real ``cnnlearn train`` run, as a user would start it (a subprocess)."""
    out = tmp_path_factory.mktemp("runs") / "first"
    result = subprocess.run(
        [sys.executable, "-m", "cnnlearn", "train", "--data-dir", str(kaggle_dir), "--fast", "--epochs", "2",
         "--out", str(out)],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert f"Run folder: {out}" in result.stdout
    return out


def test_train_writes_every_file(run_dir):
    assert RUN_FILES <= {p.name for p in run_dir.iterdir()}
    assert not (run_dir / "backup").exists(), "the finished run's backup should be cleaned up"


def test_train_metrics_and_history(run_dir):
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["data_source"] == "kaggle"
    assert metrics["train_digits"] == 270 and metrics["val_digits"] == 30
    assert metrics["epochs"] == 2 and 0 <= metrics["val_accuracy"] <= 1 and metrics["seconds"] > 0
    history = pd.read_csv(run_dir / "history.csv")
    assert list(history["epoch"]) == [0, 1]
    assert {"loss", "accuracy", "val_loss", "val_accuracy", "learning_rate"} <= set(history.columns)


def test_train_submission_covers_the_test_file(run_dir):
    labels = data.read_submission(run_dir / "submission.csv", expected_rows=40)
    assert labels.min() >= 0 and labels.max() <= 9


def test_predict_and_evaluate(run_dir, kaggle_dir, tmp_path, capsys):
    out = tmp_path / "submission.csv"
    assert cli.main(["predict", "--model", str(run_dir / "model.keras"), "--input", str(kaggle_dir / "test.csv"),
                     "--out", str(out)]) == 0
    assert len(data.read_submission(out, expected_rows=40)) == 40
    assert cli.main(["evaluate", "--model", str(run_dir / "model.keras"), "--input",
                     str(kaggle_dir / "train.csv"), "--tta"]) == 0
    assert "Accuracy:" in capsys.readouterr().out


def error_of(args, capsys):
    assert cli.main(args) == 2
    return capsys.readouterr().err


def test_unknown_data_dir(tmp_path, capsys):
    message = error_of(["train", "--data-dir", str(tmp_path / "nowhere"), "--out", str(tmp_path / "out")], capsys)
    assert "nowhere" in message and "no such folder" in message
    assert not (tmp_path / "out").exists()


def test_data_dir_without_train_csv(tmp_path, capsys):
    message = error_of(["train", "--data-dir", str(tmp_path), "--out", str(tmp_path / "out")], capsys)
    assert "train.csv" in message and not (tmp_path / "out").exists()


def test_out_that_is_a_file(kaggle_dir, tmp_path, capsys):
    (tmp_path / "taken").write_text("mine")
    message = error_of(["train", "--data-dir", str(kaggle_dir), "--out", str(tmp_path / "taken")], capsys)
    assert "is a file" in message and (tmp_path / "taken").read_text() == "mine"


@pytest.mark.parametrize("content", [b"", b"not a zip file at all", bytes(range(256)) * 4])
def test_corrupt_model(content, kaggle_dir, tmp_path, capsys):
    (tmp_path / "model.keras").write_bytes(content)
    message = error_of(["predict", "--model", str(tmp_path / "model.keras"), "--input",
                        str(kaggle_dir / "test.csv"), "--out", str(tmp_path / "submission.csv")], capsys)
    assert f"{tmp_path / 'model.keras'}: cannot load the model: the file is " in message
    assert ("empty (0 bytes)" if not content else "not a zip archive") in message
    assert "File not found" not in message and "expected a .keras file" in message
    assert not (tmp_path / "submission.csv").exists()


def test_missing_model(tmp_path, capsys):
    message = error_of(["evaluate", "--model", str(tmp_path / "none.keras"), "--input", "x.csv"], capsys)
    assert "no such model file" in message


def test_wrong_shaped_csv(run_dir, tmp_path, capsys):
    bad = tmp_path / "test.csv"
    bad.write_text("pixel0,pixel1,pixel2\n0,0,0\n")
    message = error_of(["predict", "--model", str(run_dir / "model.keras"), "--input", str(bad),
                        "--out", str(tmp_path / "submission.csv")], capsys)
    assert "test.csv" in message and "784" in message
    assert not (tmp_path / "submission.csv").exists()


def test_predict_out_that_is_a_folder(run_dir, kaggle_dir, tmp_path, capsys):
    message = error_of(["predict", "--model", str(run_dir / "model.keras"), "--input",
                        str(kaggle_dir / "test.csv"), "--out", str(tmp_path)], capsys)
    assert "is a folder" in message


def test_help_answers_without_importing_tensorflow():
    script = ("import sys\nfrom cnnlearn import cli\n"
              "for argv in (['--help'], ['train', '--help'], ['predict', '--help'], ['evaluate', '--help']):\n"
              "    try:\n        cli.main(argv)\n    except SystemExit as e:\n        assert e.code == 0, argv\n"
              "heavy = sorted(m for m in ('tensorflow', 'keras', 'matplotlib', 'pandas', 'sklearn') if m in sys.modules)\n"
              "print('IMPORTED', heavy)\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "IMPORTED []" in result.stdout, result.stdout[-500:]
    assert "--mirrored" in result.stdout and "strided24" in result.stdout


def test_every_subcommand_has_help(capsys):
    for command in ("train", "predict", "evaluate"):
        with pytest.raises(SystemExit) as exit_info:
            cli.main([command, "--help"])
        assert exit_info.value.code == 0
        assert "usage: cnnlearn " + command in capsys.readouterr().out


def test_keyboard_interrupt_leaves_a_resumable_run(kaggle_dir, tmp_path, capsys, monkeypatch):
    from cnnlearn import runs

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(runs, "fit", interrupted)
    assert cli.main(["train", "--data-dir", str(kaggle_dir), "--fast", "--out", str(tmp_path / "run")]) == 130
    message = capsys.readouterr().err
    assert "to resume" in message and f"--out {tmp_path / 'run'}" in message



def test_train_from_an_empty_folder_on_kaggle(kaggle_dir, tmp_path):
    """Kaggle's layout under a temporary root: the data read-only at ``input/digit-recognizer``, the
    command started from an empty ``working`` folder, which gets the run folder and its submission."""
    mounted = tmp_path / "input" / "digit-recognizer"
    mounted.mkdir(parents=True)
    for name in ("train.csv", "test.csv"):
        (mounted / name).write_bytes((kaggle_dir / name).read_bytes())
        (mounted / name).chmod(0o444)
    mounted.chmod(0o555)
    working = tmp_path / "working"
    working.mkdir()
    script = (f"import sys\nfrom pathlib import Path\nfrom cnnlearn import cli, data\n"
              f"data.KAGGLE_INPUT = Path({str(tmp_path / 'input')!r})\n"
              f"sys.exit(cli.main(['train', '--fast', '--epochs', '1', '--out', 'runs/first']))\n")
    env = {k: v for k, v in os.environ.items() if k != "CNNLEARN_DATA_DIR"}
    try:
        result = subprocess.run([sys.executable, "-c", script], cwd=working, env=env, capture_output=True,
                                text=True, timeout=300)
    finally:
        mounted.chmod(0o755)
    assert result.returncode == 0, result.stderr[-2000:]
    assert f"Using Kaggle's data in {mounted}: 300 training digits, 40 test digits." in result.stdout
    assert len(data.read_submission(working / "runs" / "first" / "submission.csv", expected_rows=40)) == 40
    assert sorted(p.name for p in mounted.iterdir()) == ["test.csv", "train.csv"]
