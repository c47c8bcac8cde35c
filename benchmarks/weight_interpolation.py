"""Interpolate the weights of the default model and a robust fine-tune of it; score each mix on PublicTest and its shifts.

A fine-tune with shift augmentation (``benchmarks/fine_tune_levers.py
--levers robust``) trades clean accuracy for robustness. Both networks
start from the same weights, so the straight line between them in weight
space stays in one basin: WiSE-FT (Wortsman et al., "Robust fine-tuning of
zero-shot models", CVPR 2022) found points on it better than either end,
in and out of distribution. Each mix here is

    weights = (1 - alpha) * start + alpha * end

for every floating-point weight of the network (BatchNorm's moving means
and variances included), then predicted through the default path: the
8-bit engine made from the mix as a fit makes it (``skfer.export_onnx``
with ``quantize="int8"`` on the classifier, calibrated on the same 512
Training faces as the shipped engine), behind the pipeline's transformers.
``alpha=0`` is the shipped model through its own engine's recipe, so its
row checks the method against ``benchmarks/robustness.py``.

The mix to keep is chosen by a rule fixed before any run: among the mixes
whose unshifted PublicTest accuracy is at least the shipped model's, the
one with the smallest worst drop under the seen shifts (the unseen shifts
and calibration are reported, never used to choose). ``--save`` writes each
mix's network as ``alpha_<a>.keras``, for ``benchmarks/ship_pretrained.py``.

Results: ``--output`` (JSON) and the same name with ``.md``.

Examples
--------
::

    python benchmarks/weight_interpolation.py --end ~/skfer-runs/levers16/robust/pipeline.joblib \\
        --output benchmarks/results/weight_interpolation_robust16.json
    python benchmarks/weight_interpolation.py --end PIPELINE --quick --output /tmp/mix.json
"""

import argparse
import datetime
import json
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import joblib  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402

from skfer import ONNXEmotionPredictor, export_onnx, load_fer2013, load_pretrained  # noqa: E402
from skfer.experiments import DEFAULT_RECIPE, fer2013_calibration_faces, machine, versions  # noqa: E402
from skfer.models import load_model  # noqa: E402
from skfer.preprocessing import to_pixel_array  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fine_tune_levers import score, shift_tables, worst_drops  # noqa: E402
from robustness import shifts, unseen_shifts  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "fer2013"
ALPHAS = (0.0, 0.2, 0.4, 0.5, 0.6, 0.8, 1.0)


def mix(start, end, alpha):
    """``(1 - alpha) * start + alpha * end`` for each floating-point array; the others (counters, seeds) from ``start``.

    Parameters
    ----------
    start, end : list of ndarray
        Two networks' ``get_weights()``, of the same architecture.
    alpha : float
        Share of ``end``, from 0 to 1.

    Examples
    --------
    >>> import numpy as np
    >>> mix([np.float32([0, 2]), np.uint32([7])], [np.float32([2, 4]), np.uint32([9])], 0.25)
    [array([0.5, 2.5], dtype=float32), array([7], dtype=uint32)]
    """
    if len(start) != len(end):
        raise ValueError(f"The networks hold {len(start)} and {len(end)} weights: not the same architecture.")
    out = []
    for i, (a, b) in enumerate(zip(start, end)):
        if a.shape != b.shape or a.dtype != b.dtype:
            raise ValueError(f"Weight {i} is {a.dtype}{a.shape} in one network and {b.dtype}{b.shape} in the other.")
        out.append(((1 - alpha) * a + alpha * b).astype(a.dtype) if np.issubdtype(a.dtype, np.floating) else a)
    return out


def end_weights(path):
    """The weights of the network saved at ``path``: a fitted pipeline (joblib) or a Keras model (``.keras``)."""
    if Path(path).suffix == ".keras":
        return load_model(path).get_weights()
    return joblib.load(path)[-1].model_.get_weights()


def int8_pipeline(pipeline, calibration, folder):
    """``pipeline``'s transformers before the 8-bit engine of its classifier, made as a fit makes it."""
    path = export_onnx(pipeline[-1], Path(folder) / "engine.onnx", quantize="int8",
                       calibration=pipeline[:-1].transform(calibration))
    return make_pipeline(*pipeline[:-1], ONNXEmotionPredictor(path).fit())


def choose(rows, shipped_clean, unseen):
    """The rule fixed before the runs: clean accuracy at least ``shipped_clean``, then the smallest worst seen drop."""
    eligible = {name: row for name, row in rows.items() if row["accuracy"]["none"] >= shipped_clean}
    return min(eligible, key=lambda name: worst_drops(eligible[name]["accuracy"], unseen)[0]) if eligible else None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--end", type=Path, required=True,
                        help="a fine-tune of load_pretrained(): its pipeline saved with joblib (fine_tune_levers.py's "
                             "pipeline.joblib) or its network saved by Keras (.keras)")
    parser.add_argument("--alphas", type=float, nargs="+", default=list(ALPHAS))
    parser.add_argument("--data", default=os.environ.get("SKFER_DATA", DEFAULT_DATA))
    parser.add_argument("--save", type=Path, default=None, help="folder for each mix's network (.keras)")
    parser.add_argument("--quick", action="store_true", help="test the script: 256 faces, alphas 0 and 1")
    parser.add_argument("--output", type=Path, default=RESULTS / "weight_interpolation.json")
    args = parser.parse_args(argv)
    if not all(0 <= a <= 1 for a in args.alphas):
        parser.error(f"--alphas must lie in [0, 1]; got {args.alphas}")
    test = load_fer2013(args.data, usage="PublicTest")
    faces = to_pixel_array(test.data).astype(np.uint8).reshape(-1, 48, 48)
    labels = np.asarray(test.target)
    if args.quick:
        faces, labels, args.alphas = faces[:256], labels[:256], [0.0, 1.0]
    calibration = fer2013_calibration_faces(args.data)
    start = load_pretrained(predict_dtype="float32")
    end = end_weights(args.end)
    results = {
        "command": "python " + " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]]),
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": machine(), "versions": versions("tensorflow", extra=("onnxruntime",)),
        "start": f"load_pretrained() ({DEFAULT_RECIPE})", "end": str(args.end),
        "publictest_faces": len(labels), "unseen_shifts": list(unseen_shifts()),
        "shipped": score(load_pretrained(), faces, labels, {**shifts(), **unseen_shifts()}),
        "mixes": {},
    }
    weights = start[-1].model_.get_weights()
    for alpha in args.alphas:
        pipeline = load_pretrained(predict_dtype="float32")
        pipeline[-1].model_.set_weights(mix(weights, end, alpha))
        if args.save is not None:
            args.save.mkdir(parents=True, exist_ok=True)
            pipeline[-1].model_.save(args.save / f"alpha_{alpha:.2f}.keras")
        with tempfile.TemporaryDirectory() as folder:
            scored = score(int8_pipeline(pipeline, calibration, folder), faces, labels,
                           {**shifts(), **unseen_shifts()})
        results["mixes"][f"alpha {alpha:.2f}"] = {"alpha": alpha, **scored}
        print(f"alpha {alpha:.2f}", json.dumps(scored["accuracy"]), flush=True)
    results["chosen"] = choose(results["mixes"], results["shipped"]["accuracy"]["none"], results["unseen_shifts"])
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    args.output.with_suffix(".md").write_text(_markdown(results))
    print(_markdown(results))
    return 0


def _markdown(r):
    rows = {"shipped (its own engine)": r["shipped"], **r["mixes"]}
    unseen = r["unseen_shifts"]
    chosen = (f"Chosen by the rule (clean accuracy at least the shipped model's, then the smallest worst drop "
              f"under the seen shifts): **{r['chosen']}**." if r["chosen"] else
              "No mix keeps the shipped model's clean accuracy: none is chosen.")
    lines = [
        "# Weight interpolation between the default model and a robust fine-tune of it",
        "",
        f"Command: `{r['command']}`, {r['date']}. CPU: {r['machine']['cpu']} "
        f"({', '.join(r['machine']['cpu_flags'])}). Each row mixes {r['start']}'s weights (alpha 0) with "
        f"those of `{r['end']}` (alpha 1) and predicts through an 8-bit engine made from the mix as a fit "
        f"makes it; scored on {r['publictest_faces']:,} PublicTest (validation) faces and their shifts "
        "(`benchmarks/robustness.py`).",
        "",
        f"Unseen shifts (not trained with, not used to choose): {', '.join(unseen)}.",
        "",
        *shift_tables(rows, unseen),
        "",
        chosen,
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
