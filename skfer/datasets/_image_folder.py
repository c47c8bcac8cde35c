"""Load faces from a folder of photos, one sub-folder per emotion."""

import os
import warnings
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from numbers import Integral
from pathlib import Path

import cv2
import numpy as np
from joblib import effective_n_jobs
from sklearn.utils import Bunch
from .._validation import validate_params

from .._constants import EMOTIONS, IMAGE_SIZE, N_PIXELS
from ..preprocessing import FaceDetector

DESCR = """\
Faces from an image folder
--------------------------

One sub-folder per class; each image was read, converted to grayscale and
either searched for faces (the largest one kept, cropped and resized to
48x48 like FER2013's faces) or taken whole as a face and resized to 48x48.
``data`` holds 2304 pixel values 0-255 per face, row-major, like the parsed
FER2013 pixel strings.
"""


class _SkippedFile(Exception):
    """A file that gives no face; its message says why."""


def class_folders(path, classes=None):
    """The class sub-folders of ``path`` with their labels and the names of all labels.

    With ``classes=None`` the sub-folders must be FER2013 emotions (any case),
    labelled as in FER2013; else ``classes`` lists the folder names to use,
    labelled by position.
    """
    root = Path(path).expanduser()
    if not root.is_dir():
        raise FileNotFoundError(f"Image folder {str(root)!r} does not exist or is not a folder.")
    folders = {
        p.name: p for p in sorted(root.iterdir()) if p.is_dir() and not p.name.startswith(".")
    }
    if classes is None:
        emotions = {name.lower(): label for label, name in enumerate(EMOTIONS)}
        unknown = [name for name in folders if name.lower() not in emotions]
        if unknown or not folders:
            raise ValueError(
                f"The sub-folders of {str(root)!r} must be named after FER2013 emotions "
                f"{list(EMOTIONS)} (any case); found {sorted(folders) or 'none'}"
                f"{f', of which {unknown} are not emotions' if unknown else ''}. "
                "Pass classes=[folder names] to load other classes."
            )
        found = sorted((emotions[name.lower()], name) for name in folders)
        return [(folders[name], label) for label, name in found], list(EMOTIONS)
    missing = [name for name in classes if name not in folders]
    if missing:
        raise ValueError(
            f"classes names sub-folders {missing} that {str(root)!r} does not have; it has "
            f"{sorted(folders)}."
        )
    return [(folders[name], label) for label, name in enumerate(classes)], list(classes)


def list_image_files(path, classes=None):
    """Every file of every class sub-folder (sorted), with its label, and the label names."""
    folders, target_names = class_folders(path, classes)
    files, target = [], []
    for folder, label in folders:
        found = sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))
        files.extend(found)
        target.extend([label] * len(found))
    return files, np.asarray(target, dtype=np.int64), target_names


def _read_gray(path):
    """Read any image file OpenCV or Pillow decodes as 8-bit grayscale."""
    data = np.fromfile(path, dtype=np.uint8)
    image = cv2.imdecode(data, cv2.IMREAD_GRAYSCALE) if data.size else None
    if image is not None:
        return image
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as opened:
            return np.asarray(opened.convert("L"))
    except (UnidentifiedImageError, OSError):
        raise _SkippedFile("not an image OpenCV or Pillow can read") from None


def read_face(path, detector):
    """The 48x48 uint8 face of one image file: the largest detected one, or the whole image."""
    gray = _read_gray(path)
    if detector is None:
        if gray.shape == (IMAGE_SIZE, IMAGE_SIZE):
            return gray
        return cv2.resize(gray, (IMAGE_SIZE, IMAGE_SIZE), interpolation=cv2.INTER_AREA)
    found = detector.find(gray)
    if not found:
        raise _SkippedFile("no face found")
    largest = found[0]
    # find() gives Face tuples (their `image` is the crop), formerly (box, crop) pairs.
    return getattr(largest, "image", largest[-1])


def read_faces(files, detector, n_jobs=None):
    """Faces of ``files`` as (n, 2304) uint8, a mask of the files read, and (file, why) skipped."""

    def one(path):
        try:
            return read_face(path, detector), None
        except _SkippedFile as exc:
            return None, str(exc)

    with ThreadPoolExecutor(max_workers=effective_n_jobs(n_jobs)) as pool:
        results = list(pool.map(one, files))
    kept = np.array([face is not None for face, _ in results], dtype=bool)
    good = [face for face, _ in results if face is not None]
    faces = np.stack(good).reshape(-1, N_PIXELS) if good else np.empty((0, N_PIXELS), np.uint8)
    skipped = [(str(path), reason) for path, (_, reason) in zip(files, results) if reason]
    return faces, kept, skipped


def as_detector(crop, detector):
    """The validated FaceDetector that crops faces, or None when images are faces."""
    if not crop:
        return None
    return FaceDetector() if detector is None else detector


def skipped_summary(skipped, total, where):
    """One line: how many files were skipped and why, with a few names per reason."""
    by_reason = Counter(reason for _, reason in skipped)
    parts = []
    for reason, count in by_reason.most_common():
        names = [Path(name).name for name, why in skipped if why == reason][:3]
        more = ", ..." if count > len(names) else ""
        parts.append(f"{count} {reason} ({', '.join(names)}{more})")
    return f"Skipped {len(skipped)} of {total} files in {where}: {'; '.join(parts)}."


@validate_params(
    {
        "path": [str, os.PathLike],
        "classes": [list, tuple, None],
        "crop": ["boolean"],
        "detector": [FaceDetector, None],
        "n_jobs": [Integral, None],
        "return_X_y": ["boolean"],
    },
)
def load_image_folder(
    path, *, classes=None, crop=True, detector=None, n_jobs=None, return_X_y=False
):
    """Load your own faces from a folder of photos, one sub-folder per emotion.

    Each file of each sub-folder (searched recursively; hidden files are
    ignored) is read as grayscale in any format OpenCV or Pillow decodes
    (PNG, JPEG, BMP, TIFF, WebP, GIF, ...), at any size. With ``crop``, the
    largest face found is cropped and resized to 48x48 like FER2013's faces
    (images already 48x48 are taken as faces); without, the whole image is
    the face, resized to 48x48. Files that cannot be read
    and images without a face are skipped, listed in ``skipped`` and
    summed up in one ``UserWarning``.

    Parameters
    ----------
    path : str or path-like
        The folder. Its sub-folders name the classes, e.g. ``happy/``,
        ``sad/``.
    classes : list of str, default=None
        None: every sub-folder must be named after a FER2013 emotion (any
        case, e.g. ``Happy`` or ``happy``), and labels are FER2013's (Angry
        0 ... Neutral 6), so a model trained on FER2013 reads them. A list of
        folder names loads only those, labelled 0, 1, ... in list order.
    crop : bool, default=True
        Whether to find the largest face in each image and crop it (True),
        or take each image as a face, already cropped (False).
    detector : FaceDetector, default=None
        The :class:`~skfer.preprocessing.FaceDetector` that finds faces when
        ``crop`` is True; None means ``FaceDetector()``.
    n_jobs : int, default=None
        Threads reading and detecting (OpenCV releases the GIL); None means
        1, -1 one per core, as in :func:`joblib.effective_n_jobs`.
    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the attributes:

        data : ndarray of shape (n_faces, 2304), dtype uint8
            Each face's pixels 0-255, row-major; a pipeline from
            :func:`~skfer.make_fer_pipeline` takes it as it takes FER2013's
            pixel strings.
        images : ndarray of shape (n_faces, 48, 48), dtype uint8
            The same faces as images (a view of ``data``).
        target : ndarray of shape (n_faces,) of int
            Labels.
        target_names : list of str
            Class names in label order.
        usage : ndarray of shape (n_faces,) of str
            Empty strings: a folder has no FER2013 split.
        filenames : ndarray of shape (n_faces,) of str
            The file of each face.
        skipped : list of (str, str)
            Each skipped file and why.
        DESCR : str
            Description of the data.

    (data, target) : tuple
        With ``return_X_y=True``.

    Raises
    ------
    FileNotFoundError
        If ``path`` is not a folder.
    ValueError
        If a sub-folder is not an emotion (with ``classes=None``), a name of
        ``classes`` has no sub-folder, or no face was loaded.

    See Also
    --------
    load_fer2013 : The FER2013 faces, in the same Bunch layout.
    FaceFolderDataset : The same faces read batch by batch, for more faces
        than fit in memory.

    Examples
    --------
    >>> import tempfile, pathlib, cv2, numpy as np
    >>> from skfer.datasets import load_image_folder
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> for emotion in ("happy", "sad"):
    ...     (root / emotion).mkdir()
    ...     for i in range(3):
    ...         face = np.full((64, 80), 40 * i, np.uint8)
    ...         _ = cv2.imwrite(str(root / emotion / f"{i}.png"), face)
    >>> faces = load_image_folder(root, crop=False)
    >>> faces.data.shape, faces.target.tolist(), faces.target_names[3]
    ((6, 2304), [3, 3, 3, 4, 4, 4], 'Happy')
    """
    files, target, target_names = list_image_files(path, classes)
    faces, kept, skipped = read_faces(files, as_detector(crop, detector), n_jobs)
    if skipped:
        # stacklevel 3: past validate_params' wrapper, to the caller.
        warnings.warn(skipped_summary(skipped, len(files), str(path)), UserWarning, stacklevel=3)
    if not len(faces):
        raise ValueError(
            f"No face loaded from the {len(files)} files under {str(path)!r}"
            f"{': ' + skipped_summary(skipped, len(files), str(path)) if skipped else ''}."
        )
    target = target[kept]
    if return_X_y:
        return faces, target
    return Bunch(
        data=faces,
        images=faces.reshape(-1, IMAGE_SIZE, IMAGE_SIZE),
        target=target,
        target_names=target_names,
        usage=np.full(len(faces), "", dtype=object),
        filenames=np.array([str(f) for f, keep in zip(files, kept) if keep], dtype=object),
        skipped=skipped,
        DESCR=DESCR,
    )
