"""Measure skfer's speed against the seed notebook's ways, side by side, in one run.

Five things are timed, each as the median of ``--repeats`` runs after a
warm-up, and every comparison is a ratio of figures taken in the same run:

1. parsing all FER2013 pixel strings: the seed's per-row ``np.array(s.split(' '))``
   against ``PixelStringTransformer`` (and ``load_fer2013``'s read time);
2. training throughput of the default DCNN on the same real Training faces:
   plain Keras ``Model.fit`` (the baseline), ``FERClassifier`` without and with
   augmentation, and the seed's Python-side augmentation generator;
3. inference: batch ``predict_proba`` throughput, single-face latency, and
   Keras ``Model.predict``'s per-call overhead against calling the model;
4. the photo path: ``FaceDetector`` then the pipeline on a 512x512 photo;
5. the model's FLOPs per face and the fraction of the CPU's FP32 peak reached.

Results go to ``benchmarks/results/speed.json`` and, as a table,
``benchmarks/results/speed.md``.

Examples
--------
A fast check of the script (few faces, one repeat)::

    python benchmarks/speed.py --quick

The full run::

    python benchmarks/speed.py --repeats 3
"""

import argparse
import datetime
import importlib.util
import json
import os
import platform
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from skimage.data import astronaut  # noqa: E402

from skfer import FERClassifier, load_fer2013, make_fer_pipeline  # noqa: E402
from skfer._classifier import _PREDICT_BATCH  # noqa: E402
from skfer.models import augmentation_layers, build_dcnn  # noqa: E402
from skfer.preprocessing import FaceDetector, PixelNormalizer, PixelStringTransformer  # noqa: E402

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "fer2013"
RESULTS = Path(__file__).resolve().parent / "results"
#: FP32 peak of this machine's 2 cores, from the project brief (GFLOP/s).
CPU_PEAK_GFLOPS = 525.0
BATCH_SIZE = 32


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


class EpochTimer(keras.callbacks.Callback):
    """Record the wall time of every training epoch in ``times``."""

    def __init__(self):
        super().__init__()
        self.times = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.times.append(time.perf_counter() - self._start)


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


def epoch_throughput(train, n_faces, repeats):
    """Faces per second of the median timed epoch; ``train(epochs, timer)`` trains."""
    timer = EpochTimer()
    start = time.perf_counter()
    train(1 + repeats, timer)
    total = time.perf_counter() - start
    timed = timer.times[1:]
    return {
        "images_per_s": n_faces / float(np.median(timed)),
        "epoch_s": timed,
        "warmup_epoch_s": timer.times[0],
        "outside_epochs_s": total - sum(timer.times),
    }


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
    n = len(X)

    def plain(epochs, timer):
        model = build_dcnn()
        model.compile(optimizer=keras.optimizers.Nadam(1e-3),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        model.fit(X, y, batch_size=BATCH_SIZE, epochs=epochs, callbacks=[timer], verbose=0)

    def classifier(augment):
        def train(epochs, timer):
            FERClassifier(augment=augment, epochs=epochs, callbacks=[timer], random_state=0).fit(X, y)
        return train

    def seed_generator(epochs, timer):
        model = build_dcnn()
        model.compile(optimizer=keras.optimizers.Nadam(1e-3),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        model.fit(SeedAugmentation(X, y, BATCH_SIZE), epochs=epochs, callbacks=[timer], verbose=0)

    runs = {
        "keras_fit_no_aug": plain,
        "ferclassifier_no_aug": classifier(False),
        "ferclassifier_aug": classifier(True),
        "seed_python_generator_aug": seed_generator,
    }
    out = {"faces": n, "batch_size": BATCH_SIZE}
    for name, train in runs.items():
        keras.utils.clear_session()
        out[name] = epoch_throughput(train, n, repeats)
    base = out["keras_fit_no_aug"]["images_per_s"]
    for name in runs:
        out[name]["ratio_to_keras_fit_no_aug"] = out[name]["images_per_s"] / base
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
    arrays = PixelStringTransformer().fit_transform(strings)
    model = pipe[-1].model_
    one = PixelNormalizer().fit_transform(arrays[:1])
    batch_str = median_time(lambda: pipe.predict_proba(strings), repeats)
    batch_arr = median_time(lambda: pipe.predict_proba(arrays), repeats)
    normalized = PixelNormalizer().fit_transform(arrays)
    batch_256 = median_time(lambda: model.predict(normalized, batch_size=256, verbose=0), repeats)
    return {
        "faces": len(strings),
        "batch_from_strings_faces_per_s": len(strings) / batch_str,
        "batch_from_arrays_faces_per_s": len(strings) / batch_arr,
        "predict_batch_size": _PREDICT_BATCH,
        "keras_predict_batch_256_faces_per_s": len(strings) / batch_256,
        "single_face_pipeline_from_string": percentile_ms(
            lambda: pipe.predict_proba(strings[:1]), calls, (50, 95)),
        "single_face_keras_predict": percentile_ms(
            lambda: model.predict(one, verbose=0), calls, (50, 95)),
        "single_face_keras_call": percentile_ms(
            lambda: keras.ops.convert_to_numpy(model(one, training=False)), calls, (50, 95)),
        "calls": calls,
    }


def bench_photo(pipe, repeats):
    photo = astronaut()
    detector = FaceDetector().fit()
    n_faces = len(detector.transform([photo]))
    detect_s = median_time(lambda: detector.transform([photo]), repeats)
    total_s = median_time(lambda: pipe.predict_proba(detector.transform([photo])), repeats)
    return {"image_shape": list(photo.shape), "faces_found": n_faces,
            "detect_ms": 1e3 * detect_s, "detect_and_predict_ms": 1e3 * total_s, "repeats": repeats}


def model_flops():
    """Forward FLOPs per face (2 per multiply-add) of build_dcnn()'s conv and dense layers."""
    model = build_dcnn()
    layers = {}
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D):
            _, h, w, c_out = layer.output.shape
            kh, kw, c_in, _ = layer.kernel.shape
            layers[layer.name] = 2 * h * w * c_out * kh * kw * c_in
        elif isinstance(layer, keras.layers.Dense):
            n_in, n_out = layer.kernel.shape
            layers[layer.name] = 2 * n_in * n_out
    forward = sum(layers.values())
    return {"forward_flops_per_face": forward, "training_flops_per_face": 3 * forward,
            "per_layer": layers, "note": "conv and dense only; BatchNorm, ELU, pooling ignored"}


def backend_info():
    import tensorflow as tf

    return {
        "keras_backend": keras.backend.backend(),
        "keras": keras.__version__,
        "tensorflow": tf.__version__,
        "intra_op_threads": tf.config.threading.get_intra_op_parallelism_threads() or "default (0)",
        "inter_op_threads": tf.config.threading.get_inter_op_parallelism_threads() or "default (0)",
        "cpus_usable": len(os.sched_getaffinity(0)),
        "jax": "installed" if importlib.util.find_spec("jax") else "not installed",
        "torch": "installed" if importlib.util.find_spec("torch") else "not installed",
        "machine": platform.processor() or platform.machine(),
    }


def table(r):
    p, t, i, ph, f = r["parsing"], r["training"], r["inference"], r["photo"], r["flops"]
    rows = [
        ("Parse all rows, seed split (s)", f"{p['seed_split_s']:.2f}"),
        ("Parse all rows, PixelStringTransformer (s)", f"{p['pixel_string_transformer_s']:.2f}"),
        ("Parsing speed-up (target >= 20x)", f"{p['speedup']:.1f}x"),
        ("load_fer2013 read (s)", f"{p['load_fer2013_s']:.2f}"),
    ]
    for name in ("keras_fit_no_aug", "ferclassifier_no_aug", "ferclassifier_aug",
                 "seed_python_generator_aug"):
        rows.append((f"Train {name} (img/s; ratio to Keras fit)",
                     f"{t[name]['images_per_s']:.0f}; {t[name]['ratio_to_keras_fit_no_aug']:.3f}"))
    sf, kp, kc = (i["single_face_pipeline_from_string"], i["single_face_keras_predict"],
                  i["single_face_keras_call"])
    rows += [
        ("Batch predict_proba from strings (faces/s)", f"{i['batch_from_strings_faces_per_s']:.0f}"),
        ("Batch predict_proba from arrays (faces/s)", f"{i['batch_from_arrays_faces_per_s']:.0f}"),
        ("Keras model.predict, batch 256 (faces/s)", f"{i['keras_predict_batch_256_faces_per_s']:.0f}"),
        ("Single face via pipeline p50 / p95 (ms)", f"{sf['p50_ms']:.2f} / {sf['p95_ms']:.2f}"),
        ("Single face model.predict p50 (ms)", f"{kp['p50_ms']:.2f}"),
        ("Single face model(x, training=False) p50 (ms)", f"{kc['p50_ms']:.2f}"),
        (f"Photo {ph['image_shape'][0]}x{ph['image_shape'][1]}: detect / detect+predict (ms)",
         f"{ph['detect_ms']:.1f} / {ph['detect_and_predict_ms']:.1f} ({ph['faces_found']} face)"),
        ("Forward MFLOP per face (training ~3x)", f"{f['forward_flops_per_face'] / 1e6:.1f}"),
        ("Training GFLOP/s achieved (Keras fit no aug)", f"{r['achieved_gflops']:.1f}"),
        (f"Fraction of FP32 peak ({CPU_PEAK_GFLOPS:.0f} GFLOP/s)", f"{r['fraction_of_peak']:.1%}"),
    ]
    width = max(len(name) for name, _ in rows)
    lines = [f"| {'Measure':<{width}} | Value |", f"|{'-' * (width + 2)}|-------|"]
    lines += [f"| {name:<{width}} | {value} |" for name, value in rows]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=os.environ.get("SKFER_DATA") or DEFAULT_DATA,
                        help="FER2013 CSV or its folder (default $SKFER_DATA, else ../shared/data/fer2013)")
    parser.add_argument("--repeats", type=int, default=3, help="timed repeats (and timed epochs)")
    parser.add_argument("--train-faces", type=int, default=4096)
    parser.add_argument("--quick", action="store_true",
                        help="test the script: 2,000 rows, 256 training faces, 1 repeat")
    parser.add_argument("--output", type=Path, default=RESULTS / "speed.json")
    args = parser.parse_args()
    repeats, n_train, n_pred, calls = args.repeats, args.train_faces, 2048, 100
    if args.quick:
        repeats, n_train, n_pred, calls = 1, 256, 256, 10

    load_before = os.getloadavg()[0]
    bunch = load_fer2013(args.data)
    strings = bunch.data[:2000] if args.quick else bunch.data
    result = {"date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
              "quick": args.quick, "repeats": repeats, "backend": backend_info()}
    result["parsing"] = bench_parsing(strings, args.data, repeats)

    train = bunch.usage == "Training"
    X = PixelNormalizer().fit_transform(PixelStringTransformer().fit_transform(bunch.data[train][:n_train]))
    y = bunch.target[train][:n_train]
    result["training"] = bench_training(X, y, repeats)

    pipe = make_fer_pipeline(FERClassifier(augment=False, epochs=1, random_state=0))
    pipe.fit(bunch.data[train][:256], y[:256])
    result["inference"] = bench_inference(pipe, bunch.data[~train][:n_pred], repeats, calls)
    result["photo"] = bench_photo(pipe, 20 if not args.quick else 3)

    result["flops"] = model_flops()
    images_per_s = result["training"]["keras_fit_no_aug"]["images_per_s"]
    result["achieved_gflops"] = images_per_s * result["flops"]["training_flops_per_face"] / 1e9
    result["fraction_of_peak"] = result["achieved_gflops"] / CPU_PEAK_GFLOPS
    result["cpu_peak_gflops_assumed"] = CPU_PEAK_GFLOPS
    result["load_average_1min"] = {"start": load_before, "end": os.getloadavg()[0]}

    text = table(result)
    print(text)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    load = result["load_average_1min"]
    args.output.with_suffix(".md").write_text(
        f"# skfer speed ({result['date']}, {result['backend']['keras_backend']} backend, "
        f"repeats={repeats}, 1-min load {load['start']:.2f} -> {load['end']:.2f})\n\n{text}\n"
    )


if __name__ == "__main__":
    main()
