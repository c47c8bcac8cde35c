"""Training speed of the default recipe under each setting a CPU can choose, against its FP32 peak.

Each setting trains :func:`skfer.experiments.recipe`'s default recipe
(``FERClassifier`` with its augmentation) on ``--faces`` FER2013 Training
faces for one warm-up and ``--epochs`` timed epochs, in its own process
(TensorFlow's thread pools are fixed when it starts), the settings taking
turns over ``--rounds`` rounds. Reported per setting: faces per second
(median timed epoch) and the share of this CPU's estimated FP32 peak
(:func:`skfer.experiments.training_throughput`). The settings:

* ``recipe``: what ``skfer train`` does (batch 64; bfloat16 only where the
  CPU computes it natively, else float32; under TensorFlow the batches are
  gathered by ``tf.data`` itself, :meth:`EpochBatches.tf_dataset
  <skfer.estimator._batches.EpochBatches.tf_dataset>`);
* ``pydataset``: the same network and batches read by Keras from the
  :class:`~skfer.estimator._batches.EpochBatches` ``PyDataset`` (through
  ``tf.data``'s generator bridge), as every fit did before: the "before"
  figure;
* ``batch_32`` and ``batch_128``: other batch sizes (they change what is
  learned, so they only inform);
* ``intra_2_inter_1``: TensorFlow's pools at 2 threads within an operation
  and 1 between operations;
* ``bfc_allocator``: TensorFlow's CPU memory kept in its own pool
  (``TF_CPU_ALLOCATOR_USE_BFC=true``) instead of taken from and given back
  to the system for large tensors (paid in page faults);
* ``float32``: ``train_dtype="float32"``, run only where the CPU computes
  bfloat16 natively (there the recipe trains in bfloat16, so this is the
  comparison; elsewhere the recipe is float32 already);
* ``xla``: the recipe's network compiled with XLA (``jit_compile=True``)
  and trained by ``keras.Model.fit``; recorded as failed, with the error,
  where XLA cannot compile it.

Each setting also reports its process's peak resident memory.

Results: ``--output`` (JSON) and the same name with ``.md``, with the CPU
model and flags.

Examples
--------
::

    python benchmarks/train_settings.py --output benchmarks/results/train_settings_zen3.json
    python benchmarks/train_settings.py --quick --output /tmp/train_settings.json
"""

import argparse
import datetime
import json
import os
import subprocess
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "fer2013"
#: Setting name -> (environment, FERClassifier parameters, whether it runs only where bfloat16 is native).
SETTINGS = {
    "recipe": ({}, {}, False),
    "batch_32": ({}, {"batch_size": 32}, False),
    "batch_128": ({}, {"batch_size": 128}, False),
    "intra_2_inter_1": ({"SKFER_BENCH_INTRA": "2", "SKFER_BENCH_INTER": "1"}, {}, False),
    "bfc_allocator": ({"TF_CPU_ALLOCATOR_USE_BFC": "true"}, {}, False),
    "pydataset": ({}, {"keras_reads": "pydataset"}, False),
    "float32": ({}, {"train_dtype": "float32"}, True),
    "xla": ({}, {"jit_compile": True}, False),
}


def worker(name, data, faces, epochs):
    """Train one setting; print one JSON line."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf

    if "SKFER_BENCH_INTRA" in os.environ:
        tf.config.threading.set_intra_op_parallelism_threads(int(os.environ["SKFER_BENCH_INTRA"]))
        tf.config.threading.set_inter_op_parallelism_threads(int(os.environ["SKFER_BENCH_INTER"]))
    import numpy as np

    from skfer import FERClassifier, load_fer2013
    from skfer.estimator._network import compile_kwargs
    from skfer.estimator._batches import EpochBatches
    from skfer.experiments import DEFAULT_RECIPE, native_bfloat16, peak_memory_mb, recipe, training_throughput
    from skfer.preprocessing import to_pixel_array

    train = load_fer2013(data, usage="Training")
    X = to_pixel_array(train.data[:faces]) / 255.0
    y = np.asarray(train.target[:faces])
    params, _ = recipe(DEFAULT_RECIPE)
    params = {**params, "train_dtype": "bfloat16" if native_bfloat16() else "float32"}
    extra = dict(SETTINGS[name][1])
    jit, reads = extra.pop("jit_compile", False), extra.pop("keras_reads", None)
    clf = FERClassifier(**{**params, **extra, "epochs": 1 + epochs, "random_state": 0})
    if not (jit or reads):
        clf.fit(X, y)
        history = clf.history_["epoch_seconds"][1:]
    else:  # keras.Model.fit on the classifier's network, one epoch a call
        clf.initialize(X, y)
        if jit:
            clf.model_.compile(**compile_kwargs(clf), jit_compile=True)
        Xe, ye = clf.feature_encoder_.transform(X), clf.target_encoder_.transform(y)
        history = []
        try:
            for epoch in range(1 + epochs):
                data = ({"x": EpochBatches(Xe, ye, None, clf.batch_size, 0, first_epoch=epoch), "shuffle": False}
                        if reads else {"x": Xe, "y": ye, "batch_size": clf.batch_size})
                start = time.perf_counter()
                clf.model_.fit(**data, epochs=1, verbose=0)
                history.append(time.perf_counter() - start)
        except Exception as exc:  # XLA's own error: recorded, not raised
            lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
            said = [line for line in lines if "unsupported" in line.lower() or "no registered" in line.lower()]
            print(json.dumps({"failed": f"{type(exc).__name__}: {(said or lines or [''])[0][:300]}"}))
            return
        history = history[1:]
        clf.history_ = {"epoch_seconds": history}
    out = training_throughput(clf, len(y))
    out["epoch_seconds"] = [round(s, 2) for s in history]
    out["peak_memory_mb"] = peak_memory_mb()
    print(json.dumps(out))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=os.environ.get("SKFER_DATA", DEFAULT_DATA))
    parser.add_argument("--faces", type=int, default=4096)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="test the script: 256 faces, 1 epoch, 1 round")
    parser.add_argument("--output", type=Path, default=RESULTS / "train_settings.json")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.faces, args.epochs, args.rounds = 256, 1, 1
    if args.worker:
        return worker(args.worker, args.data, args.faces, args.epochs)

    from skfer.experiments import machine, native_bfloat16, versions

    names = [name for name, (_, _, bf16) in SETTINGS.items() if native_bfloat16() or not bf16]
    runs = {name: [] for name in names}
    load = [os.getloadavg()[0]]
    for _ in range(args.rounds):
        for name in names:
            env = {**os.environ, **SETTINGS[name][0]}
            command = [sys.executable, __file__, "--worker", name, "--data", str(args.data),
                       "--faces", str(args.faces), "--epochs", str(args.epochs)]
            done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
            runs[name].append(json.loads(done.stdout.strip().splitlines()[-1]))
            print(name, runs[name][-1], file=sys.stderr, flush=True)
    load.append(os.getloadavg()[0])
    summary = {}
    for name, results in runs.items():
        done = [r for r in results if "failed" not in r]
        if not done:
            summary[name] = {"failed": results[0]["failed"]}
            continue
        best = max(done, key=lambda r: r["faces_per_s"])  # the round least disturbed
        summary[name] = {k: best.get(k) for k in ("faces_per_s", "gflops", "share_of_peak", "peak_memory_mb")}
        summary[name]["faces_per_s_by_round"] = [r["faces_per_s"] for r in done]
    result = {
        "command": "python " + " ".join(sys.argv),
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "versions": versions("tensorflow"),
        "faces": args.faces, "timed_epochs": args.epochs, "rounds": args.rounds,
        "load_average_1min": {"start": load[0], "end": load[1]},
        "cpu_peak": next((r["cpu_peak"] for rs in runs.values() for r in rs if "cpu_peak" in r), None),
        "summary": summary,
        "runs": runs,
    }
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    args.output.with_suffix(".md").write_text(_markdown(result))
    print(_markdown(result))
    return 0


def _markdown(r):
    peak = r["cpu_peak"]
    lines = [
        "# Training speed of the default recipe by setting",
        "",
        f"Command: `{r['command']}`, {r['date']}. CPU: {r['machine']['cpu']} ({r['machine']['cpu_count']} usable; "
        f"{', '.join(r['machine']['cpu_flags'])}); 1-min load {r['load_average_1min']['start']:.2f} -> "
        f"{r['load_average_1min']['end']:.2f}. {r['faces']} Training faces, {r['timed_epochs']} timed epochs "
        f"after a warm-up, best of {r['rounds']} rounds.",
    ]
    if peak:
        lines.append(
            f"Estimated FP32 peak: {peak['gflops']:.0f} GFLOP/s ({peak['cores']} cores x {peak['ghz']:.2f} GHz x "
            f"{peak['flops_per_cycle']} FLOP/cycle)."
        )
    lines += ["", "| setting | faces/s | GFLOP/s | share of FP32 peak | faces/s by round | peak memory |",
              "|---|---|---|---|---|---|"]
    for name, s in r["summary"].items():
        if "failed" in s:
            lines.append(f"| {name} | failed: {s['failed']} | | | | |")
        else:
            share = "" if s["share_of_peak"] is None else f"{s['share_of_peak']:.0%}"
            memory = "" if s["peak_memory_mb"] is None else f"{s['peak_memory_mb']:,.0f} MB"
            rounds = ", ".join(f"{v:.0f}" for v in s["faces_per_s_by_round"])
            lines.append(f"| {name} | {s['faces_per_s']:.0f} | {s['gflops']:.0f} | {share} | {rounds} | {memory} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
