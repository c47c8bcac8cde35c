import json
import subprocess
import sys

import numpy as np
import pytest

from skfer.cli import main


def test_help_explains_each_command():
    out = subprocess.run(
        [sys.executable, "-m", "skfer.cli", "--help"], capture_output=True, text=True, check=True
    ).stdout
    for command in ("train", "evaluate", "predict"):
        assert command in out


def test_train_then_evaluate_writes_pipeline_and_metrics(fer_dir, tmp_path, capsys):
    out = tmp_path / "run"
    main(["train", "--data", str(fer_dir), "--epochs", "1", "--subset", "300", "--output", str(out)])
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["split"] == "PublicTest" and metrics["train_split"] == "Training"
    assert metrics["n_rows"] == 75 and metrics["epochs_run"] == 1
    assert set(metrics["per_class"]) == {"Angry", "Disgust", "Fear", "Happy", "Sad", "Surprise", "Neutral"}
    assert 0 <= metrics["accuracy"] <= 1 and "macro_f1" in metrics
    from skfer._hardware import native_bfloat16

    # bfloat16 only where the CPU computes it natively (else it is emulated, slower).
    expected_dtype = "bfloat16" if native_bfloat16() else "float32"
    assert metrics["classifier_params"]["train_dtype"] == expected_dtype
    assert metrics["best_epoch"] == 1 and metrics["fit_seconds"] == pytest.approx(metrics["seconds_per_epoch"], abs=0.1)
    assert metrics["fit_seconds"] > 0
    assert metrics["versions"][metrics["backend"]]
    history = json.loads((out / "history.json").read_text())
    assert len(history["val_accuracy"]) == len(history["epoch_seconds"]) == 1
    for name in ("pipeline.joblib", "model.keras", "confusion_matrix.png", "roc.png", "history.png"):
        assert (out / name).is_file()
    assert "PublicTest: accuracy" in capsys.readouterr().out
    _check_results_table_row(out, metrics)

    report = tmp_path / "eval"
    main(["evaluate", str(out / "pipeline.joblib"), "--data", str(fer_dir), "--output", str(report)])
    evaluated = json.loads((report / "metrics.json").read_text())
    assert evaluated["n_rows"] == 3589 and evaluated["split"] == "PublicTest"


def _check_results_table_row(run, metrics):
    """benchmarks/results_table.py fills every column from the report the main job wrote."""
    import importlib.util
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "benchmarks" / "results_table.py"
    spec = importlib.util.spec_from_file_location("results_table", script)
    table = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(table)
    metrics_with_run = {**metrics, "accuracy_by_tta": {"none": metrics["accuracy"], "flip": 0.5},
                        "command": "skfer train"}
    (run / "metrics.json").write_text(json.dumps(metrics_with_run))
    row = table.run_row(run)
    assert all(row), dict(zip(table.COLUMNS, row))
    assert row[table.COLUMNS.index("epochs (best)")] == "1 (1)"
    assert row[table.COLUMNS.index("software")].startswith("Keras 3.")


def test_predict_writes_one_row_per_face(tmp_path, capsys):
    skimage = pytest.importorskip("skimage")
    import cv2
    import joblib
    import numpy as np

    from skfer import FERClassifier, make_fer_pipeline

    from .conftest import TINY

    rng = np.random.default_rng(0)
    pipe = make_fer_pipeline(FERClassifier(**TINY, random_state=0))
    pipe.fit(rng.integers(0, 256, (14, 2304)).astype(np.float32), np.arange(14) % 7)
    joblib.dump(pipe, tmp_path / "pipe.joblib")
    cv2.imwrite(str(tmp_path / "astronaut.png"), skimage.data.astronaut()[:, :, ::-1])
    out = tmp_path / "faces.json"
    main(["predict", str(tmp_path / "astronaut.png"), "--model", str(tmp_path / "pipe.joblib"), "-o", str(out)])
    rows = json.loads(out.read_text())
    assert len(rows) == 1 and rows[0]["emotion"] in {"Angry", "Disgust", "Fear", "Happy", "Sad", "Surprise", "Neutral"}
    assert "1 faces in 1 files" in capsys.readouterr().err


@pytest.fixture(scope="module")
def onnx_model(tmp_path_factory):
    """A tiny pipeline saved with joblib, exported by 'skfer export'."""
    import joblib
    import numpy as np

    from skfer import FERClassifier, make_fer_pipeline

    from .conftest import TINY

    folder = tmp_path_factory.mktemp("model")
    rng = np.random.default_rng(0)
    pipe = make_fer_pipeline(FERClassifier(**TINY, random_state=0))
    pipe.fit(rng.integers(0, 256, (14, 2304)).astype(np.float32), np.arange(14) % 7)
    joblib.dump(pipe, folder / "pipe.joblib")
    done = _skfer("export", folder / "pipe.joblib", "-o", folder / "tiny.onnx")
    assert done.returncode == 0, done.stderr
    assert "Wrote" in done.stderr and (folder / "tiny.onnx").is_file()
    return folder / "tiny.onnx"


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    """The astronaut, a rocket (no face) and a file that is not an image."""
    skimage = pytest.importorskip("skimage")
    import cv2

    folder = tmp_path_factory.mktemp("photos")
    for name, rgb in {"astronaut.png": skimage.data.astronaut(), "rocket.jpg": skimage.data.rocket()}.items():
        cv2.imwrite(str(folder / name), rgb[:, :, ::-1])
    (folder / "broken.png").write_text("not an image")
    return folder


def test_predict_lists_every_file_with_a_status_in_clean_json(onnx_model, photos, tmp_path):
    out = tmp_path / "faces.json"
    files = [photos / "astronaut.png", photos / "rocket.jpg", photos / "broken.png"]

    done = _skfer("predict", *files, "--model", onnx_model, "-o", out)

    assert done.returncode == 0, done.stderr
    text = out.read_text()
    assert "\\/" not in text  # slashes are not escaped
    rows = json.loads(text)
    assert [(row["file"], row["status"]) for row in rows] == [
        (str(files[0]), "ok"), (str(files[1]), "no face"), (str(files[2]), "unreadable")
    ]
    assert rows[1]["emotion"] is None and rows[2]["Happy"] is None
    assert "broken.png" in rows[2]["reason"] and rows[0]["reason"] == ""  # the reason, in the file itself
    probabilities = [rows[0][name] for name in ("Angry", "Disgust", "Fear", "Happy", "Sad", "Surprise", "Neutral")]
    assert sum(probabilities) == pytest.approx(1, abs=1e-3)
    assert all(round(p, 4) == p for p in probabilities)
    assert "3/3 files, " in done.stderr and "files/s, 1 face\n" in done.stderr
    assert "1 faces in 3 files; 1 without a face; 1 unreadable or failed" in done.stderr


def test_predict_csv_rounds_probabilities_and_quiet_prints_only_the_table(onnx_model, photos):
    done = _skfer("predict", photos / "astronaut.png", "--model", onnx_model, "-q")

    assert done.returncode == 0 and done.stderr == ""
    header, row = done.stdout.splitlines()
    values = dict(zip(header.split(","), row.split(",")))
    assert values["status"] == "ok" and 0.5 < float(values["score"]) <= 1
    for name in ("Angry", "Happy", "Neutral"):
        assert len(values[name].partition(".")[2]) <= 4


def test_predict_passes_the_detector_options(onnx_model, photos):
    done = _skfer("predict", photos / "astronaut.png", "--model", onnx_model, "--min-confidence", "0.99")

    assert done.returncode == 0
    assert ",no face,the detector found no face (FaceDetector(min_confidence=0.99))" in done.stdout.splitlines()[1]


def test_predict_exits_1_when_no_file_could_be_read(onnx_model, photos, tmp_path):
    done = _skfer("predict", photos / "broken.png", tmp_path / "missing.png", "--model", onnx_model)

    assert done.returncode == 1
    assert "none of the 2 files could be read" in done.stderr
    assert done.stdout.count("unreadable") == 2


def _skfer(*args, **kwargs):
    return subprocess.run(
        [sys.executable, "-m", "skfer.cli", *args], capture_output=True, text=True, **kwargs
    )


def test_help_is_fast_and_free_of_tensorflow_log_lines():
    import time

    start = time.perf_counter()
    run = _skfer("--help")
    seconds = time.perf_counter() - start
    assert run.returncode == 0 and "train" in run.stdout
    assert run.stderr == ""
    assert seconds < 5  # about 0.1 s here; generous for a loaded CI machine
    version = _skfer("--version")
    assert version.returncode == 0 and version.stdout.startswith("skfer ")


def test_import_skfer_loads_no_keras_or_tensorflow():
    code = "import sys, skfer; skfer.EMOTIONS; print('keras' in sys.modules, 'tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_model_files_that_are_not_pipelines_get_one_line_naming_them(tmp_path, fer_dir):
    (tmp_path / "model.keras").write_bytes(b"PK")
    run = _skfer("evaluate", str(tmp_path / "model.keras"))
    assert run.returncode == 1
    assert "model.keras' holds only the Keras network" in run.stderr and "pipeline.joblib" in run.stderr
    assert "Traceback" not in run.stderr and len(run.stderr.splitlines()) == 2

    (tmp_path / "pipeline.joblib").write_bytes(b"\x80\x04truncated")
    run = _skfer("evaluate", str(tmp_path / "pipeline.joblib"), "--data", str(fer_dir))
    assert run.returncode == 1 and "Could not read the model file" in run.stderr
    assert str(tmp_path / "pipeline.joblib") in run.stderr
    debug = _skfer("--debug", "evaluate", str(tmp_path / "pipeline.joblib"), "--data", str(fer_dir))
    assert "Traceback" in debug.stderr


def test_a_different_run_in_the_same_folder_is_refused_and_restart_starts_over(fer_dir, tmp_path):
    # The README's quick run, then the full one, used to report the quick model as the full run.
    out = str(tmp_path / "run")
    common = ("--data", str(fer_dir), "--output", out, "-q")
    assert main(["train", *common, "--epochs", "1", "--subset", "300"]) == 0
    quick = json.loads((tmp_path / "run" / "metrics.json").read_text())
    run = _skfer("train", *common, "--epochs", "1", "--subset", "350")
    assert run.returncode == 1
    assert "300 training faces in the checkpoint, 350 now" in run.stderr and "--restart" in run.stderr
    assert main(["train", *common, "--epochs", "1", "--subset", "350", "--restart"]) == 0
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["train_rows"] == 350 != quick["train_rows"]


def test_ctrl_c_during_training_says_how_to_resume(fer_dir, tmp_path):
    import signal
    import time

    out = tmp_path / "run"
    # Ctrl-C reaches the run even where this suite runs in the background: a shell starts
    # background jobs with SIGINT ignored, children inherit that, and Python then keeps it ignored.
    run = subprocess.Popen(
        [sys.executable, "-m", "skfer.cli", "train", "--data", str(fer_dir), "--output", str(out),
         "--epochs", "50", "--subset", "400"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    state = out / "checkpoint" / "state.json"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and not state.exists():
        time.sleep(0.2)
    run.send_signal(signal.SIGINT)
    _, err = run.communicate(timeout=120)
    assert run.returncode == 130
    assert "interrupted after epoch" in err and "of 50; run the same command to resume" in err
    assert "Traceback" not in err


def test_export_int8_calibrates_on_training_faces(onnx_model, fer_dir, tmp_path):
    from skfer.inference._onnx import ONNXEmotionPredictor

    pipe = onnx_model.parent / "pipe.joblib"
    out = tmp_path / "tiny-int8.onnx"
    done = _skfer("export", pipe, "-o", out, "--int8", "--calibration", "64", "--data", fer_dir)

    assert done.returncode == 0, done.stderr
    assert ONNXEmotionPredictor(out).fit().precision_ == "int8"


def test_predict_output_dash_means_standard_output(capsys, tmp_path, monkeypatch):
    import pandas as pd

    from skfer.cli import _write_table

    monkeypatch.chdir(tmp_path)
    _write_table(pd.DataFrame({"file": ["a.png"], "Happy": [0.91234]}), "-")
    assert capsys.readouterr().out.splitlines() == ["file,Happy", "a.png,0.9123"]
    assert not (tmp_path / "-").exists()


def test_missing_data_or_model_is_refused_before_keras_is_imported(tmp_path):
    # A fresh interpreter: the check must come before the heavy imports.
    out = tmp_path / "run"
    code = (
        "import sys; from skfer.cli import main; code = main(sys.argv[1:]); "
        "assert 'keras' not in sys.modules and 'tensorflow' not in sys.modules, 'imported'; sys.exit(code)"
    )
    for args in (["train", "--data", str(tmp_path / "nonexistent"), "--output", str(out)],
                 ["evaluate", str(tmp_path / "missing.joblib"), "--data", str(tmp_path / "nonexistent")],
                 ["predict", "photo.jpg", "--model", str(tmp_path / "missing.joblib")]):
        run = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True)
        assert run.returncode == 1, run.stderr
        assert "nonexistent" in run.stderr or "missing.joblib" in run.stderr
    assert not out.exists()  # no output folder, no stray lock


def test_predict_with_the_shipped_model_does_not_import_tensorflow(tmp_path):
    import cv2
    from skimage import data

    photo = tmp_path / "astronaut.png"
    cv2.imwrite(str(photo), cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR))
    code = (
        "import sys; from skfer.cli import main; code = main(sys.argv[1:]); "
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, 'imported'; sys.exit(code)"
    )
    for quiet in (["-q"], []):  # with its progress lines too
        run = subprocess.run([sys.executable, "-c", code, "predict", str(photo), *quiet], capture_output=True,
                             text=True)
        assert run.returncode == 0, run.stderr
        assert ",Happy," in run.stdout  # the same engine load_pretrained() predicts with


def test_serve_without_the_serve_extra_says_how_to_install_it(monkeypatch, capsys):
    import importlib.util

    # Only fastapi is missing, whether or not the rest of the extra is installed here.
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "fastapi" else object())
    assert main(["serve", "--port", "0"]) == 1
    assert 'and fastapi is not installed: pip install "skfer[serve]"' in capsys.readouterr().err


def test_predict_explain_blends_the_maps_in_without_tensorflow(photos, tmp_path):
    import cv2

    code = (
        "import sys; from skfer.cli import main; code = main(sys.argv[1:]); "
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, 'imported'; sys.exit(code)"
    )
    photo = photos / "astronaut.png"
    runs = {
        flag: subprocess.run([sys.executable, "-c", code, "predict", str(photo), flag, str(tmp_path / flag), "-q"],
                             capture_output=True, text=True)
        for flag in ("--explain", "--annotate")
    }
    for run in runs.values():
        assert run.returncode == 0, run.stderr
    header, row = runs["--explain"].stdout.splitlines()
    assert "saliency" not in header and ",Happy," in row  # the table is the same, the maps go into the images
    assert runs["--explain"].stdout == runs["--annotate"].stdout
    explained = cv2.imread(str(tmp_path / "--explain" / "astronaut.png")).astype(int)
    annotated = cv2.imread(str(tmp_path / "--annotate" / "astronaut.png")).astype(int)
    changed = np.flatnonzero(np.abs(explained - annotated).sum(axis=2).any(axis=0))
    values = dict(zip(header.split(","), row.split(",")))
    left, width = int(values["x"]), int(values["w"])
    assert len(changed) > width / 2 and left - width / 2 < changed.min() and changed.max() < left + 1.5 * width


def test_predict_explain_with_gradcam_loads_the_keras_model(photos, tmp_path, capsys):
    import cv2

    assert main(["predict", str(photos / "astronaut.png"), "--explain", str(tmp_path), "--explain-method",
                 "gradcam", "-q"]) == 0
    assert ",Happy," in capsys.readouterr().out
    assert cv2.imread(str(tmp_path / "astronaut.png")).shape == (512, 512, 3)


def test_predict_explain_options_that_cannot_act_are_refused(onnx_model, photos, tmp_path):
    photo = photos / "astronaut.png"
    gradcam = _skfer("predict", photo, "--model", onnx_model, "--explain", tmp_path, "--explain-method", "gradcam")
    assert gradcam.returncode == 1
    assert "needs a Keras classifier" in gradcam.stderr and "ONNXEmotionPredictor has no Keras network" in gradcam.stderr
    alone = _skfer("predict", photo, "--model", onnx_model, "--explain-method", "occlusion")
    assert alone.returncode == 1 and "give --explain DIR too" in alone.stderr
    both = _skfer("predict", photo, "--annotate", tmp_path / "a", "--explain", tmp_path / "b")
    assert both.returncode == 2 and "not allowed with argument" in both.stderr


@pytest.mark.parametrize("value", ["nan", "inf"])
def test_serve_limits_must_be_finite_numbers(value, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["serve", "--max-file-mb", value])
    assert exit_.value.code == 2 and f"{value} is not within" in capsys.readouterr().err
