"""benchmarks/robustness.py: each shift changes the faces as its name says, and the tables show every model."""

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


def test_markdown_has_a_row_per_shift_and_a_column_per_model():
    emotions = ROBUSTNESS["EMOTIONS"]
    entry = {"accuracy": 0.5, "change": -0.02, "recall": {e: 0.5 for e in emotions}}
    by_shift = {"none": {**entry, "change": 0.0}, "blur": entry}
    result = {"date": "2026-12-03", "command": "python benchmarks/robustness.py", "faces": 10,
              "machine": {"cpu": "AMD EPYC", "cpu_flags": ["avx2"]},
              "models": {ROBUSTNESS["DEFAULT_MODEL"]: by_shift, "fer": by_shift}}
    text = ROBUSTNESS["markdown"](result)
    assert f"| shift | {ROBUSTNESS['DEFAULT_MODEL']} | fer |" in text
    assert "| blur | 50.00% (-2.0) | 50.00% (-2.0) |" in text
    assert text.count("| none |") == 2  # the accuracy table and the per-class table


def test_markdown_gives_a_fitted_pipeline_its_own_per_class_table():
    emotions = ROBUSTNESS["EMOTIONS"]
    entry = {"accuracy": 0.5, "change": 0.0, "recall": {e: 0.25 for e in emotions}}
    result = {"date": "2026-12-04", "command": "python benchmarks/robustness.py", "faces": 10,
              "machine": {"cpu": "AMD EPYC", "cpu_flags": ["avx2"]},
              "pipelines": {"robust": "/runs/robust/pipeline.joblib"},
              "models": {ROBUSTNESS["DEFAULT_MODEL"]: {"none": entry}, "robust": {"none": entry}}}
    text = ROBUSTNESS["markdown"](result)
    assert "Per-class recall of `robust` (fitted pipeline `/runs/robust/pipeline.joblib`)" in text
    assert text.count("| none |") == 3


def test_a_pipeline_argument_must_name_an_existing_file(tmp_path):
    saved = tmp_path / "pipeline.joblib"
    saved.write_bytes(b"")
    assert ROBUSTNESS["_named_path"](f"run={saved}") == ("run", saved)
    for bad in ("run", f"={saved}", f"run={tmp_path / 'missing.joblib'}"):
        with pytest.raises(argparse.ArgumentTypeError, match="NAME=PATH|no pipeline file"):
            ROBUSTNESS["_named_path"](bad)
