"""benchmarks/ship_pretrained.py: a card rebuilds the network the run trained."""

import importlib.util
import json
from pathlib import Path

from skfer import FERClassifier

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def _card_params():
    spec = importlib.util.spec_from_file_location("ship_pretrained", BENCHMARKS / "ship_pretrained.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.card_params


def test_a_card_keeps_the_runs_network_parameters_and_drops_training_ones(tmp_path):
    trained = FERClassifier(
        architecture__kernel_sizes=(5, 3, 3), architecture__activation="elu", augmentation__crop_size=40,
        dropout=(0.1, 0.2, 0.2), tta="flip",
        learning_rate=2e-3, lr_schedule="cosine", checkpoint_dir=str(tmp_path), train_dtype="bfloat16",
    )
    # As skfer train records them in metrics.json.
    run_params = json.loads(json.dumps(trained.get_params(), default=repr))
    card = _card_params()(run_params)
    assert card == {"architecture__kernel_sizes": [5, 3, 3], "architecture__activation": "elu",
                    "augmentation__crop_size": 40, "dropout": [0.1, 0.2, 0.2], "tta": "flip"}
    assert _card_params()(run_params, tta="none")["tta"] is None
    rebuilt = FERClassifier(**card)
    X, y = [[0.5] * 2304] * 7, list(range(7))
    rebuilt.initialize(X, y), trained.initialize(X, y)
    assert [w.shape for w in rebuilt.model_.get_weights()] == [w.shape for w in trained.model_.get_weights()]
    assert rebuilt.model_.get_layer("act1_1").get_config()["activation"] == "elu"
