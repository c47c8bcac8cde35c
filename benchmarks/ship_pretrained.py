"""Ship a trained run as a pretrained model: weights, card and int8 engine into ``skfer/pretrained/``.

Reads the run's saved Keras model (``--model``, e.g. the ``model.keras`` that
``benchmarks/train_fer2013.py`` or ``skfer train`` wrote) and its
``benchmarks/results/<run>/metrics.json``, and writes
``skfer/pretrained/fer2013_<name>.weights.h5`` and ``fer2013_<name>.json``
(the run's FERClassifier parameters that shape the network or its
prediction, read from its ``metrics.json``; the order of the output units;
PublicTest accuracy; the run that made it), and the int8 engine
``fer2013_<name>.int8.onnx`` that ``load_pretrained`` predicts with by
default (``benchmarks/pretrained_int8.py``'s ``write_engine``, calibrated on
FER2013 Training faces from ``--data``). Add the name to
``skfer.pretrained.MODELS`` to ship it.

Example
-------
::

    python benchmarks/ship_pretrained.py --name crop_cosine --recipe crop_cosine \\
        --run cpu_dcnn_crop_cosine_70ep --output-classes labels --tta none \\
        --model ~/skfer-runs/cpu_dcnn_crop_cosine_70ep/model.keras

``--tta none`` ships a model that predicts each face once, for a run whose
flip or ten-crop accuracy is no better (``accuracy_by_tta`` in its metrics).
"""

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

from skfer import EMOTIONS, FERClassifier
from skfer.experiments import RECIPES
from skfer.models import load_model

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "fer2013"
#: Parameters that change training only, or one program's run, not the network a card rebuilds.
_TRAINING_ONLY = ("early_stopping", "lr_schedule", "warmup_epochs", "learning_rate", "optimizer",
                  "weight_decay", "batch_size", "label_smoothing", "distillation", "epochs", "verbose", "random_state",
                  "checkpoint_dir", "resume", "train_dtype", "predict_dtype")


def card_params(run_params, tta="run"):
    """The run's FERClassifier parameters that differ from the defaults, less training-only ones."""
    defaults = json.loads(json.dumps(FERClassifier().get_params(), default=repr))
    params = {
        k: v for k, v in run_params.items()
        if k in defaults and k not in _TRAINING_ONLY and v != defaults[k]
    }
    if tta != "run":
        params["tta"] = None if tta == "none" else tta
    return params


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--name", required=True, help="model name in skfer.pretrained.MODELS")
    parser.add_argument("--recipe", required=True, choices=sorted(RECIPES),
                        help="the recipe the run started from (recorded on the card)")
    parser.add_argument("--run", required=True, help="folder under benchmarks/results/")
    parser.add_argument("--model", required=True, type=Path, help="the run's saved .keras model")
    parser.add_argument("--output-classes", default="names",
                        choices=["names", "labels"],
                        help="what the run trained on: emotion names (units in alphabetical order) "
                             "or FER2013 labels 0-6 (units in EMOTIONS order)")
    parser.add_argument("--tta", choices=["run", "none", "flip", "ten_crop"], default="run",
                        help="test-time augmentation the shipped model predicts with (default: the "
                             "run's); choose from the run's accuracy_by_tta")
    parser.add_argument("--data", default=os.environ.get("SKFER_DATA", DEFAULT_DATA),
                        help="FER2013, whose Training faces calibrate the int8 engine")
    args = parser.parse_args(argv)
    metrics = json.loads((ROOT / "benchmarks" / "results" / args.run / "metrics.json").read_text())
    params = card_params(metrics["classifier_params"], args.tta)
    weights = f"fer2013_{args.name}.weights.h5"
    # Rebuild the network from the card's parameters (as load_pretrained will)
    # and save only its weights, not the optimizer's state.
    classifier = FERClassifier(**params)
    classifier.initialize(np.zeros((len(EMOTIONS), 48, 48), np.float32), np.arange(len(EMOTIONS)))
    classifier.model_.set_weights(load_model(args.model).get_weights())
    classifier.model_.save_weights(ROOT / "skfer" / "pretrained" / weights)
    card = {
        "weights": weights,
        "output_classes": sorted(EMOTIONS) if args.output_classes == "names" else list(EMOTIONS),
        "classifier_params": params,
        "recipe": args.recipe,
        "benchmark": f"benchmarks/results/{args.run}/metrics.json",
        "trained_by": metrics.get("command"),
        # With the test-time augmentation the card's parameters predict with.
        "publictest_accuracy": round(
            metrics.get("accuracy_by_tta", {}).get(params.get("tta") or "none", metrics["accuracy"]), 4
        ),
    }
    (ROOT / "skfer" / "pretrained" / f"fer2013_{args.name}.json").write_text(json.dumps(card, indent=2) + "\n")
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from pretrained_int8 import write_engine

    from skfer.experiments import fer2013_calibration_faces

    engine = write_engine(card, fer2013_calibration_faces(args.data))
    print(f"wrote skfer/pretrained/{weights}, fer2013_{args.name}.json and {engine.name}")


if __name__ == "__main__":
    main()
