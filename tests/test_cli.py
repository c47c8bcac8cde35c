import json
import subprocess
import sys

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
    for name in ("pipeline.joblib", "model.keras", "confusion_matrix.png", "roc.png", "history.png"):
        assert (out / name).is_file()
    assert "PublicTest: accuracy" in capsys.readouterr().out

    report = tmp_path / "eval"
    main(["evaluate", str(out / "pipeline.joblib"), "--data", str(fer_dir), "--output", str(report)])
    evaluated = json.loads((report / "metrics.json").read_text())
    assert evaluated["n_rows"] == 3589 and evaluated["split"] == "PublicTest"


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
