"""benchmarks/framing.py: keypoint summaries measure where the eyes and mouth sit, as fractions of the side."""

import runpy
from pathlib import Path

import numpy as np

FRAMING = runpy.run_path(str(Path(__file__).resolve().parents[1] / "benchmarks" / "framing.py"))


def test_summary_averages_the_faces_found_and_skips_the_others():
    # right eye, left eye, nose tip, mouth centre, right ear, left ear
    face = np.array([[0.3, 0.4], [0.7, 0.4], [0.5, 0.6], [0.5, 0.8], [0.1, 0.5], [0.9, 0.5]])
    lower = face + [0.0, 0.1]
    result = FRAMING["summary"]([face, None, lower])
    assert result["faces_measured"] == 2
    assert result["eye_centre_x"] == 0.5 and result["eye_centre_y"] == 0.45
    assert result["eye_distance"] == 0.4 and result["mouth_y"] == 0.85
    assert result["eye_to_mouth"] == 0.4
