"""Sanity checks of skfer's saliency maps (Adebayo et al., NeurIPS 2018) on FER2013 PublicTest.

Each method's raw maps (what ``skfer.SaliencyDisplay.from_estimator``
stores as ``maps``: nothing symmetrised, no prior) of the shipped model (``load_pretrained()``)
on the first ``--faces`` PublicTest faces are checked three ways:

* randomized weights: the same network with freshly initialized weights
  (``FERClassifier.initialize`` with ``random_state=0``) gives maps whose
  Spearman rank correlation with the trained network's is far below 1:
  a map that stays the same whatever the weights explains the face, not
  the model;
* mirror: the map of a mirrored face, mirrored back, against the face's
  own map (both for the class predicted for the face): the network was
  trained with flips, so a faithful map follows the face;
* smiles: on Happy faces (true and predicted Happy) the mouth band carries
  more of the map than the eyes band. The bands are 8 rows by 32 columns
  (columns 8-39) of the 48x48 face, centred on the rows where BlazeFace
  finds FER2013's eyes (row 18.6) and mouths (row 36.9) on average
  (``benchmarks/results/framing.md``): rows 15-22 and 33-40.

Rank correlations are computed per face over all 48x48 pixels and
averaged. Each method runs with its defaults and, for comparison, with
other settings (Grad-CAM on earlier layers, occlusion with 8- and 16-pixel
squares). ``tests/test_saliency.py`` runs the same checks on fewer faces.
Results: ``benchmarks/results/saliency_sanity.json`` and ``.md``.

Examples
--------
::

    python benchmarks/saliency_sanity.py
    python benchmarks/saliency_sanity.py --faces 50 --output /tmp/sanity
"""

import argparse
import datetime
import json
import os
import shlex
import sys
import time
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

from skfer import EMOTIONS, load_fer2013, load_pretrained
from skfer.experiments import machine, versions
from skfer.inference._saliency import saliency_maps
from skfer.preprocessing import to_pixel_array
from skfer.pretrained import DEFAULT_MODEL

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "fer2013"
RESULTS = ROOT / "benchmarks" / "results"
METHODS = ("gradcam", "occlusion")
#: The eyes and mouth bands of a 48x48 FER2013 face (rows, columns), of equal area.
REGIONS = {"eyes": (slice(15, 23), slice(8, 40)), "mouth": (slice(33, 41), slice(8, 40))}
HAPPY = EMOTIONS.index("Happy")


def rank_correlations(maps, others):
    """Spearman rank correlation of each face's two maps, over all pixels (NaN where a map is constant)."""
    return np.array([
        spearmanr(a.ravel(), b.ravel()).statistic if np.ptp(a) and np.ptp(b) else np.nan
        for a, b in zip(maps, others)
    ])


def randomized(pipe):
    """A copy of ``pipe`` whose network has freshly initialized weights (seeded), predicting in float32."""
    copy = load_pretrained(predict_dtype="float32")
    copy[-1].set_params(random_state=0).initialize(np.zeros((len(EMOTIONS), 2304), np.float32),
                                                   np.asarray(pipe.classes_))
    return copy


def region_mass(maps, region):
    """Sum of each map over ``REGIONS[region]``."""
    rows, cols = REGIONS[region]
    return maps[:, rows, cols].sum(axis=(1, 2))


def sanity(pipe, faces, labels, method, random_pipe=None, **settings):
    """The three checks' figures for ``method`` (with ``settings``) on ``faces`` (n, 2304) with true ``labels``."""
    random_pipe = randomized(pipe) if random_pipe is None else random_pipe
    start = time.perf_counter()
    result = saliency_maps(pipe, faces, method=method, **settings)
    seconds = time.perf_counter() - start
    maps, predicted = result.maps, np.asarray(pipe.classes_)[result.columns]
    random_maps = saliency_maps(random_pipe, faces, target=predicted, method=method, **settings).maps
    mirrored_faces = faces.reshape(-1, 48, 48)[:, :, ::-1].reshape(len(faces), -1)
    of_mirrored = saliency_maps(pipe, mirrored_faces, target=predicted, method=method, **settings).maps
    happy = (np.asarray(labels) == HAPPY) & (predicted == HAPPY)
    eyes, mouth = region_mass(maps[happy], "eyes"), region_mass(maps[happy], "mouth")
    random_rho = rank_correlations(maps, random_maps)
    mirror_rho = rank_correlations(maps, of_mirrored[:, :, ::-1])
    return {
        "settings": settings,
        "faces": int(len(faces)),
        "seconds_per_face": round(seconds / len(faces), 4),
        "randomized_weights": {
            "mean_rank_correlation": round(float(np.nanmean(random_rho)), 3),
            "max_rank_correlation": round(float(np.nanmax(random_rho)), 3),
            "constant_maps": int(np.isnan(random_rho).sum()),
        },
        "mirror": {
            "mean_rank_correlation": round(float(np.nanmean(mirror_rho)), 3),
            "min_rank_correlation": round(float(np.nanmin(mirror_rho)), 3),
            # the mirrored face's map against the face's own, not mirrored back: how much of the
            # agreement above a map would have that did not follow the face
            "mean_rank_correlation_not_mirrored_back": round(
                float(np.nanmean(rank_correlations(maps, of_mirrored))), 3),
            "constant_maps": int(np.isnan(mirror_rho).sum()),
        },
        "happy_mouth_vs_eyes": {
            "faces": int(happy.sum()),
            "mean_mouth_mass": round(float(mouth.mean()), 4),
            "mean_eyes_mass": round(float(eyes.mean()), 4),
            "share_of_faces_mouth_above_eyes": round(float((mouth > eyes).mean()), 3),
        },
    }


def mirror_consistency(pipe, faces):
    """How far the model itself treats a mirrored face as the face: same predicted class, probability change."""
    proba = pipe.predict_proba(faces)
    mirrored = pipe.predict_proba(faces.reshape(-1, 48, 48)[:, :, ::-1].reshape(len(faces), -1))
    return {
        "same_predicted_class": round(float((proba.argmax(1) == mirrored.argmax(1)).mean()), 3),
        "mean_abs_probability_change": round(float(np.abs(proba - mirrored).mean()), 4),
    }


#: The methods' defaults, then the settings compared with them.
VARIANTS = {
    "gradcam": {},
    "occlusion": {},
    "gradcam, layer act3_1": ("gradcam", {"layer": "act3_1"}),
    "gradcam, layer act2_2": ("gradcam", {"layer": "act2_2"}),
    "occlusion, 8-pixel squares": ("occlusion", {"patch_size": 8}),
    "occlusion, 16-pixel squares": ("occlusion", {"patch_size": 16}),
}


def _markdown(result):
    lines = [
        f"# Saliency maps: sanity checks on FER2013 PublicTest ({result['date']})", "",
        f"Command: `{result['command']}`; CPU: {result['machine']['cpu']} "
        f"({result['machine']['cpu_count']} cores, {', '.join(result['machine']['cpu_flags'])}), shared with "
        f"other jobs while it ran. The shipped model (`load_pretrained()`, {result['model']}) on the first "
        f"{result['faces']} PublicTest faces (validation data); each method's raw maps, for the class "
        "predicted for each face. The checks and the regions are described in the script's docstring.", "",
        "| | gradcam (default) | occlusion (default) |", "|---|---|---|",
    ]
    rows = [
        ("Rank correlation with a randomized network's maps (mean; want far below 1)",
         "randomized_weights", "mean_rank_correlation"),
        ("... largest over the faces", "randomized_weights", "max_rank_correlation"),
        ("Rank correlation of a mirrored face's map, mirrored back, with the face's map (mean; want >= 0.8)",
         "mirror", "mean_rank_correlation"),
        ("... smallest over the faces", "mirror", "min_rank_correlation"),
        ("... the same, not mirrored back (what a map that ignored the mirroring would score)",
         "mirror", "mean_rank_correlation_not_mirrored_back"),
        ("Happy faces (true and predicted)", "happy_mouth_vs_eyes", "faces"),
        ("Mean map mass in the mouth band", "happy_mouth_vs_eyes", "mean_mouth_mass"),
        ("Mean map mass in the eyes band", "happy_mouth_vs_eyes", "mean_eyes_mass"),
        ("Share of those faces with more mass in the mouth band", "happy_mouth_vs_eyes",
         "share_of_faces_mouth_above_eyes"),
        ("Seconds per face (one map, on this shared CPU)", None, "seconds_per_face"),
    ]
    for text, group, key in rows:
        cells = [result[m][group][key] if group else result[m][key] for m in METHODS]
        lines.append(f"| {text} | {cells[0]} | {cells[1]} |")
    consistency = result["model_mirror_consistency"]
    everything = {**{m: result[m] for m in METHODS}, **result["variants"]}
    reached = [name for name, v in everything.items() if v["mirror"]["mean_rank_correlation"] >= 0.8]
    lines += [
        "",
        "Other settings, same faces:", "",
        "| | randomized (mean) | mirror (mean) | not mirrored back | Happy: mouth above eyes |",
        "|---|---|---|---|---|",
        *[
            f"| {name} | {v['randomized_weights']['mean_rank_correlation']} | "
            f"{v['mirror']['mean_rank_correlation']} | {v['mirror']['mean_rank_correlation_not_mirrored_back']} | "
            f"{v['happy_mouth_vs_eyes']['share_of_faces_mouth_above_eyes']} |"
            for name, v in result["variants"].items()
        ],
        "",
        f"The mirror check's 0.8 is reached by: {', '.join(reached) or 'no method at any setting measured'}. "
        "The model itself is not mirror-symmetric: on these faces it predicts the same class for a "
        f"face and its mirror image for {consistency['same_predicted_class']:.1%} of them, and its "
        f"probabilities change by {consistency['mean_abs_probability_change']} on average. Its last "
        "pooling (11x11 to 5x5) also drops the right column and bottom row of the last block, which "
        "mirroring moves to the left. Larger occlusion squares average more of that away.",
        "",
        "Grad-CAM explains the float Keras network (its ReLU keeps the positive evidence only); "
        "occlusion explains what the pipeline predicts, here the 8-bit engine, and its maps are signed. "
        "Maps that were constant (no rank correlation) are left out of the means; there were "
        f"{sum(v['randomized_weights']['constant_maps'] + v['mirror']['constant_maps'] for v in result['variants'].values())}.",
    ]
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=os.environ.get("SKFER_DATA") or DEFAULT_DATA,
                        help="FER2013 CSV or its folder (default: ../shared/data/fer2013)")
    parser.add_argument("--faces", type=int, default=200, help="PublicTest faces (default: 200)")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    data = load_fer2013(args.data, usage="PublicTest")
    faces, labels = to_pixel_array(data.data[: args.faces]), data.target[: args.faces]
    pipe = load_pretrained()
    random_pipe = randomized(pipe)
    variants = {}
    for name, variant in VARIANTS.items():
        method, settings = (name, variant) if name in METHODS else variant
        variants[name] = sanity(pipe, faces, labels, method, random_pipe, **settings)
        print(f"{name}: {variants[name]}", file=sys.stderr, flush=True)
    result = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "command": shlex.join(["python", "benchmarks/saliency_sanity.py",
                               *(argv if argv is not None else sys.argv[1:])]),
        "machine": machine(),
        "versions": versions(),
        "model": DEFAULT_MODEL,
        "faces": int(len(faces)),
        "regions": {name: [[r.start, r.stop], [c.start, c.stop]] for name, (r, c) in REGIONS.items()},
        "model_mirror_consistency": mirror_consistency(pipe, faces),
        **{method: variants[method] for method in METHODS},
        "variants": {name: v for name, v in variants.items() if name not in METHODS},
    }
    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / "saliency_sanity.json").write_text(json.dumps(result, indent=2) + "\n")
    text = _markdown(result)
    (args.output / "saliency_sanity.md").write_text(text)
    print(text)


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # TensorFlow is imported later, by main()
    main()
