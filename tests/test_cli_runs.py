"""Runs you can trust: the ``cnnlearn`` command never mixes, destroys or half-writes a run, a model or
a submission, and reads its input once, in bounded memory.

Every case is one a clumsy or unlucky user can hit. Training is tiny (keras-io's convnet, 1-3 epochs
on the 300-digit ``kaggle_dir`` of conftest.py).
"""

import contextlib
import json
import os
import stat
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
    assert not (finished / ".lock").exists(), "a finished run keeps no lock file (nor a stale pid)"


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
    assert f"no space left on device: {out}/" in message and "partial" not in message
    assert not [p for p in out.rglob("*") if "partial" in p.name]


def test_predict_onto_a_full_disk_names_out_and_leaves_no_partial_file(model_file, kaggle_dir, tiny_disk, capsys):
    with contextlib.suppress(OSError), open(tiny_disk / "filler", "wb", buffering=0) as f:
        while True:  # fill the disk to its last block
            f.write(b"\0" * 4096)
    out = tiny_disk / "submission.csv"
    message = refused(["predict", "--model", str(model_file), "--input", str(kaggle_dir / "test.csv"), "--out",
                       str(out)], capsys, code=3)
    assert f"no space left on device: {out};" in message and "partial" not in message
    assert sorted(p.name for p in tiny_disk.iterdir()) == ["filler"]


def test_a_read_only_folder_gets_one_message(model_file, kaggle_dir, tiny_disk, capsys):
    subprocess.run(["mount", "-o", "remount,ro", str(tiny_disk)], check=True)
    message = refused(["predict", "--model", str(model_file), "--input", str(kaggle_dir / "test.csv"), "--out",
                       str(tiny_disk / "submission.csv")], capsys, code=3)
    assert f"read-only file system: {tiny_disk / 'submission.csv'}" in message and "partial" not in message


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


def predict(model_file, kaggle_dir, out, *extra):
    return ["predict", "--model", str(model_file), "--input", str(kaggle_dir / "test.csv"), "--out", str(out),
            *extra]


def make_device(path, major, minor):
    """A character device made by mknod (as /dev/null is 1,3 and /dev/full 1,7); skip without root."""
    if os.geteuid() != 0:
        pytest.skip("making a character device with mknod needs root")
    try:
        os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(major, minor))
    except PermissionError as e:  # root in a container without CAP_MKNOD
        pytest.skip(f"mknod is not allowed here: {e}")
    return path


def test_out_at_a_character_device_writes_to_it_and_keeps_it(model_file, kaggle_dir, tmp_path, capsys):
    device = make_device(tmp_path / "null", 1, 3)
    assert cli.main(predict(model_file, kaggle_dir, device)) == 0
    assert f"Wrote 40 predictions to {device}" in capsys.readouterr().out
    assert stat.S_ISCHR(device.stat().st_mode), "the device was replaced by a regular file"
    assert [p.name for p in tmp_path.iterdir()] == ["null"]


def test_out_at_a_full_device_exits_3_naming_it(model_file, kaggle_dir, tmp_path, capsys):
    device = make_device(tmp_path / "full", 1, 7)
    message = refused(predict(model_file, kaggle_dir, device), capsys, code=3)
    assert f"no space left on device: {device}" in message and "partial" not in message
    assert stat.S_ISCHR(device.stat().st_mode)
    assert [p.name for p in tmp_path.iterdir()] == ["full"]


def test_out_at_a_fifo_writes_through_it(model_file, kaggle_dir, tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text()))
    reader.start()
    assert cli.main(predict(model_file, kaggle_dir, fifo)) == 0
    reader.join(timeout=30)
    assert len(received[0].splitlines()) == 41 and stat.S_ISFIFO(fifo.stat().st_mode)


def test_out_dash_writes_standard_output(model_file, kaggle_dir, tmp_path, capsys):
    assert cli.main(predict(model_file, kaggle_dir, tmp_path / "s.csv")) == 0
    capsys.readouterr()
    assert cli.main(predict(model_file, kaggle_dir, "-")) == 0
    captured = capsys.readouterr()
    assert captured.out == (tmp_path / "s.csv").read_text()
    assert "Wrote 40 predictions to standard output" in captured.err


def test_input_dash_reads_standard_input(model_file, kaggle_dir, tmp_path):
    assert cli.main(predict(model_file, kaggle_dir, tmp_path / "s.csv")) == 0
    with open(kaggle_dir / "test.csv") as stdin:
        result = subprocess.run([sys.executable, "-m", "cnnlearn", "predict", "--model", str(model_file), "--input",
                                 "-", "--out", "-"], stdin=stdin, capture_output=True, text=True, cwd=ROOT,
                                timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout == (tmp_path / "s.csv").read_text()
    with open(kaggle_dir / "train.csv") as stdin:
        result = subprocess.run([sys.executable, "-m", "cnnlearn", "evaluate", "--model", str(model_file), "--input",
                                 "-"], stdin=stdin, capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "on 300 digits" in result.stdout


def test_a_bad_row_late_in_the_input_leaves_no_submission(model_file, tmp_path, capsys, sample, monkeypatch):
    from cnnlearn import kaggle

    monkeypatch.setattr(kaggle, "CHUNK_ROWS", 8)
    rows = sample[0][:40].reshape(40, -1).astype(str).tolist()
    rows[37][100] = "3.5"
    path = tmp_path / "test.csv"
    path.write_text(",".join(data.PIXEL_COLUMNS) + "\n" + "".join(",".join(r) + "\n" for r in rows))
    (tmp_path / "s.csv").write_text("old")
    message = refused(["predict", "--model", str(model_file), "--input", str(path), "--out", str(tmp_path / "s.csv")],
                      capsys)
    assert "row 38 (line 39), column 'pixel100': pixel value 3.5 is not a whole number" in message
    assert (tmp_path / "s.csv").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.csv", "test.csv"]


def test_predict_holds_a_chunk_at_a_time_and_writes_as_it_goes(model_file, kaggle_dir, tmp_path, monkeypatch):
    """Bounded memory, checked without timing: the model only ever sees one chunk, and each chunk's rows
    are written before the next chunk is read."""
    from cnnlearn import evaluate, kaggle

    monkeypatch.setattr(kaggle, "CHUNK_ROWS", 8)
    seen, written = [], []
    predict_proba = evaluate.predict_proba

    def spy(model, images, **kwargs):
        seen.append(len(images))
        partial = [p for p in tmp_path.iterdir() if p.name.startswith(".s.partial")]
        written.append(len(partial[0].read_text().splitlines()) - 1 if partial else 0)
        return predict_proba(model, images, **kwargs)

    monkeypatch.setattr(evaluate, "predict_proba", spy)
    assert cli.main(predict(model_file, kaggle_dir, tmp_path / "s.csv")) == 0
    assert seen == [8] * 5 and written == [0, 8, 16, 24, 32]
    assert len(data.read_submission(tmp_path / "s.csv", expected_rows=40)) == 40
    seen.clear()
    assert cli.main(["evaluate", "--model", str(model_file), "--input", str(kaggle_dir / "train.csv")]) == 0
    assert seen == [8] * 37 + [4]


CHECKS_BEFORE_TENSORFLOW = textwrap.dedent("""
    import sys
    from cnnlearn import cli
    code = cli.main(sys.argv[1:])
    print("EXIT", code, "TENSORFLOW", "tensorflow" in sys.modules, "KERAS", "keras" in sys.modules)
""")


@pytest.mark.parametrize("case, expected", [
    ("missing out folder", "--out {tmp}/nowhere/s.csv: the folder {tmp}/nowhere does not exist; expected"),
    ("out is a folder", "--out {tmp}: is a folder; expected a file name"),
    ("empty model", "{tmp}/empty.keras: cannot load the model: the file is empty (0 bytes); expected a .keras"),
    ("text model", "{tmp}/text.keras: cannot load the model: the file is corrupt or not a Keras model (it is not "
                   "a zip archive"),
    ("missing model", "{tmp}/none.keras: no such model file; expected a .keras file"),
    ("missing input", "{tmp}/none.csv: no such file; expected Kaggle's train.csv or test.csv"),
    ("labelled input", "{data}/train.csv: has a 'label' column"),
    ("bad header", "{tmp}/bad.csv: header column 1 is 'x'; expected 'pixel0'"),
])
def test_path_checks_come_before_tensorflow_loads(model_file, kaggle_dir, tmp_path, case, expected):
    (tmp_path / "empty.keras").write_bytes(b"")
    (tmp_path / "text.keras").write_text("not a model")
    (tmp_path / "bad.csv").write_text("x,y\n1,2\n")
    model, test, out = str(model_file), str(kaggle_dir / "test.csv"), str(tmp_path / "s.csv")
    args = {"missing out folder": (model, test, str(tmp_path / "nowhere" / "s.csv")),
            "out is a folder": (model, test, str(tmp_path)),
            "empty model": (str(tmp_path / "empty.keras"), test, out),
            "text model": (str(tmp_path / "text.keras"), test, out),
            "missing model": (str(tmp_path / "none.keras"), test, out),
            "missing input": (model, str(tmp_path / "none.csv"), out),
            "labelled input": (model, str(kaggle_dir / "train.csv"), out),
            "bad header": (model, str(tmp_path / "bad.csv"), out)}[case]
    result = subprocess.run([sys.executable, "-c", CHECKS_BEFORE_TENSORFLOW, "predict", "--model", args[0],
                             "--input", args[1], "--out", args[2]], capture_output=True, text=True, cwd=ROOT,
                            timeout=120)
    assert "EXIT 2 TENSORFLOW False KERAS False" in result.stdout, result.stdout + result.stderr[-2000:]
    assert expected.format(tmp=tmp_path, data=kaggle_dir) in result.stderr
    assert "File not found" not in result.stderr and not (tmp_path / "s.csv").exists()


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
