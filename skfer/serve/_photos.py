"""Uploaded photos through :func:`~skfer.predict_images`: the rows ``skfer predict`` writes, by upload name."""

import json
import math
import re
import shutil
import tempfile
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from ..inference._photos import IMAGE_EXTENSIONS, predict_images
from ._errors import RequestError


def _pixels(path):
    """Width x height from the image's header (no decoding), or None where Pillow does not know the format."""
    try:
        with Image.open(path) as image:
            return image.width * image.height
    except Image.DecompressionBombError as error:  # over Pillow's own cap, far above any sensible limit
        found = re.search(r"(\d+) pixels", str(error))
        return int(found[1]) if found else math.inf
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        return None  # not a format Pillow reads: OpenCV decodes it or predict_images reports it


def _save(uploads, folder, max_pixels):
    """Write each upload to ``folder`` under a name of our own; refuse images over ``max_pixels`` by name."""
    paths, too_large = {}, []
    for index, (name, file) in enumerate(uploads):
        suffix = Path(name).suffix.lower()
        # Uploads are images: a name that says video is still read as an image, not decoded frame by frame.
        path = Path(folder) / f"{index}{suffix if suffix in IMAGE_EXTENSIONS else '.upload'}"
        file.seek(0)
        with open(path, "wb") as out:
            shutil.copyfileobj(file, out)
        pixels = _pixels(path)
        if pixels is not None and pixels > max_pixels:
            too_large.append(
                {"file": name, "reason": f"{pixels:,} pixels, over the limit of {max_pixels:,} (max_pixels)"}
            )
        paths[str(path)] = name
    if too_large:
        raise RequestError(
            413, "; ".join(f"{p['file']}: {p['reason']}" for p in too_large), too_large
        )
    return paths


def predict_uploads(uploads, model, detector, max_pixels):
    """Rows of :func:`~skfer.predict_images` for uploaded images, each named by its upload.

    Parameters
    ----------
    uploads : list of (str, file)
        Each upload's name and a binary file object with its bytes.
    model : estimator
        What ``predict_images`` classifies the faces with.
    detector : FaceDetector
        Finds the faces; not shared with another thread while this runs.
    max_pixels : int
        Images with more pixels (read from their header) are refused.

    Returns
    -------
    list of dict
        The rows ``skfer predict -o rows.json`` writes: one per face, and a
        status row for each file with no face or that cannot be read;
        ``file`` is the upload's name, missing values are None.

    Raises
    ------
    RequestError
        413 for an image over ``max_pixels``; 422 when no file could be read.

    Examples
    --------
    >>> import io
    >>> from skfer.pretrained import load_pretrained_onnx
    >>> from skfer.preprocessing import FaceDetector
    >>> from skfer.serve._photos import predict_uploads
    >>> uploads = [("notes.txt", io.BytesIO(b"not a photo"))]
    >>> predict_uploads(uploads, load_pretrained_onnx(), FaceDetector(), 10**6)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    skfer.serve._errors.RequestError: None of the 1 files could be read: notes.txt: ...
    """
    with tempfile.TemporaryDirectory(prefix="skfer-serve-") as folder:
        names = _save(uploads, folder, max_pixels)
        frame = predict_images(list(map(Path, names)), model, detector=detector, all_files=True)
    problems = [
        {"file": names[error["file"]], "reason": error["error"].replace(error["file"], names[error["file"]])}
        for error in frame.attrs["errors"]
    ]
    if len(problems) == len(uploads):
        details = "; ".join(f"{p['file']}: {p['reason']}" for p in problems)
        raise RequestError(422, f"None of the {len(uploads)} files could be read: {details}", problems)
    frame["reason"] = [
        reason.replace(path, names[path]) for path, reason in zip(frame["file"], frame["reason"])
    ]
    frame["file"] = frame["file"].map(names)
    return json.loads(frame.to_json(orient="records"))  # NaN and <NA> -> null
