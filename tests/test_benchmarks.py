"""Smoke runs of the benchmark scripts on a few hundred digits (the real runs are in benchmarks/RESULTS.md)."""

import re
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import accuracy  # noqa: E402
import common  # noqa: E402
import ensemble  # noqa: E402
import throughput  # noqa: E402
import time_to_accuracy  # noqa: E402

from cnnlearn import data  # noqa: E402


def result_line(output):
    lines = [line for line in output.splitlines() if line.startswith("RESULT ")]
    assert len(lines) == 1, output
    return lines[0]


def test_accuracy_script(kaggle_dir, tmp_path, capsys):
    accuracy.main(["--data-dir", str(kaggle_dir), "--recipe", "fast", "--epochs", "1", "--out", str(tmp_path)])
    line = result_line(capsys.readouterr().out)
    assert re.search(r"recipe=fast seeds=1 val_accuracy=\d+\.\d+% tta_accuracy=\d+\.\d+% seconds=\d+", line)
    assert len(data.read_submission(tmp_path / "submission.csv", expected_rows=40)) == 40


def test_label_smoothing_replaces_the_recipes(sample):
    images, labels = sample
    for smoothing, expected in ((None, 0.1), (0.2, 0.2)):  # fast's own is 0.1
        model, _, _ = common.train_member("fast", images[:64], labels[:64], images[64:96], labels[64:96], seed=0,
                                          epochs=1, label_smoothing=smoothing)
        assert model.loss.get_config()["label_smoothing"] == expected


def test_ensemble_script(kaggle_dir, tmp_path, capsys):
    out = tmp_path / "runs" / "ensemble"  # not there yet: the script makes it
    ensemble.main(["--data-dir", str(kaggle_dir), "--recipe", "baseline", "--members", "2", "--epochs", "1",
                   "--label-smoothing", "0.1", "--out", str(out)])
    output = capsys.readouterr().out
    assert "ensemble of 2" in output
    assert re.search(r"ensemble=baseline members=2 val_accuracy=\d+\.\d+%", result_line(output))
    assert len(data.read_submission(out / "submission.csv", expected_rows=40)) == 40


def test_ensemble_of_different_recipes_reports_their_overlap(kaggle_dir, tmp_path, capsys):
    ensemble.main(["--data-dir", str(kaggle_dir), "--recipes", "baseline,elastic", "--epochs", "1",
                   "--out", str(tmp_path)])
    output = capsys.readouterr().out
    assert "member 0 (baseline)" in output and "member 1 (elastic)" in output
    assert re.search(r"member 1 \(elastic\): last epoch with its raw weights: validation accuracy \d", output)
    wrong = re.search(r"validation digits wrong: (\d+), (\d+) \(each member\); (\d+) by at least one, "
                      r"(\d+) by every member", output)
    first, second, any_, every = map(int, wrong.groups())
    assert every <= min(first, second) <= max(first, second) <= any_ <= first + second
    assert "ensemble=baseline,elastic members=2" in result_line(output)
    member = np.load(tmp_path / "member-1-elastic.npz")
    assert member["val"].shape[1] == member["val_tta"].shape[1] == member["test_tta"].shape[1] == 10


def test_an_ensemble_with_an_unknown_recipe_stops_before_training(kaggle_dir, tmp_path, capsys):
    with pytest.raises(SystemExit, match="--recipes baseline,strided99: unknown recipe 'strided99'"):
        ensemble.main(["--data-dir", str(kaggle_dir), "--recipes", "baseline,strided99", "--out", str(tmp_path)])
    assert "member 0" not in capsys.readouterr().out


def test_an_out_folder_that_cannot_be_made_stops_before_training(kaggle_dir, tmp_path):
    (tmp_path / "a_file").write_text("")
    with pytest.raises(SystemExit, match="--out .*a_file/runs: cannot create this folder"):
        accuracy.main(["--data-dir", str(kaggle_dir), "--out", str(tmp_path / "a_file" / "runs")])


def test_ensemble_stops_at_its_time_budget(kaggle_dir, tmp_path, capsys):
    ensemble.main(["--data-dir", str(kaggle_dir), "--recipe", "baseline", "--members", "3", "--epochs", "1",
                   "--max-minutes", "0.0001", "--out", str(tmp_path)])
    output = capsys.readouterr().out
    assert "stopping at 1 members" in output and "ensemble of 2" not in output
    assert "members=1 " in result_line(output)


def test_throughput_script(kaggle_dir, capsys):
    throughput.main(["--data-dir", str(kaggle_dir), "--recipes", "baseline", "fast", "--digits", "256",
                     "--repeats", "1"])
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("RESULT ")]
    assert [line.split()[1] for line in lines] == ["recipe=baseline", "recipe=fast"]
    for line in lines:
        rates = dict(re.findall(r"(both|model|pipeline)=([\d,]+)", line))
        assert set(rates) == {"both", "model", "pipeline"}
        assert all(float(rate.replace(",", "")) > 0 for rate in rates.values())


@pytest.mark.parametrize("target, reached", [(0.0, True), (1.01, False)])
def test_time_to_accuracy_script(kaggle_dir, capsys, target, reached):
    time_to_accuracy.main(["--data-dir", str(kaggle_dir), "--target", str(target), "--rounds", "1",
                           "--check-every", "2", "--epochs", "1", "1"])
    output = capsys.readouterr().out
    match = re.search(r"RESULT target=\S+ baseline_s=(\S+) fast_s=(\S+) ratio=(\S+)", result_line(output))
    assert match
    if reached:
        assert float(match[1]) > 0 and float(match[2]) > 0
    else:
        assert "not reached" in output and match[1] == "inf"


def test_csv_memory_script(capsys):
    import csv_memory

    results = csv_memory.main(["--rows", "300", "3000"])
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("RESULT ")]
    assert len(lines) == 2
    for rows, line in zip((300, 3000), lines):
        assert re.fullmatch(rf"RESULT command=predict rows={rows} file_mb=\d+\.\d peak_mb=\d+ rise_mb=\d+ "
                            r"seconds=\d+\.\d rows_per_s=\d+", line), line
    assert [r["rows"] for r in results] == [300, 3000] and all(r["finished"] for r in results)
