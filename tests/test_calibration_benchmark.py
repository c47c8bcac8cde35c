"""benchmarks/calibration.py: each method recalibrates a frozen model, and the table shows every method."""

import runpy
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

CALIBRATION = runpy.run_path(str(Path(__file__).resolve().parents[1] / "benchmarks" / "calibration.py"))


def test_recalibrating_keeps_the_model_frozen_and_temperature_keeps_its_predictions():
    X, y = make_classification(n_samples=300, n_classes=3, n_informative=4, random_state=0)
    model = LogisticRegression(C=100.0).fit(X[:150], y[:150])
    coef = model.coef_.copy()
    for method in CALIBRATION["METHODS"]:
        calibrated = CALIBRATION["recalibrate"](model, X[150:], y[150:], method)
        if calibrated is None:
            assert method == "temperature" and CALIBRATION["_sklearn_release"]() < (1, 8)
            continue
        assert np.array_equal(model.coef_, coef)
        assert np.allclose(calibrated.predict_proba(X).sum(axis=1), 1.0)
        if method == "temperature":
            assert np.array_equal(calibrated.predict(X), model.predict(X))
            assert CALIBRATION["fitted_temperature"](calibrated) > 0


def test_markdown_has_a_row_per_method_and_says_which_are_unavailable():
    entry = {"accuracy": 0.6874, "confidence": 0.6712, "ece": 0.01456, "log_loss": 0.90123, "fit_seconds": 2.04}
    result = {"date": "2026-12-07", "command": "python benchmarks/calibration.py", "model": "crop_cosine_k3_relu",
              "seed": 0, "calibration_faces": 1794, "evaluation_faces": 1795,
              "machine": {"cpu": "AMD EPYC", "cpu_flags": ["avx2"]}, "versions": {"scikit-learn": "1.7.2"},
              "methods": {"none": entry, "sigmoid": entry, "temperature": None}}
    text = CALIBRATION["markdown"](result)
    assert "| none | 68.74% | 67.12% | 0.0146 | 0.9012 |  |" in text
    assert "| sigmoid | 68.74% | 67.12% | 0.0146 | 0.9012 | 2.0 s |" in text
    assert "| temperature | | | | | not in scikit-learn 1.7.2 |" in text
    assert "on 1794 PublicTest faces, scored on the other 1795" in text


@pytest.mark.parametrize("release", [(1, 7), (1, 8)])
def test_temperature_needs_scikit_learn_1_8(monkeypatch, release):
    recalibrate = CALIBRATION["recalibrate"]
    monkeypatch.setitem(recalibrate.__globals__, "_sklearn_release", lambda: release)
    X, y = make_classification(n_samples=80, random_state=0)
    calibrated = recalibrate(LogisticRegression().fit(X, y), X, y, "temperature")
    assert (calibrated is None) == (release < (1, 8))
