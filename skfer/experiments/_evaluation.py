"""Evaluate a fitted pipeline on a named split and write the report files."""

import hashlib
import json
from pathlib import Path

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

from .._files import write_atomically
from .._hardware import machine, versions
from .._labels import align_labels, emotion_names


def _class_names(classes):
    """Emotion names of FER2013 classes; other classes as text."""
    try:
        return emotion_names(classes)
    except ValueError:
        return [str(c) for c in np.asarray(classes).tolist()]


def data_hash(X):
    """SHA-256 of faces given as pixel strings or arrays, to name the data a figure came from.

    Parameters
    ----------
    X : array-like
        Pixel strings or numeric faces.

    Returns
    -------
    str
        Hex digest.

    Examples
    --------
    >>> from skfer.experiments._evaluation import data_hash
    >>> len(data_hash(["1 2 3"])), data_hash(["1 2 3"]) == data_hash(["1 2 4"])
    (64, False)
    """
    digest = hashlib.sha256()
    X = np.asarray(X)
    if X.dtype.kind == "O":
        for row in X.ravel():
            digest.update(str(row).encode() + b"\n")
    else:
        digest.update(np.ascontiguousarray(X).tobytes())
    return digest.hexdigest()


def classification_scores(y_true, y_pred, labels):
    """Accuracy, macro-F1, per-class scores and the confusion matrix of predictions.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.
    y_pred : array-like of shape (n_samples,)
        Predicted labels.
    labels : list
        The classes, in the order of the per-class scores and the matrix;
        integer labels 0-6 are reported by emotion name.

    Returns
    -------
    dict
        ``accuracy``, ``macro_f1``, ``per_class`` (name to precision, recall,
        f1, support), ``labels`` and ``confusion_matrix`` (rows: true,
        columns: predicted, in ``labels`` order), JSON-ready.

    Examples
    --------
    >>> from skfer.experiments._evaluation import classification_scores
    >>> scores = classification_scores([3, 4], [3, 3], labels=[3, 4])
    >>> scores["accuracy"], scores["labels"], scores["confusion_matrix"]
    (0.5, ['Happy', 'Sad'], [[1, 0], [1, 0]])
    """
    labels = list(labels)
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, zero_division=0
    )
    names = _class_names(labels)
    return {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "macro_f1": float(f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)),
        "per_class": {
            name: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
            for name, p, r, f, s in zip(names, precision, recall, f1, support)
        },
        "labels": names,
        "confusion_matrix": confusion_matrix(y_true, y_pred, labels=labels).tolist(),
    }


def evaluation_report(estimator, X, y, *, split=None, proba=None):
    """Score a fitted classifier on a named split (see :func:`classification_scores`).

    Parameters
    ----------
    estimator : fitted classifier or pipeline
        Must have ``predict`` (or ``predict_proba``, when ``proba`` is given)
        and ``classes_``.
    X : array-like
        Faces in the form the estimator takes.
    y : array-like of shape (n_samples,)
        True labels; FER2013's integer labels and emotion names are
        interchangeable when the classes are FER2013 emotions.
    split : str, default=None
        Name of the split ``X`` comes from (e.g. ``"PublicTest"``), recorded as is.
    proba : ndarray of shape (n_samples, n_classes), default=None
        The estimator's probabilities for ``X``, if already computed; the
        prediction is their argmax.

    Returns
    -------
    dict
        ``split``, ``n_rows`` and the entries of :func:`classification_scores`.

    Examples
    --------
    >>> from sklearn.dummy import DummyClassifier
    >>> from skfer.experiments._evaluation import evaluation_report
    >>> clf = DummyClassifier().fit([[0], [0], [0]], [3, 3, 4])
    >>> evaluation_report(clf, [[0], [0]], [3, 4], split="toy")["accuracy"]
    0.5
    """
    classes = estimator.classes_
    y_pred = estimator.predict(X) if proba is None else classes[np.argmax(proba, axis=1)]
    scores = classification_scores(align_labels(y, classes), y_pred, classes)
    return {"split": split, "n_rows": len(y), **scores}


def _classifiers(model):
    """The FERClassifier of a pipeline, or of each member of a (frozen) voting ensemble."""
    if hasattr(model, "estimators_"):
        return [classifier for member in model.estimators_ for classifier in _classifiers(member)]
    if hasattr(model, "estimator"):  # FrozenEstimator
        return _classifiers(model.estimator)
    return [model[-1] if hasattr(model, "steps") else model]


def accuracy_by_tta(model, X, y, ttas=(None, "flip", "ten_crop")):
    """Accuracy of a fitted model with each test-time augmentation, its own ``tta`` left as it was.

    Parameters
    ----------
    model : fitted FERClassifier, pipeline ending in one, or voting ensemble of them
        Every FERClassifier in it predicts with each ``tta`` in turn.
    X : array-like
        Faces in the form the model takes.
    y : array-like of shape (n_samples,)
        True labels.
    ttas : sequence of {None, "flip", "ten_crop"}, default=(None, "flip", "ten_crop")
        The test-time augmentations to score.

    Returns
    -------
    dict
        Accuracy by augmentation, keyed ``"none"``, ``"flip"``, ``"ten_crop"``.
        The shipped models' accuracies with each are in the model card
        (``docs/model_card.md``).

    Examples
    --------
    >>> from skfer.experiments._evaluation import accuracy_by_tta
    >>> scores = accuracy_by_tta(fitted_pipe, val.data, val.target)  # doctest: +SKIP
    >>> sorted(scores)  # doctest: +SKIP
    ['flip', 'none', 'ten_crop']
    """
    classifiers = _classifiers(model)
    own = [classifier.tta for classifier in classifiers]
    scores = {}
    try:
        for tta in ttas:
            for classifier in classifiers:
                classifier.set_params(tta=tta)
            scores["none" if tta is None else tta] = float(model.score(X, y))
    finally:
        for classifier, tta in zip(classifiers, own):
            classifier.set_params(tta=tta)
    return scores


def update_metrics(output_dir, **entries):
    """Add entries to the ``metrics.json`` that :func:`save_report` wrote in ``output_dir``.

    Examples
    --------
    >>> import json, pathlib, tempfile
    >>> from skfer.experiments._evaluation import update_metrics
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "metrics.json").write_text('{"accuracy": 0.5}')
    >>> update_metrics(folder, tta="flip")["tta"]
    'flip'
    """
    path = Path(output_dir) / "metrics.json"
    metrics = {**json.loads(path.read_text()), **entries}
    write_atomically(path, lambda tmp: tmp.write_text(json.dumps(metrics, indent=2)))
    return metrics


def save_report(estimator, X, y, output_dir, *, split=None, extra=None):
    """Write ``metrics.json``, ``history.json`` and PNGs (confusion matrix, ROC, history) for a fitted pipeline.

    Parameters
    ----------
    estimator : fitted classifier or pipeline
        Must have ``predict``, ``predict_proba`` and ``classes_``.
    X : array-like
        Faces in the form the estimator takes.
    y : array-like of shape (n_samples,)
        True labels.
    output_dir : str or path-like
        Folder for the files; created if missing.
    split : str, default=None
        Name of the split evaluated.
    extra : dict, default=None
        More JSON-ready entries for ``metrics.json`` (e.g. training time).

    Returns
    -------
    dict
        The metrics written: :func:`evaluation_report` plus ``data_sha256``,
        ``versions``, ``machine``, ``tta`` (the test-time augmentation the
        figures were predicted with) and ``extra``.

    Examples
    --------
    >>> from skfer.experiments._evaluation import save_report
    >>> save_report(fitted_pipe, val.data, val.target, "out", split="PublicTest")  # doctest: +SKIP
    """
    import keras
    import matplotlib.pyplot as plt
    from sklearn.metrics import ConfusionMatrixDisplay

    from ..reporting import MulticlassROCDisplay, TrainingHistoryDisplay

    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    classes = estimator.classes_
    y = align_labels(y, classes)
    proba = estimator.predict_proba(X)  # the one prediction pass every figure uses
    metrics = evaluation_report(estimator, X, y, split=split, proba=proba)
    metrics["data_sha256"] = data_hash(X)
    metrics["backend"] = keras.backend.backend()
    metrics["versions"] = versions(metrics["backend"])
    metrics["machine"] = machine()
    # The test-time augmentation these figures were predicted with (None: each face once).
    ttas = list(dict.fromkeys(getattr(c, "tta", None) for c in _classifiers(estimator)))
    metrics["tta"] = ttas[0] if len(ttas) == 1 else ttas
    metrics.update(extra or {})
    write_atomically(output_dir / "metrics.json", lambda tmp: tmp.write_text(json.dumps(metrics, indent=2)))

    names = np.array(_class_names(classes))
    index = {c: i for i, c in enumerate(classes.tolist())}
    y_named = names[[index[v] for v in np.asarray(y).tolist()]]
    pred_named = names[np.argmax(proba, axis=1)]
    for normalize, name in ((None, "confusion_matrix.png"), ("true", "confusion_matrix_normalized.png")):
        fig, ax = plt.subplots(figsize=(8, 7), layout="constrained")
        ConfusionMatrixDisplay.from_predictions(
            y_named, pred_named, labels=names, normalize=normalize, ax=ax,
            values_format=".2f" if normalize else "d", xticks_rotation=45, colorbar=False,
        )
        ax.set_title(f"Confusion matrix on {split or 'the data'} ({len(y)} faces)")
        write_atomically(output_dir / name, lambda tmp: fig.savefig(tmp, dpi=120))
        plt.close(fig)
    roc = MulticlassROCDisplay.from_predictions(y, proba, labels=classes, display_labels=list(names))
    write_atomically(output_dir / "roc.png", lambda tmp: roc.figure_.savefig(tmp, dpi=120, bbox_inches="tight"))
    plt.close(roc.figure_)
    classifier = estimator[-1] if hasattr(estimator, "steps") else estimator
    if getattr(classifier, "history_", None):
        text = json.dumps(dict(classifier.history_), indent=2, default=float)
        write_atomically(output_dir / "history.json", lambda tmp: tmp.write_text(text))
        history = TrainingHistoryDisplay.from_estimator(classifier)
        write_atomically(
            output_dir / "history.png", lambda tmp: history.figure_.savefig(tmp, dpi=120, bbox_inches="tight")
        )
        plt.close(history.figure_)
    return metrics
