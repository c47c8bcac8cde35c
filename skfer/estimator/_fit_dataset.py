"""Train a FERClassifier on faces read batch by batch (a Keras PyDataset)."""

import numpy as np

import warnings

from ._training import DatasetData, encode_validation, fit_options, train


def fit_dataset(classifier, dataset, *, validation_data=None):
    """Train a FERClassifier on a dataset that yields batches, such as :class:`FaceFolderDataset`.

    ``FERClassifier.fit`` takes arrays, so all faces must fit in memory.
    This function trains the same network with the same recipe from a
    ``keras.utils.PyDataset`` instead: it builds the classifier's model for
    the dataset's classes (``classifier.initialize``, seeded by
    ``random_state``), then trains it through the same routine as ``fit``:
    the classifier's optimizer, callbacks, learning-rate schedule, layer
    freezing, ``class_weight``, progress (``verbose=1``) and checkpoints
    (``checkpoint_dir`` and ``resume``; the dataset's file names and labels
    identify the data). Afterwards the classifier predicts, scores and saves
    as if ``fit`` had trained it, and ``history_`` holds the epochs.

    The dataset sets the batch size and the order: a classifier whose
    ``batch_size`` differs from the dataset's gets a warning naming both.
    Settings that need validation data (``early_stopping``, the plateau
    schedule) need ``validation_data`` here: a dataset cannot be split.

    Parameters
    ----------
    classifier : FERClassifier
        The classifier to train; its model is built anew.
    dataset : keras.utils.PyDataset
        Batches ``(faces, labels)``: faces as the classifier takes them
        (normalized, shape (batch, 2304)), labels as positions in
        ``dataset.classes_``, the sorted array of the class labels.
    validation_data : keras.utils.PyDataset or tuple (X_val, y_val), default=None
        Evaluated after every epoch, for early stopping and the plateau
        schedule: a dataset like ``dataset``, or faces and labels (the
        labels of ``dataset.classes_``, or emotion names for FER2013's).

    Returns
    -------
    classifier : FERClassifier
        The trained classifier.

    Examples
    --------
    >>> import tempfile, pathlib, cv2, numpy as np
    >>> from skfer import FERClassifier
    >>> from skfer import fit_dataset
    >>> from skfer.datasets import FaceFolderDataset
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> for emotion in ("happy", "sad"):
    ...     (root / emotion).mkdir()
    ...     for i in range(6):
    ...         face = np.full((48, 48), 40 * i, np.uint8)
    ...         _ = cv2.imwrite(str(root / emotion / f"{i}.png"), face)
    >>> data = FaceFolderDataset(root, crop=False, batch_size=4, random_state=0)
    >>> clf = FERClassifier(architecture__filters=(4,), architecture__dense_units=8, dropout=0.1,
    ...                     batch_size=4, epochs=2, random_state=0)
    >>> clf = fit_dataset(clf, data)
    >>> clf.classes_.tolist(), len(clf.history_["loss"])
    ([3, 4], 2)
    """
    classes = np.asarray(dataset.classes_)
    if len(classes) < 2:
        raise ValueError(f"The dataset has {len(classes)} class; FERClassifier needs at least 2.")
    faces, _ = dataset[0]
    options = fit_options(classifier, {}, "fit")
    given = getattr(dataset, "batch_size", None)
    if given is not None and given != options["batch_size"]:
        warnings.warn(
            f"fit_dataset: the dataset's batches hold {given} faces; the classifier's "
            f"batch_size={options['batch_size']} does not act (the dataset sets it).",
            UserWarning, stacklevel=2,
        )
    classifier.initialize(np.repeat(faces[:1], len(classes), axis=0), classes)
    if validation_data is None:
        validation_data = options.get("validation_data")
    if isinstance(validation_data, tuple):  # labels in any form fit's y takes, encoded like it
        validation_data = encode_validation(classifier, validation_data)
    train(classifier, DatasetData(dataset), epochs=options["epochs"],
          validation_data=validation_data, verbose=options["verbose"])
    return classifier
