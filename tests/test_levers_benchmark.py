"""benchmarks/fine_tune_levers.py: every lever is a valid FERClassifier setting; the teacher is the shipped models' vote."""

import runpy
from pathlib import Path

import numpy as np
import pytest

from skfer import FERClassifier, load_pretrained

LEVERS = runpy.run_path(str(Path(__file__).resolve().parents[1] / "benchmarks" / "fine_tune_levers.py"))


@pytest.mark.parametrize("lever", sorted(LEVERS["LEVERS"]))
def test_every_lever_is_a_setting_the_classifier_takes(lever):
    clf = FERClassifier().set_params(**LEVERS["LEVERS"][lever])
    clf._check_params()  # an unknown or out-of-range setting raises here, naming it
    assert ("distillation" in LEVERS["LEVERS"][lever]) == (lever in LEVERS["DISTILLED"])


def test_the_teacher_is_the_soft_vote_of_its_models_with_flips():
    faces = np.random.default_rng(0).integers(0, 256, (6, 2304)).astype(np.float32)
    vote = LEVERS["teacher_proba"](faces)
    members = np.stack([load_pretrained(name).set_params(ferclassifier__tta="flip").predict_proba(faces)
                        for name in LEVERS["TEACHER"]])
    assert vote.shape == (6, 7)
    np.testing.assert_allclose(vote.sum(axis=1), 1, atol=1e-5)
    assert np.all(vote >= members.min(axis=0) - 1e-6) and np.all(vote <= members.max(axis=0) + 1e-6)
    assert not any(np.allclose(vote, member) for member in members)


def test_the_table_names_the_teacher_and_every_lever():
    accuracy = {"none": 0.7, "blur": 0.6, "occlusion": 0.5}
    recall = dict.fromkeys(LEVERS["EMOTIONS"], 0.5)
    row = {"accuracy": accuracy, "recall": recall, "ece": 0.0123}
    results = {"command": "c", "date": "d", "machine": {"cpu": "cpu", "cpu_flags": ["avx2"]}, "start": "s",
               "epochs": 3, "training_faces": 10, "learning_rate": 2e-4, "publictest_faces": 5,
               "peak_memory_mb": 1.0, "unseen_shifts": ["occlusion"], "shipped": row,
               "levers": {"distill": row}, "teacher": {"models": ["a", "b"], "publictest_accuracy": 0.7,
                                                       "training_accuracy": 0.85}}
    table = LEVERS["_markdown"](results)
    assert "soft vote of a, b with flips, 70.00% on PublicTest (85.00% on the Training faces" in table
    assert "| distill | 70.00 | 60.00 | 50.00 | 10.00 | 20.00 | 0.012 |" in table
