"""Photos per second of skfer's photo path against ``fer``'s ``FER().detect_emotions``, by stage; and peak memory.

The photos: ``--photos`` 640x480 colour JPEG files, each a face-free
scikit-image photograph (cropped and resized) with one FER2013 PublicTest
face pasted in, resized to 120-240 pixels, at a random place. The faces'
labels give each path's accuracy on the photos (a photo whose face is not
found counts as wrong).

* skfer: :func:`skfer.predict_images` (what ``skfer predict`` runs) with
  ``load_pretrained()`` (its default ``predict_dtype="int8"``) and
  ``FaceDetector()`` (BlazeFace with alignment), over all the files; then
  the same stages timed one by one: decoding (``cv2.imread``), detection
  with alignment and cropping (``FaceDetector().find``), and prediction
  (the pipeline's ``predict_proba`` on the crops).
* fer: ``FER().detect_emotions(cv2.imread(path))`` per photo, its defaults
  (Haar cascade, the 8-bit TensorFlow Lite classifier), in its own virtual
  environment (``--fer-python``; fer needs OpenCV 4's ``cv2.data``), with
  decoding, ``find_faces`` and the rest (``detect_emotions`` given the
  boxes: cropping and classification) timed apart. Make the environment
  with::

      python3 -m venv ~/skfer-runs/venv-fer
      ~/skfer-runs/venv-fer/bin/pip install tensorflow "opencv-python-headless<5" requests "setuptools<81" pillow
      ~/skfer-runs/venv-fer/bin/pip install --no-deps fer

* Memory: the peak resident memory of ``skfer predict FOLDER -o CSV`` (a
  fresh process each) over ``--memory-photos`` photos and over
  half of them (both more than the 256 faces of one prediction batch, whose
  activations are the largest buffer); the two should be close, since
  nothing grows with the number of files.

skfer and fer take turns over ``--rounds`` rounds; the ratio is the median
of the per-round ratios. Results: ``benchmarks/results/photos.json`` and
``photos.md``, with the CPU model and flags.

Examples
--------
::

    python benchmarks/photos.py --fer-python ~/skfer-runs/venv-fer/bin/python
    python benchmarks/photos.py --quick   # a check of the script
"""

import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import cv2  # noqa: E402
import numpy as np  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "fer2013"
#: scikit-image photographs without a person, in colour where it has them.
BACKGROUNDS = ("chelsea", "coffee", "rocket", "brick", "grass", "gravel", "clock", "page", "moon", "text")
WIDTH, HEIGHT = 640, 480
#: fer's label order (``FER._get_labels``), which is FER2013's.
FER_LABELS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")


def make_photos(folder, faces, rng):
    """Write one JPEG per face into ``folder``; return the paths."""
    from skimage import data

    backgrounds = []
    for name in BACKGROUNDS:
        image = getattr(data, name)()
        image = image if image.ndim == 3 else np.stack([image] * 3, axis=-1)
        backgrounds.append(cv2.cvtColor(image[..., :3], cv2.COLOR_RGB2BGR))
    paths = []
    for index, face in enumerate(faces):
        photo = backgrounds[index % len(backgrounds)]
        scale = max(WIDTH / photo.shape[1], HEIGHT / photo.shape[0]) * rng.uniform(1.0, 1.5)
        big = cv2.resize(photo, None, fx=scale, fy=scale, interpolation=cv2.INTER_LINEAR)
        top = rng.integers(0, big.shape[0] - HEIGHT + 1)
        left = rng.integers(0, big.shape[1] - WIDTH + 1)
        canvas = big[top : top + HEIGHT, left : left + WIDTH].copy()
        side = int(rng.integers(120, 241))
        pasted = cv2.resize(face.reshape(48, 48).astype(np.uint8), (side, side), interpolation=cv2.INTER_CUBIC)
        y, x = rng.integers(0, HEIGHT - side + 1), rng.integers(0, WIDTH - side + 1)
        canvas[y : y + side, x : x + side] = pasted[..., None]
        path = folder / f"photo_{index:05d}.jpg"
        cv2.imwrite(str(path), canvas, [cv2.IMWRITE_JPEG_QUALITY, 90])
        paths.append(path)
    return paths


# ---------------------------------------------------------------- fer, in its own venv


def fer_worker(list_file, out_file):
    """Time fer's ``detect_emotions`` per photo, stage by stage; write JSON to ``out_file``.

    ``detect_emotions(image)`` runs ``find_faces`` and then the same as
    ``detect_emotions(image, face_rectangles)``; the two are timed apart.
    """
    import fer
    from fer.fer import FER  # fer 25.10 no longer exports it from the package

    paths = Path(list_file).read_text().split("\n")
    detector = FER()
    detector.detect_emotions(cv2.imread(paths[0]))  # load and warm up
    decode = detect = classify = 0.0
    predictions, n_faces = [], 0
    for path in paths:
        start = time.perf_counter()
        image = cv2.imread(path)
        found_at = time.perf_counter()
        boxes = detector.find_faces(image)
        detected_at = time.perf_counter()
        found = detector.detect_emotions(image, face_rectangles=boxes) if len(boxes) else []
        end = time.perf_counter()
        decode, detect, classify = decode + found_at - start, detect + detected_at - found_at, classify + end - detected_at
        n_faces += len(found)
        best = max(found, key=lambda f: f["box"][2] * f["box"][3]) if found else None
        predictions.append(None if best is None else max(best["emotions"], key=best["emotions"].get))
    Path(out_file).write_text(json.dumps({
        "seconds": decode + detect + classify, "decode_s": decode, "detect_s": detect, "classify_s": classify,
        "faces_found": n_faces, "predictions": predictions, "fer": fer.__version__, "opencv": cv2.__version__,
    }))


def run_fer(python, paths, folder):
    list_file, out_file = folder / "fer_files.txt", folder / "fer_out.json"
    list_file.write_text("\n".join(str(p) for p in paths))
    subprocess.run([python, __file__, "--fer-worker", str(list_file), str(out_file)], check=True)
    return json.loads(out_file.read_text())


# ---------------------------------------------------------------- skfer


def run_skfer(pipeline, paths):
    """predict_images over ``paths``, then its stages one by one."""
    from skfer import predict_images
    from skfer.preprocessing import FaceDetector

    detector = FaceDetector()
    start = time.perf_counter()
    table = predict_images(paths, pipeline, detector=detector, progress=None)
    total = time.perf_counter() - start
    largest = table.assign(area=table["w"] * table["h"]).sort_values("area").groupby("file").tail(1)
    by_file = dict(zip(largest["file"], largest["emotion"]))
    start = time.perf_counter()
    images = [cv2.imread(str(path)) for path in paths]
    decode = time.perf_counter() - start
    start = time.perf_counter()
    crops = [face.image for image in images for face in detector.find(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY))]
    detect = time.perf_counter() - start
    start = time.perf_counter()
    if crops:
        pipeline.predict_proba(np.stack(crops).reshape(len(crops), -1))
    predict = time.perf_counter() - start
    return {
        "seconds": total, "decode_s": decode, "detect_s": detect, "predict_s": predict,
        "faces_found": len(crops),
        "predictions": [by_file.get(str(path)) for path in paths],
    }


def peak_memory_mb(paths_folder, output):
    """Peak resident memory (MB) of ``skfer predict FOLDER -o CSV`` in a fresh process."""
    skfer = Path(sys.executable).with_name("skfer")
    code = (
        "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(skfer), "predict", str(paths_folder), "-o", str(output), "-q"],
        check=True, capture_output=True, text=True,
    )
    return int(out.stdout.split()[-1]) / 1024


def _markdown(r):
    s, f = r["skfer"], r.get("fer")
    lines = [
        "# Photos: skfer's photo path against fer's FER().detect_emotions",
        "",
        f"Command: `{r['command']}`, {r['date']}. CPU: {r['machine']['cpu']} "
        f"({r['machine']['cpu_count']} usable; {', '.join(r['machine']['cpu_flags'])}). "
        f"{r['photos']} photos, 640x480 JPEG, one FER2013 PublicTest face each (120-240 px).",
        "",
        "| path | photos/s | decode | detect (+ align, crop) | crop + classify | faces found | accuracy on the photos |",
        "|---|---|---|---|---|---|---|",
        f"| skfer `predict_images` (`skfer predict`): BlazeFace + alignment, int8 engine "
        f"| {s['photos_per_s']:.1f} | {s['decode_ms']:.2f} ms | {s['detect_ms']:.2f} ms | {s['predict_ms']:.2f} ms "
        f"| {s['faces_found']} | {100 * s['accuracy']:.1f}% |",
    ]
    if f:
        lines.append(
            f"| fer {f['fer']} `FER().detect_emotions` (OpenCV {f['opencv']}): Haar + TFLite int8 "
            f"| {f['photos_per_s']:.1f} | {f['decode_ms']:.2f} ms | {f['detect_ms']:.2f} ms "
            f"| {f['predict_ms']:.2f} ms | {f['faces_found']} | {100 * f['accuracy']:.1f}% |"
        )
        lines += ["", f"skfer's photos per second against fer's: **{r['photos_per_s_vs_fer']:.2f}x** "
                      f"(median of {r['rounds']} rounds: {', '.join(f'{x:.2f}' for x in r['ratios'])})."]
    lines += [
        "",
        "Stage times are per photo. skfer's are timed one stage at a time after its end-to-end run; "
        "fer's within its run (``find_faces``, then ``detect_emotions`` given the boxes), whose sum "
        "is its end-to-end time.",
    ]
    if "memory" in r:
        m = r["memory"]
        lines += ["", "| `skfer predict FOLDER -o CSV` | peak resident memory |", "|---|---|"]
        lines += [f"| {n} photos | {mb:.0f} MB |" for n, mb in m.items()]
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=os.environ.get("SKFER_DATA", DEFAULT_DATA))
    parser.add_argument("--photos", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--memory-photos", type=int, default=1000)
    parser.add_argument("--fer-python", help="python of a virtual environment with fer and OpenCV 4")
    parser.add_argument("--quick", action="store_true", help="test the script: 20 photos, 1 round, 40 for memory")
    parser.add_argument("--output", type=Path, default=RESULTS / "photos.json")
    parser.add_argument("--fer-worker", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.fer_worker:
        return fer_worker(*args.fer_worker)
    if args.quick:
        args.photos, args.rounds, args.memory_photos = 20, 1, 40

    from skfer import EMOTIONS
    from skfer.datasets import load_fer2013
    from skfer.experiments import machine, versions
    from skfer.pretrained import load_pretrained

    test = load_fer2013(args.data, usage="PublicTest")
    rng = np.random.default_rng(0)
    n = max(args.photos, args.memory_photos)
    picks = rng.choice(len(test.target), n, replace=False)
    from skfer.preprocessing import to_pixel_array

    faces, labels = to_pixel_array(test.data[picks]), np.asarray(test.target)[picks]
    pipeline = load_pretrained()
    result = {
        "command": "python " + " ".join(sys.argv),
        "date": datetime.date.today().isoformat(),
        "machine": machine(),
        "versions": versions("tensorflow", extra=("onnxruntime", "opencv-python-headless")),
        "photos": args.photos, "rounds": args.rounds,
    }
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        (folder / "timed").mkdir()
        paths = make_photos(folder / "timed", faces[: args.photos], rng)
        truth = labels[: args.photos]
        run_skfer(pipeline, paths[:5])  # warm up
        skfer_runs, fer_runs = [], []
        for _ in range(args.rounds):
            skfer_runs.append(run_skfer(pipeline, paths))
            if args.fer_python:
                fer_runs.append(run_fer(args.fer_python, paths, folder))
        result["skfer"] = _summary(skfer_runs, truth, args.photos, list(EMOTIONS), "predict_s")
        if fer_runs:
            result["fer"] = _summary(fer_runs, truth, args.photos, FER_LABELS, "classify_s")
            result["fer"].update(fer=fer_runs[0]["fer"], opencv=fer_runs[0]["opencv"])
            result["ratios"] = [f["seconds"] / s["seconds"] for s, f in zip(skfer_runs, fer_runs)]
            result["photos_per_s_vs_fer"] = float(np.median(result["ratios"]))
        if args.memory_photos:
            (folder / "memory").mkdir()
            many = make_photos(folder / "memory", faces[: args.memory_photos], np.random.default_rng(1))
            (folder / "half").mkdir()
            for path in many[: len(many) // 2]:
                os.link(path, folder / "half" / path.name)
            result["memory"] = {
                len(many) // 2: peak_memory_mb(folder / "half", folder / "half.csv"),
                len(many): peak_memory_mb(folder / "memory", folder / "all.csv"),
            }
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    args.output.with_suffix(".md").write_text(_markdown(result))
    print(_markdown(result))
    return 0


def _summary(runs, truth, n, labels, predict_key):
    """Median seconds per stage over the runs, per photo, and accuracy of the last run's predictions."""
    def per_photo_ms(key):
        return 1e3 * float(np.median([run[key] for run in runs])) / n

    seconds = float(np.median([run["seconds"] for run in runs]))
    predictions = runs[-1]["predictions"]
    right = [p is not None and labels.index(p) == t for p, t in zip(predictions, truth)]
    out = {
        "seconds": seconds, "photos_per_s": n / seconds, "decode_ms": per_photo_ms("decode_s"),
        "detect_ms": per_photo_ms("detect_s"), "faces_found": runs[-1]["faces_found"],
        "accuracy": float(np.mean(right)),
    }
    out["predict_ms"] = per_photo_ms(predict_key)
    return out


if __name__ == "__main__":
    sys.exit(main())
