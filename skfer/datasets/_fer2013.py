"""Loader for FER2013 in Kaggle's CSV layout."""

import os
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

from .._constants import EMOTIONS
from ..preprocessing._pixels import BadPixelString, check_pixel_strings, pixel_string_error

USAGES = ("Training", "PublicTest", "PrivateTest")
_COLUMNS = ("emotion", "pixels")
_HOW_TO_GET = (
    "FER2013 is not downloaded automatically. Get it from Kaggle's 'Challenges in "
    "Representation Learning: Facial Expression Recognition Challenge' (file "
    "fer2013.csv, plain or gzipped), then pass its path, set the SKFER_DATA "
    "environment variable to its folder, or put it in ~/skfer_data/."
)

DESCR = """\
FER2013 facial expression dataset
---------------------------------

48x48 grayscale faces, each stored as a string of 2304 space-separated
integers (0-255, row-major), labelled with one of seven emotions:
0 Angry, 1 Disgust, 2 Fear, 3 Happy, 4 Sad, 5 Surprise, 6 Neutral.

Splits (column ``Usage``): Training (28,709 faces), PublicTest (3,589) and
PrivateTest (3,589). Fit on Training, select models on PublicTest and call
PublicTest figures validation accuracy; PrivateTest is the test split.

The labels are noisy and some faces occur in more than one split. The data
is for research use.

Goodfellow et al., "Challenges in Representation Learning: A report on three
machine learning contests", ICONIP 2013.
"""


def get_data_home(data_home=None):
    """Return the folder where skfer looks for data files.

    Parameters
    ----------
    data_home : str or path-like, default=None
        The folder to use. If None, the ``SKFER_DATA`` environment variable is
        used when set, else ``~/skfer_data``.

    Returns
    -------
    pathlib.Path
        The data folder (it may not exist).

    Examples
    --------
    >>> from skfer.datasets import get_data_home
    >>> str(get_data_home("/data/faces"))
    '/data/faces'
    """
    if data_home is None:
        data_home = os.environ.get("SKFER_DATA") or Path("~") / "skfer_data"
    return Path(data_home).expanduser()


def find_fer2013(path=None):
    """The FER2013 CSV file ``load_fer2013(path)`` would read, without reading it.

    Parameters
    ----------
    path : str or path-like, default=None
        A CSV file, a folder holding one ``fer2013*.csv`` or
        ``fer2013*.csv.gz``, or None for :func:`get_data_home`.

    Returns
    -------
    pathlib.Path
        The file.

    Raises
    ------
    FileNotFoundError
        If there is none; the message names where it looked.

    Examples
    --------
    >>> from skfer.datasets import find_fer2013
    >>> find_fer2013("/nonexistent")
    Traceback (most recent call last):
    ...
    FileNotFoundError: No FER2013 CSV file (fer2013*.csv or fer2013*.csv.gz) at /nonexistent. ...
    """
    folder = get_data_home(path)
    if path is not None and folder.is_file():
        return folder
    if folder.is_dir():
        found = sorted(folder.glob("fer2013*.csv")) + sorted(folder.glob("fer2013*.csv.gz"))
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            names = ", ".join(str(f) for f in found)
            raise ValueError(
                f"Found several FER2013 files in {folder}: {names}. Pass the one to "
                "use as `path`."
            )
    looked = "" if path is not None else " (path=None looks in $SKFER_DATA, then ~/skfer_data)"
    raise FileNotFoundError(
        f"No FER2013 CSV file (fer2013*.csv or fer2013*.csv.gz) at {folder}{looked}. "
        f"{_HOW_TO_GET}"
    )


def _check_frame(frame, csv):
    missing = [c for c in _COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(
            f"{csv} lacks the column(s) {missing}; a FER2013 CSV has the columns "
            f"emotion, pixels and Usage, found {list(frame.columns)}."
        )
    labels = pd.to_numeric(frame["emotion"], errors="coerce")
    bad = ~labels.isin(range(len(EMOTIONS)))
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise ValueError(
            f"{csv}: row {row} (line {row + 2}) has the label "
            f"{str(frame['emotion'].iloc[row])!r}; labels must be integers 0-6."
        )
    return labels.to_numpy(dtype=np.int64)


def _select_usage(usage, frame, csv):
    if usage is None:
        return np.ones(len(frame), dtype=bool)
    wanted = [usage] if isinstance(usage, str) else list(usage)
    unknown = [u for u in wanted if u not in USAGES]
    if unknown:
        raise ValueError(f"Unknown usage {unknown}; choose from {list(USAGES)}.")
    if "Usage" not in frame.columns:
        raise ValueError(f"{csv} has no Usage column, so usage={usage!r} cannot be selected.")
    mask = frame["Usage"].isin(wanted).to_numpy()
    absent = [u for u in wanted if u not in set(frame["Usage"].unique())]
    if absent:
        raise ValueError(
            f"{csv} has no rows with Usage {absent}; it holds "
            f"{sorted(frame['Usage'].unique())}."
        )
    return mask


def _check_pixels(frame, csv):
    """Check the pixel strings of ``frame`` (rows of ``csv``, index = file row); name a bad one."""
    try:
        check_pixel_strings(frame["pixels"].to_numpy(dtype=object))
    except BadPixelString as bad:
        usage = f"Usage {frame['Usage'].iloc[bad.row]!r}, " if "Usage" in frame.columns else ""
        line = frame.index[bad.row] + 2  # the index counts data rows; line 1 is the header
        where = f"on line {line} of {csv} ({usage}row {bad.row} of the loaded faces)"
        raise pixel_string_error(bad, where) from None


def load_fer2013(path=None, *, usage=None, return_X_y=False, as_frame=False):
    """Load FER2013 faces from Kaggle's CSV layout (plain or gzipped).

    Parameters
    ----------
    path : str or path-like, default=None
        A FER2013 CSV file, or a folder holding one file named
        ``fer2013*.csv`` or ``fer2013*.csv.gz``. If None, the folder given by
        the ``SKFER_DATA`` environment variable is used, else ``~/skfer_data``.
    usage : {"Training", "PublicTest", "PrivateTest"} or list of them, default=None
        The split(s) to return. None returns every row.
    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.
    as_frame : bool, default=False
        If True, ``data`` is a pandas DataFrame with the column ``pixels``,
        ``target`` a pandas Series, and the Bunch also has ``frame``.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the attributes:

        data : ndarray of shape (n_samples,) of str, or DataFrame
            Each face as a string of 2304 space-separated pixel values.
        target : ndarray of shape (n_samples,) of int, or Series
            Emotion labels, 0-6.
        target_names : list of str
            Emotion names in label order (Angry ... Neutral).
        usage : ndarray of shape (n_samples,) of str
            The split of each row (empty strings if the file has none).
        frame : DataFrame
            Only with ``as_frame=True``: pixels, emotion and Usage columns.
        DESCR : str
            Description of the dataset.
        filename : str
            The CSV file the faces were read from.

    (data, target) : tuple
        With ``return_X_y=True``.

    Raises
    ------
    FileNotFoundError
        If no FER2013 file is found; the message says where skfer looked.
    ValueError
        If a column is missing, a label is not an integer 0-6 or a pixel
        string is malformed (the message names the file line, the row and,
        for pixels, the split), or a requested split has no rows.

    Examples
    --------
    >>> from skfer import load_fer2013
    >>> val = load_fer2013(usage="PublicTest")  # doctest: +SKIP
    >>> val.data.shape, val.target_names[3]  # doctest: +SKIP
    ((3589,), 'Happy')
    """
    csv = find_fer2013(path)
    frame = pd.read_csv(csv, dtype={"pixels": object, "Usage": object})
    target = _check_frame(frame, csv)
    mask = _select_usage(usage, frame, csv)
    frame = frame.loc[mask]
    if len(frame):
        _check_pixels(frame, csv)
    frame = frame.reset_index(drop=True)
    target = target[mask]
    split = (
        frame["Usage"].to_numpy(dtype=object)
        if "Usage" in frame.columns
        else np.full(len(frame), "", dtype=object)
    )
    if as_frame:
        frame["emotion"] = target
        data, target = frame[["pixels"]], frame["emotion"]
    else:
        data = frame["pixels"].to_numpy(dtype=object)
    if return_X_y:
        return data, target
    bunch = Bunch(
        data=data,
        target=target,
        target_names=list(EMOTIONS),
        usage=split,
        DESCR=DESCR,
        filename=str(csv),
    )
    if as_frame:
        bunch.frame = frame
    return bunch
