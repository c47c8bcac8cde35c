"""48x48 faces sent as JSON: pixel strings or arrays, checked face by face, to an (n, 2304) array."""

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .._constants import IMAGE_SIZE, N_PIXELS
from ..preprocessing import to_pixel_array
from ._errors import RequestError


class FacesRequest(BaseModel):
    """The body of ``POST /v1/predict/faces``.

    Examples
    --------
    >>> from skfer.serve._faces import FacesRequest
    >>> len(FacesRequest(faces=[" ".join(["128"] * 2304)]).faces)
    1
    """

    model_config = ConfigDict(extra="forbid")

    faces: list[str | list[float] | list[list[float]]] = Field(
        min_length=1,
        description=f"Faces, all of one kind: FER2013 pixel strings ({N_PIXELS} integers 0-255 "
        f"separated by spaces), or arrays of {N_PIXELS} numbers 0-255, or {IMAGE_SIZE} rows of "
        f"{IMAGE_SIZE} numbers (grayscale, row-major).",
        examples=[[" ".join(["128"] * N_PIXELS)]],
    )


def _where(location):
    """``faces[3]`` for pydantic's location ``("faces", 3, ...)``."""
    text = ""
    for part in location:
        if isinstance(part, int):
            text += f"[{part}]"
        elif not text:
            text = str(part)
        else:
            break  # the union member pydantic tried: not a place in the request
    return text or "the body"


def _array(face, index):
    """One face given as numbers, checked for its shape, as 2304 values."""
    try:
        array = np.asarray(face, dtype=np.float32)
        shape = array.shape
    except ValueError:  # rows of different lengths
        array, shape = None, f"rows of lengths {sorted({len(row) for row in face})}"
    if array is None or shape not in ((N_PIXELS,), (IMAGE_SIZE, IMAGE_SIZE)):
        reason = f"shape {shape}; a face is {N_PIXELS} numbers or {IMAGE_SIZE} rows of {IMAGE_SIZE}"
        raise RequestError(422, f"faces[{index}] has {reason}.", [{"face": index, "reason": reason}])
    return array.reshape(N_PIXELS)


def read_faces(body, max_faces):
    """The faces of a JSON request body as an (n, 2304) float32 array, pixel values 0-255.

    Parameters
    ----------
    body : bytes
        The request body: ``{"faces": [...]}`` as :class:`FacesRequest` describes.
    max_faces : int
        More faces than this are refused.

    Returns
    -------
    ndarray of shape (n_faces, 2304)

    Raises
    ------
    RequestError
        400 for a body that is not JSON; 413 for more than ``max_faces``
        faces; 422 for any other fault, naming the face (``faces[i]``, or the
        row i of the faces in the message of :func:`~skfer.preprocessing.to_pixel_array`).

    Examples
    --------
    >>> from skfer.serve._faces import read_faces
    >>> read_faces(b'{"faces": [[' + b",".join([b"7"] * 2304) + b"]]}", max_faces=8).shape
    (1, 2304)
    >>> read_faces(b'{"faces": [[1, 2, 3]]}', max_faces=8)
    Traceback (most recent call last):
    ...
    skfer.serve._errors.RequestError: faces[0] has shape (3,); a face is 2304 numbers or 48 rows of 48.
    """
    try:
        faces = FacesRequest.model_validate_json(body).faces
    except ValidationError as error:
        errors = error.errors(include_url=False)
        if errors[0]["type"] == "json_invalid":
            raise RequestError(400, f"The body is not valid JSON: {errors[0]['msg']}.") from None
        problems = {_where(e["loc"]): e["msg"] for e in errors}  # one per place (a union tries each kind)
        message = "; ".join(f"{where}: {msg}" for where, msg in problems.items())
        raise RequestError(
            422, f"{message}. Send {{\"faces\": [...]}} with pixel strings or arrays.",
            [{"field": where, "reason": msg} for where, msg in problems.items()],
        ) from None
    if len(faces) > max_faces:
        raise RequestError(413, f"{len(faces):,} faces, over the limit of {max_faces:,} per request (max_faces).")
    strings = [isinstance(face, str) for face in faces]
    if any(strings) and not all(strings):
        raise RequestError(
            422, f"faces mixes pixel strings (faces[{strings.index(True)}]) and arrays "
            f"(faces[{strings.index(False)}]); send one kind per request."
        )
    X = np.asarray(faces, dtype=object) if all(strings) else np.stack([_array(f, i) for i, f in enumerate(faces)])
    try:
        return to_pixel_array(X)
    except ValueError as error:
        raise RequestError(422, f"faces: {error} (row i is faces[i])") from None
