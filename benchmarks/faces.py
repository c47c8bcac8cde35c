"""Measure skfer's face detectors on photographs that scikit-image ships, and on FER2013 faces placed in them.

Every detector runs through :class:`skfer.preprocessing.FaceDetector`:

* ``blazeface`` (at several ``min_confidence`` values), ``haar`` (skfer's
  defaults) and ``haar_fer_settings``: the Haar cascade with the settings of
  the ``fer`` package's Haar path (fer 25.10.3: ``scaleFactor=1.1``,
  ``minNeighbors=5``, ``minSize=50``). ``fer`` itself is not installed: it
  requires facenet-pytorch (PyTorch) and opencv-contrib-python.
* Face-free photos: the real photographs in ``skimage.data`` without a
  person (coffee, chelsea, rocket, ...), and the 100 non-face patches of
  ``skimage.data.lfw_subset()`` (25x25, enlarged 4x and padded): every
  detection is false.
* Real faces: the 100 LFW faces of ``lfw_subset()`` (same treatment), and
  ``astronaut`` and ``camera`` (one face each).
* Placed faces: ``--n`` PublicTest FER2013 faces, each pasted at a random
  size (48-256 px, log-uniform) and place into a 512x512 crop of a
  face-free photo, once upright and once rotated by 30 degrees (random
  sign). A detection is a hit when its box centre lies within 0.35 of the
  face's side from the face's centre and its side is 0.4-1.6 times the
  face's; other detections are false. The pretrained model
  (``skfer.load_pretrained()``) classifies each hit's crop, with and without
  alignment; the faces' own 48x48 pixels give the reference accuracy, and
  each upright face cut back out of its photo at exactly its place and size
  (no detector) tells what the resizing to and from the photo costs.
* Time: each detector's mean time per placed-face photo (512x512), measured
  in the same run so that their ratios hold under load, and the time to
  detect and classify the astronaut photo (median of ``--repeats``).

Results go to ``benchmarks/results/faces.json``.

Example
-------
::

    python benchmarks/faces.py --n 2000   # about 10 minutes on 2 cores
"""

import argparse
import json
import math
import os
import time
import warnings
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from skimage import data  # noqa: E402

from skfer import load_fer2013, load_pretrained  # noqa: E402
from skfer.experiments import machine  # noqa: E402
from skfer.preprocessing import FaceDetector, to_pixel_array  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "fer2013"
FACE_FREE = [
    "brick", "cell", "chelsea", "clock", "coffee", "coins", "grass", "gravel", "hubble_deep_field",
    "immunohistochemistry", "moon", "page", "retina", "rocket", "text",
]
SIZE = 512
ANGLE = 30.0
DETECTORS = {
    "blazeface_conf0.5": {"detector": "blazeface", "min_confidence": 0.5},
    "blazeface": {"detector": "blazeface", "min_confidence": 0.6},
    "blazeface_conf0.7": {"detector": "blazeface", "min_confidence": 0.7},
    "blazeface_tiles2": {"detector": "blazeface", "min_confidence": 0.6, "tiles": 2},
    "blazeface_tiles3": {"detector": "blazeface", "min_confidence": 0.6, "tiles": 3},
    "haar": {"detector": "haar"},
    "haar_fer_settings": {"detector": "haar", "scale_factor": 1.1, "min_neighbors": 5, "min_size": 50},
}
PAIRED = "blazeface_conf0.5"  # the alignment and margin comparisons: the most faces found


def gray(image):
    """An skimage.data photo (gray, RGB or RGBA uint8) as gray uint8."""
    return image if image.ndim == 2 else cv2.cvtColor(image[..., :3], cv2.COLOR_RGB2GRAY)


def face_free_photos():
    """Named gray photos without a person: skimage.data's photographs and the motorcycle pair."""
    photos = {name: gray(getattr(data, name)()) for name in FACE_FREE}
    left, right, _ = data.stereo_motorcycle()
    photos["motorcycle_left"], photos["motorcycle_right"] = gray(left), gray(right)
    return photos


def lfw_images():
    """LFW subset's 100 faces and 100 non-faces, enlarged 4x to 100 px and padded by 30 px."""
    patches = (data.lfw_subset() * 255).round().astype(np.uint8)
    big = [cv2.resize(p, (100, 100), interpolation=cv2.INTER_CUBIC) for p in patches]
    padded = [cv2.copyMakeBorder(b, 30, 30, 30, 30, cv2.BORDER_REPLICATE) for b in big]
    return padded[:100], padded[100:]


def place(face, background, side, angle, rng):
    """Paste a 48x48 face, resized to ``side`` and rotated by ``angle``, at a random place."""
    face = cv2.resize(face, (side, side), interpolation=cv2.INTER_CUBIC)
    cos, sin = abs(math.cos(math.radians(angle))), abs(math.sin(math.radians(angle)))
    canvas = math.ceil(side * (cos + sin))
    rotation = cv2.getRotationMatrix2D((side / 2, side / 2), angle, 1.0)
    rotation[:, 2] += (canvas - side) / 2
    turned = cv2.warpAffine(face, rotation, (canvas, canvas), flags=cv2.INTER_LINEAR)
    mask = cv2.warpAffine(np.ones_like(face), rotation, (canvas, canvas), flags=cv2.INTER_NEAREST)
    x, y = rng.integers(0, SIZE - canvas + 1, size=2)
    photo = background.copy()
    region = photo[y : y + canvas, x : x + canvas]
    region[mask > 0] = turned[mask > 0]
    return photo, (x + canvas / 2, y + canvas / 2)


def scenes(faces, photos, n, rng):
    """The placed-face benchmark: per face, a background crop, a side, a place and a sign."""
    names = sorted(photos)
    out = []
    for index in range(n):
        photo = photos[names[rng.integers(len(names))]]
        crop = int(min(photo.shape) * rng.uniform(0.5, 1.0))
        top = rng.integers(0, photo.shape[0] - crop + 1)
        left = rng.integers(0, photo.shape[1] - crop + 1)
        background = cv2.resize(photo[top : top + crop, left : left + crop], (SIZE, SIZE))
        side = int(round(math.exp(rng.uniform(math.log(48), math.log(256)))))
        sign = rng.choice([-1.0, 1.0])
        seed = int(rng.integers(2**31))
        scene = {"side": side}
        for condition, angle in (("upright", 0.0), ("rotated", sign * ANGLE)):
            place_rng = np.random.default_rng(seed)  # the same place in both conditions
            scene[condition], scene["centre"] = place(faces[index], background, side, angle, place_rng)
        out.append(scene)
    return out


def exact_crops(scenes_):
    """Each upright placed face cut out at exactly its place and size, resized to 48x48."""
    crops = []
    for scene in scenes_:
        (cx, cy), half = scene["centre"], scene["side"] / 2
        square = scene["upright"][round(cy - half) : round(cy + half), round(cx - half) : round(cx + half)]
        crops.append(cv2.resize(square, (48, 48), interpolation=cv2.INTER_AREA))
    return np.stack(crops)


def is_hit(box, centre, side):
    x, y, w, h = box
    distance = math.hypot(x + w / 2 - centre[0], y + h / 2 - centre[1])
    return distance < 0.35 * side and 0.4 * side < max(w, h) < 1.6 * side


def run_placed(detector, scenes_, condition):
    """Hits (index of the scene -> Face), false detections, seconds per photo."""
    hits, false, start = {}, 0, time.perf_counter()
    for index, scene in enumerate(scenes_):
        for face in detector.find(scene[condition]):
            if index not in hits and is_hit(face.box, scene["centre"], scene["side"]):
                hits[index] = face
            else:
                false += 1
    return hits, false, (time.perf_counter() - start) / len(scenes_)


def count_faces(detector, images):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return [len(detector.find(image)) for image in images]


def accuracy(model, hits, y):
    if not hits:
        return None
    index = sorted(hits)
    predicted = model.predict(np.stack([hits[i].image.reshape(-1) for i in index]).astype(np.float32))
    return float(np.mean(np.asarray(predicted) == y[index]))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=os.environ.get("SKFER_DATA") or DEFAULT_DATA)
    parser.add_argument(
        "--n", type=int, default=2000,
        help="placed faces (BlazeFace finds about half of them)",
    )
    parser.add_argument("--repeats", type=int, default=30, help="timings of detect + classify")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", type=Path, default=RESULTS / "faces.json")
    args = parser.parse_args()
    load_before = os.getloadavg()
    rng = np.random.default_rng(args.seed)

    model = load_pretrained()
    val = load_fer2013(args.data, usage="PublicTest")
    chosen = rng.choice(len(val.target), size=args.n, replace=False)
    faces = to_pixel_array(np.asarray(val.data)[chosen]).reshape(-1, 48, 48).astype(np.uint8)
    y = np.asarray(val.target)[chosen]  # labels 0-6, as the pretrained model predicts them
    reference = float(np.mean(model.predict(faces.reshape(len(faces), -1).astype(np.float32)) == y))
    photos = face_free_photos()
    lfw_faces, lfw_non_faces = lfw_images()
    placed = scenes(faces, photos, args.n, rng)
    with_faces = {name: gray(getattr(data, name)()) for name in ("astronaut", "camera")}
    exact = exact_crops(placed)
    exact_accuracy = float(np.mean(model.predict(exact.reshape(len(exact), -1).astype(np.float32)) == y))

    results = {}
    for name, params in DETECTORS.items():
        detector = FaceDetector(**params)
        row = {
            "params": params,
            "false_on_face_free_photos": sum(count_faces(detector, photos.values())),
            "false_on_lfw_non_faces": sum(count_faces(detector, lfw_non_faces)),
            "lfw_faces_found": sum(n > 0 for n in count_faces(detector, lfw_faces)),
            "faces_found_in": dict(zip(with_faces, count_faces(detector, with_faces.values()))),
            "placed": {},
        }
        aligned_runs = (True, False) if params["detector"] == "blazeface" else (False,)
        for condition in ("upright", "rotated"):
            for align in aligned_runs:
                detector.set_params(align=align)
                hits, false, seconds = run_placed(detector, placed, condition)
                row["placed"][f"{condition}{'_aligned' if align else ''}"] = {
                    "recall": len(hits) / args.n,
                    "false_detections": false,
                    "accuracy_on_hits": accuracy(model, hits, y),
                    "ms_per_photo": 1000 * seconds,
                    "hits": sorted(hits),
                    "box_side_over_face_side": float(
                        np.median([max(f.box[2:]) / placed[i]["side"] for i, f in hits.items()])
                    ) if hits else None,
                }
        results[name] = row
        print(name, {k: v for k, v in row.items() if k != "placed"})
        for key, value in row["placed"].items():
            print(f"  {key:16s} recall {value['recall']:.3f} false {value['false_detections']:3d} "
                  f"accuracy {value['accuracy_on_hits']} {value['ms_per_photo']:.1f} ms/photo")

    # Accuracy on the faces every run of BlazeFace found, so the conditions compare like with like.
    runs = results[PAIRED]["placed"]
    common = set.intersection(*(set(run["hits"]) for run in runs.values()))
    paired = {}
    for key in runs:
        condition, _, aligned = key.partition("_")
        detector = FaceDetector(**DETECTORS[PAIRED], align=bool(aligned))
        hits = {}
        for i in sorted(common):
            found = [f for f in detector.find(placed[i][condition]) if is_hit(f.box, placed[i]["centre"], placed[i]["side"])]
            hits[i] = found[0]
        paired[key] = accuracy(model, hits, y)
    for run in (r for row in results.values() for r in row["placed"].values()):
        run["hits"] = len(run["hits"])

    margins = {}
    for margin in (0.0, 0.1, 0.2, 0.3):
        hits, _, _ = run_placed(FaceDetector(**DETECTORS[PAIRED], margin=margin), placed, "upright")
        margins[str(margin)] = accuracy(model, hits, y)

    astronaut = with_faces["astronaut"]
    timing = {}
    for name in ("blazeface", "haar", "haar_fer_settings"):
        detector = FaceDetector(**DETECTORS[name])
        model.predict(detector.transform([astronaut]))  # warm up
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            model.predict(detector.transform([astronaut]))
            times.append(time.perf_counter() - start)
        timing[name] = 1000 * float(np.median(times))

    result = {
        "command": f"python benchmarks/faces.py --n {args.n} --repeats {args.repeats} --seed {args.seed}",
        "placed_faces": args.n,
        "reference_accuracy_on_48x48_faces": reference,
        "accuracy_on_exact_crops_of_the_upright_placed_faces": exact_accuracy,
        "detectors": results,
        "blazeface_accuracy_on_faces_found_in_all_four_runs": {"detector": PAIRED, "n": len(common), **paired},
        "blazeface_upright_accuracy_by_margin": {"detector": PAIRED, **margins},
        "ms_detect_and_classify_astronaut_512x512": timing,
        "loadavg_before": load_before,
        "loadavg_after": os.getloadavg(),
        "machine": machine(),
        "opencv": {"version": cv2.__version__, "threads": cv2.getNumThreads()},
    }
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print({k: v for k, v in result.items() if k not in ("detectors", "machine")})


if __name__ == "__main__":
    main()
