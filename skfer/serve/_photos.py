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
        return None  # not a format Pillow reads: its size cannot be checked before decoding


#: The status of an upload whose pixel count cannot be read before decoding it.
_UNCHECKED = (
    "{}: its header cannot be read (a damaged file, or a format whose size cannot be checked before "
    "decoding it), so it is not decoded; send JPEG, PNG, BMP, WebP or TIFF"
)


def _save(uploads, folder, max_pixels):
    """Write each upload to ``folder`` under a name of our own; refuse images over ``max_pixels`` by name.

    Returns the upload names by path, and the paths whose size could not be
    read from their header: those are emptied (never decoded) and reported.
    """
    paths, too_large, unchecked = {}, [], set()
    for index, (name, file) in enumerate(uploads):
        suffix = Path(name).suffix.lower()
        # Uploads are images: a name that says video is still read as an image, not decoded frame by frame.
        path = Path(folder) / f"{index}{suffix if suffix in IMAGE_EXTENSIONS else '.upload'}"
        file.seek(0)
        with open(path, "wb") as out:
            shutil.copyfileobj(file, out)
        pixels = _pixels(path)
        if pixels is None:  # OpenCV would decode it unchecked (a few bytes can claim gigapixels): a status row
            unchecked.add(str(path))
            path.write_bytes(b"")  # left for predict_images to report as unreadable
        elif pixels > max_pixels:
            too_large.append(
                {"file": name, "reason": f"{pixels:,} pixels, over the limit of {max_pixels:,} (max_pixels)"}
            )
        paths[str(path)] = name
    if too_large:
        raise RequestError(
            413, "; ".join(f"{p['file']}: {p['reason']}" for p in too_large), too_large
        )
    return paths, unchecked


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
        names, unchecked = _save(uploads, folder, max_pixels)
        frame = predict_images(list(map(Path, names)), model, detector=detector, all_files=True)

    def reason(path, text):
        return _UNCHECKED.format(names[path]) if path in unchecked else text.replace(path, names[path])

    problems = [{"file": names[error["file"]], "reason": reason(error["file"], error["error"])}
                for error in frame.attrs["errors"]]
    if len(problems) == len(uploads):
        details = "; ".join(f"{p['file']}: {p['reason']}" for p in problems)
        raise RequestError(422, f"None of the {len(uploads)} files could be read: {details}", problems)
    frame["reason"] = [
        text if text is None or text != text else reason(path, text)
        for path, text in zip(frame["file"], frame["reason"])
    ]
    frame["file"] = frame["file"].map(names)
    return json.loads(frame.to_json(orient="records"))  # NaN and <NA> -> null
