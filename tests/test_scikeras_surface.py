"""What skfer relies on from scikeras: its public surface only, listed and checked here."""

import pickle
import re
from pathlib import Path

import numpy as np
from scikeras.wrappers import BaseWrapper, KerasClassifier

from skfer import FERClassifier

from .conftest import TINY

SKFER = Path(__file__).resolve().parents[1] / "skfer"

#: Private names scikeras sets on instances rather than defines on its classes.
_INSTANCE_PRIVATE = {"_random_state", "_fit_callbacks", "_predict_callbacks", "_keras_build_fn"}

#: The public scikeras surface FERClassifier uses, each with what it is used for.
RELIED_ON = {
    "get_params": "lists parameters (every public attribute), routed ones included",
    "target_encoder": "the label encoder (emotion names or integers to class positions)",
    "feature_encoder": "the face encoder (identity), an extension point for subclasses",
    "initialized_": "whether model_ exists",
    "current_epoch": "epochs trained, where partial_fit continues",
    "__getstate__": "pickles model_",
    "__setstate__": "unpickles model_",
}


def _private_scikeras_names():
    defined = {n for cls in (BaseWrapper, KerasClassifier) for n in vars(cls)}
    return sorted({n for n in defined | _INSTANCE_PRIVATE if n.startswith("_") and not n.startswith("__")})


def test_skfer_uses_no_private_scikeras_name():
    names = _private_scikeras_names()
    assert "_fit_keras_model" in names and "_validate_data" in names  # the list is scikeras' own
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, names)) + r")\b")
    found = [
        f"{path.relative_to(SKFER.parent)}:{i}: {match.group(0)}"
        for path in sorted(SKFER.rglob("*.py"))
        for i, line in enumerate(path.read_text().splitlines(), 1)
        for match in [pattern.search(line)]
        if match
    ]
    assert found == []


def test_the_public_surface_skfer_relies_on_exists_and_is_public():
    for name in RELIED_ON:
        assert hasattr(KerasClassifier, name), name
        assert not name.startswith("_") or name.startswith("__"), name
    assert issubclass(FERClassifier, KerasClassifier)


def test_routed_parameters_reach_the_optimizer_callbacks_and_survive_pickling(faces):
    import keras

    X, y = faces
    clf = FERClassifier(**TINY, optimizer="sgd", optimizer__momentum=0.5,
                        callbacks=[keras.callbacks.EarlyStopping], callbacks__0__patience=3,
                        callbacks__0__monitor="loss")
    assert clf.get_params()["optimizer__momentum"] == 0.5
    clf.set_params(optimizer__momentum=0.7).fit(X / 255, y)
    assert float(clf.model_.optimizer.momentum) == 0.7
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_allclose(restored.predict_proba(X[:5] / 255), clf.predict_proba(X[:5] / 255), atol=1e-6)
    assert restored.current_epoch == clf.current_epoch == 1
