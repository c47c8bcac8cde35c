"""benchmarks/robustness.py: shifts change the faces as named, marked seen or unseen; tables show every model."""

import argparse
import runpy
from pathlib import Path

import numpy as np
import pytest

ROBUSTNESS = runpy.run_path(str(Path(__file__).resolve().parents[1] / "benchmarks" / "robustness.py"))


def _face():
    """A 48x48 face-like image: a bright disc on a dark background, with a dark spot left of centre."""
    yy, xx = np.mgrid[:48, :48]
    face = np.where((yy - 24) ** 2 + (xx - 24) ** 2 < 18**2, 200, 40).astype(np.uint8)
    face[18:22, 14:18] = 0
    return face


def test_each_shift_keeps_the_shape_and_changes_what_it_names():
    faces = np.stack([_face(), _face()])
    shifted = {name: fn(faces) for name, fn in ROBUSTNESS["shifts"]().items()}
    for name, out in shifted.items():
        assert out.shape == faces.shape and out.dtype == np.uint8, name
    assert np.array_equal(shifted["none"], faces)
    disc = lambda f: (f > 120).mean()  # noqa: E731
    assert disc(shifted["zoom_in"][0]) > disc(faces[0]) > disc(shifted["zoom_out"][0])
    assert shifted["brighter"].mean() > faces.mean() > shifted["darker"].mean()
    assert shifted["more_contrast"].std() > faces.std() > shifted["less_contrast"].std()
    assert shifted["blur"].std() < faces.std()
    spot = lambda f: np.unravel_index(np.argmin(f[:24, :24]), (24, 24))  # noqa: E731
    assert spot(shifted["rotate_left"][0]) != spot(faces[0]) != spot(shifted["rotate_right"][0])
    assert not np.array_equal(shifted["noise"], faces) and not np.array_equal(shifted["jpeg30"], faces)


def test_unseen_shifts_change_what_they_name_and_are_apart_from_the_seen_ones():
    faces = np.stack([_face(), _face()])
    unseen = ROBUSTNESS["unseen_shifts"]()
    assert not set(unseen) & set(ROBUSTNESS["shifts"]())
    shifted = {name: fn(faces) for name, fn in unseen.items()}
    for name, out in shifted.items():
        assert out.shape == faces.shape and out.dtype == np.uint8, name
    changed = shifted["occlusion"] != faces
    assert 0 < changed[0].sum() <= 16 * 16 and np.all(shifted["occlusion"][changed] == 128)
    assert not np.array_equal(changed[0], changed[1])  # each face its own place
    assert np.array_equal(ROBUSTNESS["unseen_shifts"](seed=0)["occlusion"](faces), shifted["occlusion"])
    assert shifted["gamma_0.5"].mean() > faces.mean() > shifted["gamma_2"].mean()
    stripes = np.zeros((1, 48, 48), np.uint8)
    stripes[:, ::2] = 255  # horizontal stripes: a horizontal blur keeps them
    assert np.array_equal(unseen["motion_blur"](stripes), stripes)
    assert unseen["motion_blur"](stripes.transpose(0, 2, 1)).std() < stripes.std() / 2
    assert unseen["downscale24"](stripes).std() < stripes.std() / 2
    jpeg30 = ROBUSTNESS["shifts"]()["jpeg30"](faces)
    error = lambda out: np.abs(out.astype(int) - faces).mean()  # noqa: E731
    assert 0 < error(shifted["jpeg60"]) < error(jpeg30)


def test_measure_marks_each_shift_and_scores_calibration():
    faces = np.stack([_face(), _face(), _face()])
    y = np.array([3, 3, 4])
    proba = np.zeros((3, 7))
    proba[:, 3], proba[:, 4] = 0.8, 0.2  # Happy at 0.8 for all three: two right
    models = {"constant": (lambda shifted: proba, np.arange(7))}
    results = ROBUSTNESS["measure"](faces, y, models)["constant"]
    assert list(results) == [*ROBUSTNESS["shifts"](), *ROBUSTNESS["unseen_shifts"]()]
    assert results["blur"]["seen"] and not results["motion_blur"]["seen"]
    entry = results["occlusion"]
    assert entry["accuracy"] == round(2 / 3, 4) and entry["change"] == 0.0
    assert entry["ece"] == round(0.8 - 2 / 3, 4) and entry["confidence"] == 0.8
    assert entry["log_loss"] == round(-(2 * np.log(0.8) + np.log(0.2)) / 3, 4)
    assert entry["recall"]["Happy"] == 1.0 and entry["recall"]["Sad"] == 0.0


def _entry(**values):
    emotions = ROBUSTNESS["EMOTIONS"]
    return {"accuracy": 0.5, "change": -0.02, "ece": 0.0312, "log_loss": 1.2345, "confidence": 0.6123, "seen": True,
            "recall": {e: 0.5 for e in emotions}, **values}


def test_markdown_has_a_row_per_shift_and_a_column_per_model():
    by_shift = {"none": _entry(change=0.0), "blur": _entry(), "motion_blur": _entry(seen=False, ece=0.1)}
    result = {"date": "2026-12-03", "command": "python benchmarks/robustness.py", "faces": 10,
              "machine": {"cpu": "AMD EPYC", "cpu_flags": ["avx2"]},
              "models": {ROBUSTNESS["DEFAULT_MODEL"]: by_shift, "fer": by_shift}}
    text = ROBUSTNESS["markdown"](result)
    assert f"| shift | set | {ROBUSTNESS['DEFAULT_MODEL']} | fer |" in text
    assert "| blur | seen | 50.00% (-2.0) | 50.00% (-2.0) |" in text
    assert "| motion_blur | unseen | 0.100 / 1.234 / 61.2% | 0.100 / 1.234 / 61.2% |" in text
    assert "| none |  | 0.031 / 1.234 / 61.2% |" in text
    assert text.count("| none |") == 3  # accuracy, calibration and the per-class table


def test_markdown_gives_a_fitted_pipeline_its_own_per_class_table():
    emotions = ROBUSTNESS["EMOTIONS"]
    entry = _entry(change=0.0, recall={e: 0.25 for e in emotions})
    result = {"date": "2026-12-04", "command": "python benchmarks/robustness.py", "faces": 10,
              "machine": {"cpu": "AMD EPYC", "cpu_flags": ["avx2"]},
              "pipelines": {"robust": "/runs/robust/pipeline.joblib"},
              "models": {ROBUSTNESS["DEFAULT_MODEL"]: {"none": entry}, "robust": {"none": entry}}}
    text = ROBUSTNESS["markdown"](result)
    assert "Per-class recall of `robust` (fitted pipeline `/runs/robust/pipeline.joblib`)" in text
    assert text.count("| none |") == 4


def test_a_pipeline_argument_must_name_an_existing_file(tmp_path):
    saved = tmp_path / "pipeline.joblib"
    saved.write_bytes(b"")
    assert ROBUSTNESS["_named_path"](f"run={saved}") == ("run", saved)
    for bad in ("run", f"={saved}", f"run={tmp_path / 'missing.joblib'}"):
        with pytest.raises(argparse.ArgumentTypeError, match="NAME=PATH|no pipeline file"):
            ROBUSTNESS["_named_path"](bad)
