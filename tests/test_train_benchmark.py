"""benchmarks/train_fer2013.py: the wall-clock budget stops a run and the report says so."""

import importlib.util
import json
from pathlib import Path

import joblib

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "train_fer2013.py"


def test_time_budget_stops_after_the_first_epoch_and_is_recorded(fer_dir, tmp_path):
    spec = importlib.util.spec_from_file_location("train_fer2013", SCRIPT)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    script.main([
        "--run-name", "budget", "--results", str(tmp_path / "results"), "--output", str(tmp_path / "run"),
        "--data", str(fer_dir), "--subset", "200", "--epochs", "3", "--minutes", "0.001",
        "--param", "architecture__filters=(4,4,4)", "--param", "architecture__dense_units=8",
    ])
    metrics = json.loads((tmp_path / "results" / "budget" / "metrics.json").read_text())
    assert metrics["epochs_run"] == 1 and metrics["classifier_params"]["epochs"] == 3
    assert metrics["stopped_by_time_budget"] is True
    # The budget is among the saved pipeline's callbacks: it must load in another program.
    loaded = joblib.load(tmp_path / "run" / "pipeline.joblib")
    assert type(loaded[-1].callbacks[0]).__module__ == "skfer.estimator._callbacks"
