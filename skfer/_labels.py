"""FER2013's label convention: integers 0-6, or the emotion names they stand for."""

from numbers import Integral

import numpy as np

from ._constants import EMOTIONS


def emotion_names(classes):
    """Emotion name of each class: FER2013 labels 0-6 or the names themselves.

    Parameters
    ----------
    classes : array-like
        A classifier's ``classes_``.

    Returns
    -------
    list of str
        One emotion name per class.

    Raises
    ------
    ValueError
        If a class is neither a label 0-6 nor an emotion name.

    Examples
    --------
    >>> from skfer._labels import emotion_names
    >>> emotion_names([0, 3, 6])
    ['Angry', 'Happy', 'Neutral']
    >>> emotion_names(["Sad", "Happy"])
    ['Sad', 'Happy']
    """
    names = []
    for label in np.asarray(classes).tolist():
        if isinstance(label, Integral) and not isinstance(label, bool) and 0 <= label < len(EMOTIONS):
            names.append(EMOTIONS[label])
        elif isinstance(label, str) and label in EMOTIONS:
            names.append(label)
        else:
            raise ValueError(
                f"The class {label!r} is not an emotion: classes must be FER2013 labels "
                f"0-{len(EMOTIONS) - 1} or names from {EMOTIONS}."
            )
    return names


def _is_emotion_set(labels):
    try:
        emotion_names(labels)
    except ValueError:
        return False
    return True


def align_labels(y, classes):
    """Write ``y`` in the label convention of ``classes`` when both are FER2013 emotions.

    FER2013's integer labels and emotion names mean the same classes; a model
    fitted on one kind accepts the other. Labels that are not FER2013
    emotions, or that already match ``classes``' kind, are returned as given.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Labels, integers 0-6 or emotion names.
    classes : array-like
        A fitted classifier's ``classes_``.

    Returns
    -------
    ndarray of shape (n_samples,)
        ``y`` as integers if ``classes`` are integers, as names if they are names.

    Examples
    --------
    >>> import numpy as np
    >>> from skfer._labels import align_labels
    >>> align_labels([3, 0], np.array(["Angry", "Happy"])).tolist()
    ['Happy', 'Angry']
    >>> align_labels(["Happy"], np.arange(7)).tolist()
    [3]
    >>> align_labels(["cat"], np.array(["cat", "dog"])).tolist()
    ['cat']
    """
    y = np.asarray(y)
    classes = np.asarray(classes)
    if y.size == 0 or y.dtype.kind == classes.dtype.kind:
        return y
    if not (_is_emotion_set(np.unique(y)) and _is_emotion_set(classes)):
        return y
    if classes.dtype.kind in "iu":
        return np.asarray([EMOTIONS.index(name) for name in emotion_names(y)], dtype=classes.dtype)
    return np.asarray(emotion_names(y))
