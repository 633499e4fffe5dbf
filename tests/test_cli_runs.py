"""Runs you can trust: the ``cnnlearn`` command never mixes, destroys or half-writes a run, a model or
a submission, and reads its input once, in bounded memory.

Every case is one a clumsy or unlucky user can hit. Training is tiny (keras-io's convnet, 1-3 epochs
on the 300-digit ``kaggle_dir`` of conftest.py).
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import pytest

from cnnlearn import cli, data

ROOT = Path(__file__).resolve().parents[1]
TRAIN = ["train", "--fast", "--recipe", "baseline", "--verbose", "0"]


def train(kaggle_dir, out, *extra):
    return cli.main([*TRAIN, "--data-dir", str(kaggle_dir), "--epochs", "1", "--out", str(out), *extra])


def snapshot(folder):
    """Every file in a folder and its bytes."""
    return {p.name: p.read_bytes() for p in sorted(Path(folder).iterdir()) if p.is_file() and p.name != ".lock"}


def refused(args, capsys, code=2):
    assert cli.main(args) == code
    message = capsys.readouterr().err
    assert message.count("\n") <= 3 and "Traceback" not in message, message
    return message


@pytest.fixture(scope="module")
def finished(kaggle_dir, tmp_path_factory):
    """A finished run folder."""
    out = tmp_path_factory.mktemp("runs") / "finished"
    assert train(kaggle_dir, out) == 0
    return out


@pytest.fixture(scope="module")
def model_file(finished):
    return finished / "model.keras"


# --- run folders ---

def test_a_finished_run_records_what_it_is(finished, kaggle_dir):
    run = json.loads((finished / "run.json").read_text())
    assert run["finished"] is True
    assert (run["recipe"], run["seed"], run["epochs"], run["batch_size"]) == ("baseline", 0, 1, 128)
    assert run["data_source"] == "kaggle" and len(run["data_fingerprint"]) == 16 and run["train_digits"] == 270
    assert run["cnnlearn"] == "0.1.0"
    assert not [p for p in finished.iterdir() if "partial" in p.name or p.name == "backup"]


def test_rerunning_a_finished_run_changes_nothing(finished, kaggle_dir, capsys):
    before = snapshot(finished)
    assert train(kaggle_dir, finished) == 0
    assert "already finished" in capsys.readouterr().out
    assert snapshot(finished) == before


@pytest.mark.parametrize("change, named", [
    ({"--seed": "1"}, "seed 0 -> 1"),
    ({"--recipe": "fast"}, "recipe 'baseline' -> 'fast'"),
    ({"--epochs": "2"}, "epochs 1 -> 2"),
    ({"--batch-size": "32"}, "batch_size 128 -> 32"),
])
def test_another_run_into_the_same_folder_is_refused_naming_what_differs(finished, kaggle_dir, capsys, change, named):
    before = snapshot(finished)
    options = {"--recipe": "baseline", "--epochs": "1", "--data-dir": str(kaggle_dir), "--out": str(finished),
               **change}
    message = refused(["train", "--fast", "--verbose", "0", *[x for pair in options.items() for x in pair]], capsys)
    assert named in message and "--restart" in message and "new --out" in message
    assert snapshot(finished) == before


def test_other_data_is_another_run(finished, kaggle_dir, tmp_path, capsys):
    other = tmp_path / "other"
    shutil.copytree(kaggle_dir, other)
    frame = pd.read_csv(other / "train.csv")
    frame.loc[0, "label"] = (frame.loc[0, "label"] + 1) % 10
    frame.to_csv(other / "train.csv", index=False)
    before = snapshot(finished)
    assert "data_fingerprint" in refused([*TRAIN, "--data-dir", str(other), "--epochs", "1", "--out",
                                          str(finished)], capsys)
    assert snapshot(finished) == before


def test_restart_deletes_the_old_run_and_starts_afresh(finished, kaggle_dir, tmp_path):
    out = tmp_path / "again"
    shutil.copytree(finished, out)
    assert train(kaggle_dir, out, "--seed", "3", "--restart") == 0
    assert json.loads((out / "run.json").read_text())["seed"] == 3
    assert pd.read_csv(out / "history.csv")["epoch"].tolist() == [0]


def test_a_folder_of_other_files_is_refused(kaggle_dir, tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine")
    assert "not a cnnlearn run" in refused([*TRAIN, "--data-dir", str(kaggle_dir), "--out", str(tmp_path)], capsys)
    assert [p.name for p in tmp_path.iterdir() if p.name != ".lock"] == ["notes.txt"]


def test_a_second_run_into_a_busy_folder_is_refused_naming_the_holder(kaggle_dir, tmp_path, capsys):
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sys, time
        from cnnlearn import runs
        with runs.lock({str(tmp_path)!r}):
            print("locked", flush=True)
            time.sleep(60)
    """)], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert holder.stdout.readline().strip() == "locked"
        message = refused([*TRAIN, "--data-dir", str(kaggle_dir), "--out", str(tmp_path)], capsys)
        assert f"pid {holder.pid}" in message
        assert not (tmp_path / "history.csv").exists()
    finally:
        holder.kill()
        holder.wait(timeout=30)


def interrupted_at(epoch):
    class Interrupt(keras.callbacks.Callback):
        def on_epoch_begin(self, e, logs=None):
            if e == epoch:
                raise KeyboardInterrupt

    return Interrupt


def test_ctrl_c_then_the_same_command_resumes_to_the_uninterrupted_history(kaggle_dir, tmp_path, capsys,
                                                                          monkeypatch):
    from cnnlearn import runs

    args = [*TRAIN, "--recipe", "seed", "--data-dir", str(kaggle_dir), "--epochs", "3"]
    assert cli.main([*args, "--out", str(tmp_path / "whole")]) == 0
    fit = runs.fit
    with monkeypatch.context() as patch:
        patch.setattr(runs, "fit", lambda *a, **k: fit(*a, **{**k, "callbacks": [interrupted_at(2)()]}))
        assert cli.main([*args, "--out", str(tmp_path / "cut")]) == 130
    assert "to resume" in capsys.readouterr().err
    assert cli.main([*args, "--out", str(tmp_path / "cut")]) == 0
    whole, cut = (pd.read_csv(tmp_path / name / "history.csv") for name in ("whole", "cut"))
    assert cut["epoch"].tolist() == [0, 1, 2]
    pd.testing.assert_frame_equal(cut, whole, rtol=1e-5)


KILLED_WHILE_SAVING = textwrap.dedent("""
    import os, signal, sys
    import cnnlearn
    import keras
    from cnnlearn import cli, runs

    save = keras.Model.save
    saves = []
    best_model = runs._BestModel.on_epoch_end

    def save_every_epoch(self, epoch, logs=None):
        self.best = -1.0
        return best_model(self, epoch, logs)

    runs._BestModel.on_epoch_end = save_every_epoch

    def save_then_die(self, path, *args, **kwargs):
        saves.append(path)
        if len(saves) == 2:  # the second epoch's checkpoint: half written, then the process dies
            with open(path, "wb") as f:
                f.write(b"PK half a zip")
            os.kill(os.getpid(), signal.SIGKILL)
        return save(self, path, *args, **kwargs)

    keras.Model.save = save_then_die
    sys.exit(cli.main(sys.argv[1:]))
""")


def test_sigkill_during_a_save_leaves_the_last_model_whole_and_the_run_resumable(kaggle_dir, tmp_path):
    out = tmp_path / "run"
    args = [*TRAIN, "--data-dir", str(kaggle_dir), "--epochs", "3", "--out", str(out)]
    killed = subprocess.run([sys.executable, "-c", KILLED_WHILE_SAVING, *args], capture_output=True, text=True,
                            cwd=ROOT, timeout=300)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    assert keras.saving.load_model(out / "model.keras").output_shape == (None, 10)  # epoch 1's, intact
    assert pd.read_csv(out / "history.csv")["epoch"].tolist() == [0, 1]
    assert cli.main(args) == 0
    assert pd.read_csv(out / "history.csv")["epoch"].tolist() == [0, 1, 2]
    assert not [p for p in out.iterdir() if "partial" in p.name]


@pytest.fixture
def tiny_disk(tmp_path):
    """A 300 KB tmpfs: too small for a model. Needs root and mount; skipped elsewhere."""
    folder = tmp_path / "disk"
    folder.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=300k", "tmpfs", str(folder)],
                                           capture_output=True).returncode != 0:
        pytest.skip("mounting a tmpfs needs root and mount(8)")
    yield folder
    subprocess.run(["umount", str(folder)], check=False)


def test_a_full_disk_gets_one_message_and_leaves_no_partial_file(kaggle_dir, tiny_disk, capsys):
    out = tiny_disk / "run"
    message = refused([*TRAIN, "--data-dir", str(kaggle_dir), "--epochs", "1", "--out", str(out)], capsys, code=3)
    assert "No space left on device" in message
    assert not [p for p in out.rglob("*") if "partial" in p.name]


def test_a_read_only_folder_gets_one_message(model_file, kaggle_dir, tiny_disk, capsys):
    subprocess.run(["mount", "-o", "remount,ro", str(tiny_disk)], check=True)
    message = refused(["predict", "--model", str(model_file), "--input", str(kaggle_dir / "test.csv"), "--out",
                       str(tiny_disk / "submission.csv")], capsys, code=3)
    assert "Read-only file system" in message and str(tiny_disk) in message


# --- reading input ---

def test_input_from_process_substitution(model_file, kaggle_dir, tmp_path):
    expected = tmp_path / "from_file.csv"
    assert cli.main(["predict", "--model", str(model_file), "--input", str(kaggle_dir / "test.csv"),
                     "--out", str(expected)]) == 0
    script = (f"{sys.executable} -m cnnlearn predict --model {model_file} --input <(gzip -c {kaggle_dir}/test.csv) "
              f"--out {tmp_path / 'from_pipe.csv'}")
    result = subprocess.run(["bash", "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert (tmp_path / "from_pipe.csv").read_text() == expected.read_text()


def test_a_pipe_that_sends_the_header_first_and_the_rows_later(model_file, kaggle_dir, tmp_path):
    lines = (kaggle_dir / "test.csv").read_text().splitlines(keepends=True)
    fifo = tmp_path / "test.csv"
    os.mkfifo(fifo)

    def writer():
        with open(fifo, "w") as f:
            f.write(lines[0])
            f.flush()
            time.sleep(0.5)
            f.writelines(lines[1:])

    thread = threading.Thread(target=writer)
    thread.start()
    assert cli.main(["predict", "--model", str(model_file), "--input", str(fifo), "--out",
                     str(tmp_path / "submission.csv")]) == 0
    thread.join(timeout=30)
    assert len(data.read_submission(tmp_path / "submission.csv", expected_rows=len(lines) - 1)) == 40


def test_a_pipe_with_no_writer_says_what_it_waits_for(model_file, tmp_path):
    fifo = tmp_path / "test.csv"
    os.mkfifo(fifo)
    waiting = subprocess.Popen([sys.executable, "-m", "cnnlearn", "predict", "--model", str(model_file), "--input",
                                str(fifo), "--out", str(tmp_path / "s.csv")], stderr=subprocess.PIPE, text=True,
                               cwd=ROOT)
    try:
        line = waiting.stderr.readline()  # printed after 2 s of waiting
        assert "waiting for data" in line and str(fifo) in line
    finally:
        waiting.kill()
        waiting.wait(timeout=30)


def test_endless_input_is_refused_not_read_until_memory_runs_out(model_file, tmp_path, capsys):
    message = refused(["predict", "--model", str(model_file), "--input", "/dev/zero", "--out",
                       str(tmp_path / "s.csv")], capsys)
    assert "longer than 65,536 characters" in message
    long_row = tmp_path / "long.csv"
    long_row.write_text(",".join(data.PIXEL_COLUMNS) + "\n" + "0," * 40_000 + "0\n")
    assert "line 2 is longer" in refused(["predict", "--model", str(model_file), "--input", str(long_row), "--out",
                                          str(tmp_path / "s.csv")], capsys)


@pytest.mark.parametrize("delimiter, name", [(";", "semicolons"), ("\t", "tabs")])
def test_a_wrong_delimiter_is_named_in_a_short_message(model_file, tmp_path, capsys, delimiter, name):
    path = tmp_path / "test.csv"
    path.write_text(delimiter.join(data.PIXEL_COLUMNS) + "\n" + delimiter.join(["0"] * 784) + "\n")
    message = refused(["predict", "--model", str(model_file), "--input", str(path), "--out",
                       str(tmp_path / "s.csv")], capsys)
    assert name in message and len(message) < 400


# --- writing output ---

@pytest.mark.parametrize("target", ["input", "model"])
def test_out_may_not_be_an_input(model_file, kaggle_dir, tmp_path, capsys, target):
    model, test = tmp_path / "model.keras", tmp_path / "test.csv"
    shutil.copy(model_file, model)
    shutil.copy(kaggle_dir / "test.csv", test)
    before = (model.read_bytes(), test.read_bytes())
    out = test if target == "input" else model
    assert "is also an input" in refused(["predict", "--model", str(model), "--input", str(test), "--out", str(out)],
                                         capsys)
    assert (model.read_bytes(), test.read_bytes()) == before


def test_predict_on_a_labelled_file_suggests_evaluate(model_file, kaggle_dir, tmp_path, capsys):
    message = refused(["predict", "--model", str(model_file), "--input", str(kaggle_dir / "train.csv"), "--out",
                       str(tmp_path / "s.csv")], capsys)
    assert "'label' column" in message and "cnnlearn evaluate" in message
    assert not (tmp_path / "s.csv").exists()


# --- models ---

@pytest.mark.parametrize("build, shapes", [
    (lambda: keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(5)]),
     "(None, 5)"),
    (lambda: keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(1)]),
     "(None, 1)"),
    (lambda: keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Flatten(), keras.layers.Dense(10)]),
     "(None, 32, 32, 3)"),
])
@pytest.mark.parametrize("command", ["predict", "evaluate"])
def test_a_model_of_the_wrong_shape_is_refused_with_its_shapes(kaggle_dir, tmp_path, capsys, build, shapes,
                                                              command):
    build().save(tmp_path / "odd.keras")
    args = [command, "--model", str(tmp_path / "odd.keras"), "--input",
            str(kaggle_dir / ("test.csv" if command == "predict" else "train.csv"))]
    message = refused(args + (["--out", str(tmp_path / "s.csv")] if command == "predict" else []), capsys)
    assert shapes in message and "(None, 28, 28, 1)" in message and "\x1b[" not in message
    assert not (tmp_path / "s.csv").exists()


def test_an_unreadable_model_says_permission_denied(model_file, kaggle_dir, tmp_path):
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root to run the command as another user")
    folder = Path(tempfile.mkdtemp(prefix="cnnlearn-"))  # under /tmp, which every user may enter
    try:
        folder.chmod(0o777)
        shutil.copy(model_file, folder / "model.keras")
        shutil.copy(kaggle_dir / "test.csv", folder / "test.csv")
        (folder / "model.keras").chmod(0o600)  # root's alone
        result = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", sys.executable,
                                 "-m", "cnnlearn", "predict", "--model", str(folder / "model.keras"), "--input",
                                 str(folder / "test.csv"), "--out", str(folder / "s.csv")], capture_output=True,
                                text=True, cwd=ROOT, timeout=120,
                                env={**os.environ, "HOME": str(folder), "MPLCONFIGDIR": str(folder)})
    finally:
        shutil.rmtree(folder)
    if "Permission denied" in result.stderr and "python" in result.stderr.lower() and result.returncode == 1:
        pytest.skip("the interpreter itself is not readable by another user here")
    assert result.returncode == 2, result.stderr[-2000:]
    assert "permission denied" in result.stderr and "File not found" not in result.stderr


# --- arguments ---

@pytest.mark.parametrize("flag, value", [("--epochs", "0"), ("--epochs", "-1"), ("--batch-size", "0"),
                                         ("--batch-size", "-5"), ("--seed", "-1"), ("--seed", str(2**40))])
def test_out_of_range_arguments_are_refused_before_anything_is_made(tmp_path, capsys, flag, value):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["train", flag, value, "--out", str(tmp_path / "run")])
    assert exit_info.value.code == 2
    assert flag in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_a_training_file_too_small_to_split(tmp_path, capsys, sample):
    frame = pd.DataFrame(sample[0][::500].reshape(10, -1), columns=data.PIXEL_COLUMNS)  # one digit per class
    frame.insert(0, "label", sample[1][::500])
    frame.to_csv(tmp_path / "train.csv", index=False)
    message = refused([*TRAIN, "--data-dir", str(tmp_path), "--out", str(tmp_path / "run")], capsys)
    assert "too few" in message


def test_ctrl_c_during_start_up_exits_130_quietly(kaggle_dir, tmp_path):
    process = subprocess.Popen([sys.executable, "-m", "cnnlearn", *TRAIN, "--data-dir", str(kaggle_dir), "--out",
                                str(tmp_path / "run")], stderr=subprocess.PIPE, text=True, cwd=ROOT,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # as a shell starts it
    time.sleep(1.5)  # importing TensorFlow and reading the data
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr


def test_exit_codes_are_documented_in_help(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    text = capsys.readouterr().out
    for code in ("0 ", "2 ", "3 ", "130 "):
        assert f"\n  {code}" in text


def test_predict_averages_several_models(model_file, kaggle_dir, tmp_path):
    from cnnlearn import evaluate

    second = tmp_path / "second.keras"
    training_model = keras.saving.load_model(model_file)
    training_model.layers[-1].set_weights([w * 0.5 for w in training_model.layers[-1].get_weights()])
    training_model.save(second)
    out = tmp_path / "submission.csv"
    assert cli.main(["predict", "--model", str(model_file), "--model", str(second), "--tta", "--input",
                     str(kaggle_dir / "test.csv"), "--out", str(out)]) == 0
    images, _ = data.load_kaggle_csv(kaggle_dir / "test.csv")
    mean = sum(evaluate.predict_proba(keras.saving.load_model(m), images, tta=True) for m in (model_file, second)) / 2
    np.testing.assert_array_equal(data.read_submission(out, expected_rows=40), mean.argmax(axis=1))


def test_an_ensemble_with_one_mismatched_model_is_refused(model_file, kaggle_dir, tmp_path, capsys):
    keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(5)]).save(
        tmp_path / "five.keras")
    message = refused(["predict", "--model", str(model_file), "--model", str(tmp_path / "five.keras"), "--input",
                       str(kaggle_dir / "test.csv"), "--out", str(tmp_path / "s.csv")], capsys)
    assert "five.keras" in message and "(None, 5)" in message
    assert not (tmp_path / "s.csv").exists()
