"""Does FaceDetector frame a photo's face the way FER2013 frames its faces?

The network learnt FER2013's framing: where the eyes and the mouth sit in
the 48x48 square. A detector's crop that is tighter or looser moves them,
and ``benchmarks/robustness.py`` shows what a tighter crop costs. Here the
same keypoint detector (BlazeFace, through ``FaceDetector``) measures both:

* FER2013: PublicTest faces, each enlarged 4x and padded (so BlazeFace sees
  a whole face in a frame), keypoints mapped back to the 48x48 square;
* FaceDetector's crops: the faces of scikit-image's LFW subset (enlarged and
  padded as ``benchmarks/faces.py`` does), cropped by ``FaceDetector()``
  with its defaults, then measured exactly like the FER2013 faces.

Positions are fractions of the square's side. The eye distance sets the
scale: if the crops' eyes are farther apart than FER2013's, the crop is
tighter, and the margin that would match is reported
(``side = max(w, h) * (1 + 2 * margin)``, so ``1 + 2 * margin`` scales with
the eye-distance ratio). Results: ``benchmarks/results/framing.json`` and
``framing.md``.

Examples
--------
::

    python benchmarks/framing.py
"""

import argparse
import datetime
import json
import os
import shlex
import sys
import warnings
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from skfer import load_fer2013  # noqa: E402
from skfer.experiments import machine, versions  # noqa: E402
from skfer.preprocessing import FaceDetector, to_pixel_array  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "fer2013"
RESULTS = ROOT / "benchmarks" / "results"
SCALE, PAD = 4, 48  # a 48x48 face becomes 192x192 inside a 288x288 frame


def square_keypoints(faces, detector):
    """BlazeFace keypoints of 48x48 faces, as fractions of the side; None where no face is found."""
    frames = [
        cv2.copyMakeBorder(cv2.resize(f, (48 * SCALE,) * 2, interpolation=cv2.INTER_CUBIC),
                           PAD, PAD, PAD, PAD, cv2.BORDER_REPLICATE)
        for f in faces
    ]
    found = {}
    with warnings.catch_warnings():  # "No face found": counted in faces_measured instead
        warnings.simplefilter("ignore", UserWarning)
        detected = detector.detect(frames)
    for face in detected:
        if face.source not in found and len(face.keypoints):  # the most confident face of each frame
            found[face.source] = (np.asarray(face.keypoints, dtype=float) - PAD) / (48 * SCALE)
    return [found.get(i) for i in range(len(faces))]


def summary(points):
    """Mean eye, mouth and nose positions and the eye distance over the faces measured."""
    points = np.stack([p for p in points if p is not None])
    names = FaceDetector.KEYPOINTS
    at = {name: points[:, i] for i, name in enumerate(names)}
    eyes = (at["right_eye"] + at["left_eye"]) / 2
    distance = np.linalg.norm(at["left_eye"] - at["right_eye"], axis=1)
    return {
        "faces_measured": int(len(points)),
        "eye_centre_x": round(float(eyes[:, 0].mean()), 4),
        "eye_centre_y": round(float(eyes[:, 1].mean()), 4),
        "eye_distance": round(float(distance.mean()), 4),
        "nose_y": round(float(at["nose_tip"][:, 1].mean()), 4),
        "mouth_y": round(float(at["mouth_centre"][:, 1].mean()), 4),
        "eye_to_mouth": round(float((at["mouth_centre"][:, 1] - eyes[:, 1]).mean()), 4),
    }


def lfw_photos():
    """LFW subset's 100 faces, enlarged 4x to 100 px and padded by 30 px (as benchmarks/faces.py)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from faces import lfw_images

    return lfw_images()[0]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=os.environ.get("SKFER_DATA") or DEFAULT_DATA,
                        help="FER2013 CSV or its folder (default: ../shared/data/fer2013)")
    parser.add_argument("--faces", type=int, default=1000, help="PublicTest faces measured (default: 1000)")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    measuring = FaceDetector(min_confidence=0.5, align=False)
    data = load_fer2013(args.data, usage="PublicTest")
    fer = to_pixel_array(data.data[: args.faces]).reshape(-1, 48, 48).astype(np.uint8)
    fer_summary = summary(square_keypoints(fer, measuring))

    cropper = FaceDetector()  # the defaults, as skfer predict and predict_images crop
    crops = [face.image for face in cropper.detect(lfw_photos())]
    crop_summary = summary(square_keypoints(crops, measuring))

    ratio = crop_summary["eye_distance"] / fer_summary["eye_distance"]
    matching_margin = ((1 + 2 * cropper.margin) * ratio - 1) / 2
    result = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "command": shlex.join(["python", "benchmarks/framing.py", *(argv if argv is not None else sys.argv[1:])]),
        "machine": machine(),
        "versions": versions(),
        "fer2013_publictest": fer_summary,
        "facedetector_crops_of_lfw": {**crop_summary, "photos": 100, "faces_cropped": len(crops),
                                      "margin": cropper.margin},
        "eye_distance_ratio": round(ratio, 3),
        "margin_matching_fer2013": round(matching_margin, 3),
    }
    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / "framing.json").write_text(json.dumps(result, indent=2) + "\n")
    rows = ["eye_centre_x", "eye_centre_y", "eye_distance", "nose_y", "mouth_y", "eye_to_mouth", "faces_measured"]
    lines = [
        f"# Framing: FaceDetector's crops against FER2013's faces ({result['date']})", "",
        f"Command: `{result['command']}`. Keypoints by BlazeFace on each 48x48 square (enlarged {SCALE}x and "
        "padded), as fractions of the side.", "",
        "| | FER2013 PublicTest | FaceDetector() crops of LFW faces |", "|---|---|---|",
        *[f"| {r} | {fer_summary[r]} | {crop_summary[r]} |" for r in rows], "",
        f"Eye distance ratio (crops / FER2013): {result['eye_distance_ratio']}; the margin that would give "
        f"FER2013's scale: {result['margin_matching_fer2013']} (now {cropper.margin}). The eye height "
        f"differs by {fer_summary['eye_centre_y'] - crop_summary['eye_centre_y']:+.3f} of the side "
        "(positive: the crops put the eyes higher, with less forehead than FER2013).", "",
        "Caveat: the LFW subset's faces are 25x25 patches cut close around the face; their padding repeats "
        "the edge pixels, so the detector sees no real hair or background around them. Photos of whole "
        "heads would measure the detector's framing more faithfully.",
    ]
    (args.output / "framing.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
