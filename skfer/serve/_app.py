"""The FastAPI application behind ``skfer serve``: the model over HTTP, and a page to try it."""

import contextlib
import queue
from numbers import Integral, Real
from pathlib import Path

import anyio
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from sklearn.base import clone
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException

from .. import __version__
from .._constants import EMOTIONS, N_PIXELS
from .._hardware import machine, versions
from .._labels import emotion_names
from .._validation import HasMethods, Interval, Options, validate_params
from ..preprocessing import FaceDetector
from ..pretrained import DEFAULT_MODEL, MODELS, load_pretrained_onnx
from ..pretrained._cards import read_card
from ._batcher import BatchedPredictor, FaceBatcher
from ._errors import RequestError
from ._faces import FacesRequest, read_faces
from ._photos import predict_uploads

STATIC = Path(__file__).resolve().parent / "static"
#: Bytes of a multipart body besides its files (boundaries, part headers), at most.
_MULTIPART_OVERHEAD = 1 << 20
#: Bytes a face may take in JSON: 2304 numbers of up to 24 characters with their commas;
#: and the bytes of the rest of the body, at most.
_JSON_FACE_BYTES, _JSON_OVERHEAD = N_PIXELS * 24, 4096

_ROWS_DESCRIPTION = (
    "The rows `skfer predict -o rows.json` writes: one per face (`file`, `frame`, `time_s`, `face`, "
    "the box `x` `y` `w` `h`, the detector's `score`, keypoints, `emotion`, the probability of each of "
    f"{', '.join(EMOTIONS)}, `status` \"ok\", `reason` \"\"), and one row for each file with no face "
    "(`status` \"no face\") or that cannot be read (\"unreadable\", or \"failed\" when a library "
    "failed on it), with `reason` saying why."
)
_ERROR = {"description": "`{\"error\": message, \"problems\": [{\"file\" or \"face\": ..., \"reason\": ...}]}`"}


def _error_response(error):
    return JSONResponse(error.body(), status_code=error.status, headers=error.headers)


def _describe(model, name):
    """What ``GET /v1/model`` says about the model (the card's figures for a shipped one)."""
    steps = getattr(model, "steps", None)
    estimator = type(model).__name__
    if steps:
        estimator += f"({', '.join(type(step).__name__ for _, step in steps)})"
    return {
        "model": name,
        "estimator": estimator,
        "classes": emotion_names(model.classes_),
        "card": None if name is None else read_card(name),
    }


def _check_length(request, limit, what):
    """Refuse a body over ``limit`` bytes by its Content-Length, before reading it."""
    declared = request.headers.get("content-length")
    if declared is None:
        if "transfer-encoding" in request.headers:
            raise RequestError(411, "Send the body with a Content-Length header (not chunked).")
        return
    if not declared.isdigit():
        raise RequestError(400, f"Content-Length {declared!r} is not a number of bytes.")
    if int(declared) > limit:
        raise RequestError(413, f"The body has {int(declared):,} bytes, over the limit of {limit:,} for {what}.")


def _uploads(form, max_file_bytes):
    """(name, file) of each upload of the field ``file``; refuse other fields, text and files over the limit."""
    unknown = sorted(set(form.keys()) - {"file"})
    if unknown:
        raise RequestError(
            422, f"Unknown form field {unknown[0]!r}: send the images as the field 'file' (repeatable)."
        )
    uploads = form.getlist("file")
    if not uploads:
        raise RequestError(422, "No file: send one or more images as multipart/form-data field 'file'.")
    text = [index for index, upload in enumerate(uploads) if not isinstance(upload, UploadFile)]
    if text:
        raise RequestError(422, f"The field 'file' number {text[0] + 1} is text, not a file upload.")
    names = [upload.filename or f"file {index + 1}" for index, upload in enumerate(uploads)]
    too_large = [
        {"file": name, "reason": f"{upload.size:,} bytes, over the limit of {max_file_bytes:,} (max_file_bytes)"}
        for name, upload in zip(names, uploads)
        if upload.size is not None and upload.size > max_file_bytes
    ]
    if too_large:
        raise RequestError(413, "; ".join(f"{p['file']}: {p['reason']}" for p in too_large), too_large)
    return [(name, upload.file) for name, upload in zip(names, uploads)]


@validate_params(
    {
        "model": [None, Options(set(MODELS)), HasMethods(["predict_proba"])],
        "max_file_bytes": [Interval(Integral, 1, None, closed="left")],
        "max_files": [Interval(Integral, 1, None, closed="left")],
        "max_pixels": [Interval(Integral, 1, None, closed="left")],
        "max_faces": [Interval(Integral, 1, None, closed="left")],
        "max_pending": [Interval(Integral, 1, None, closed="left")],
        "threads": [Interval(Integral, 1, None, closed="left"), None],
        "batch_wait_ms": [Interval(Real, 0, None, closed="left")],
        "max_batch": [Interval(Integral, 1, None, closed="left")],
        "detector": [FaceDetector, None],
    }
)
def make_app(
    model=None,
    *,
    max_file_bytes=20_000_000,
    max_files=16,
    max_pixels=50_000_000,
    max_faces=256,
    max_pending=64,
    threads=None,
    batch_wait_ms=2.0,
    max_batch=256,
    detector=None,
):
    """Build the web service that ``skfer serve`` runs: the model over HTTP, and a page to try it.

    Endpoints: ``GET /health``; ``GET /v1/model`` (classes, the shipped
    model's card with its figures, versions, limits); ``POST /v1/predict``
    (image files as the repeatable multipart field ``file``, answered with
    the rows ``skfer predict`` writes); ``POST /v1/predict/faces`` (48x48
    faces as JSON pixel strings or arrays, answered with probabilities);
    ``/openapi.json`` and ``/docs``; and a page at ``/`` that draws the
    faces' boxes, emotions and probabilities over photos or a webcam
    snapshot. Every file the page and ``/docs`` load is served by the app:
    they work offline.

    Faces of requests that arrive together go through the model in one
    call (a :class:`~skfer.serve._batcher.FaceBatcher`); reading photos and
    finding faces runs in ``threads`` worker threads, never on the event
    loop. Bad input gets a 4xx JSON answer ``{"error": ..., "problems":
    [...]}`` naming the file or face and the reason.

    Parameters
    ----------
    model : str or estimator, default=None
        A name of :data:`skfer.pretrained.MODELS`, or a fitted classifier
        with ``predict_proba`` on faces of shape (n, 2304), pixel values
        0-255, and ``classes_`` (labels 0-6 or emotion names), e.g.
        :func:`~skfer.load_pretrained` or an
        :class:`~skfer.ONNXEmotionPredictor`. None: the shipped default
        model's 8-bit engine (:func:`~skfer.load_pretrained_onnx`), which
        needs no TensorFlow.
    max_file_bytes : int, default=20_000_000
        Bytes per uploaded file; more gets a 413.
    max_files : int, default=16
        Files per request; more gets a 413.
    max_pixels : int, default=50_000_000
        Pixels per image (width x height, read from its header before
        decoding); more gets a 413.
    max_faces : int, default=256
        Faces per ``/v1/predict/faces`` request; more gets a 413.
    max_pending : int, default=64
        Prediction requests in progress at once; more get a 503 with
        ``Retry-After``.
    threads : int, default=None
        Worker threads that read photos and find faces (each with its own
        copy of ``detector``); None: the cores this process may use.
    batch_wait_ms : float, default=2.0
        How long the batcher waits, after the first faces of a step, for
        those of other requests to join them in one model call.
    max_batch : int, default=256
        Faces per model call, at most.
    detector : FaceDetector, default=None
        Finds and crops the faces of photos; ``FaceDetector()`` if None.

    Returns
    -------
    fastapi.FastAPI
        The application; run it with uvicorn (``skfer serve`` does), or
        test it with ``fastapi.testclient.TestClient``.

    Raises
    ------
    ValueError
        For a parameter out of its range, an unknown model name, or a model
        whose ``classes_`` are not FER2013's labels or emotion names.

    See Also
    --------
    skfer.predict_images : What ``POST /v1/predict`` runs on the uploaded files.

    Examples
    --------
    >>> from fastapi.testclient import TestClient
    >>> from skfer.serve import make_app
    >>> with TestClient(make_app(max_files=4)) as client:
    ...     face = " ".join(["128"] * 2304)
    ...     answer = client.post("/v1/predict/faces", json={"faces": [face]}).json()
    >>> sorted(answer["rows"][0])[:3], len(answer["rows"])
    (['Angry', 'Disgust', 'Fear'], 1)
    """
    name = None
    if model is None or isinstance(model, str):
        name = DEFAULT_MODEL if model is None else model
        model = load_pretrained_onnx(name)
    if not hasattr(model, "classes_"):
        raise ValueError(f"The model {type(model).__name__} has no classes_: pass a fitted classifier.")
    description = _describe(model, name)
    classes = description["classes"]
    threads = machine()["cpu_count"] if threads is None else threads
    detector = FaceDetector() if detector is None else detector
    limits = {
        "max_file_bytes": max_file_bytes, "max_files": max_files, "max_pixels": max_pixels,
        "max_faces": max_faces, "max_pending": max_pending,
    }
    photo_limit = max_files * max_file_bytes + _MULTIPART_OVERHEAD
    faces_limit = max_faces * _JSON_FACE_BYTES + _JSON_OVERHEAD

    @contextlib.asynccontextmanager
    async def lifespan(app):
        async with FaceBatcher(model, batch_wait_ms / 1000, max_batch) as batcher:
            app.state.batcher = batcher
            app.state.limiter = anyio.CapacityLimiter(threads)
            app.state.detectors = queue.SimpleQueue()
            for _ in range(threads):
                app.state.detectors.put(clone(detector))
            app.state.pending = 0
            yield

    app = FastAPIOffline(
        title="skfer", version=__version__, redoc_url=None, lifespan=lifespan,
        description="Facial emotion recognition: the emotions of the faces in photos, or of 48x48 faces. "
        "Try it on the page at [/](/).",
    )
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.exception_handler(RequestError)
    async def refused(request, error):
        return _error_response(error)

    @app.exception_handler(HTTPException)
    async def http_error(request, error):
        headers = getattr(error, "headers", None)
        return _error_response(RequestError(error.status_code, str(error.detail), headers=headers))

    @app.exception_handler(RequestValidationError)
    async def invalid(request, error):
        problems = [{"field": ".".join(map(str, e["loc"])), "reason": e["msg"]} for e in error.errors()]
        return _error_response(RequestError(422, "; ".join(f"{p['field']}: {p['reason']}" for p in problems), problems))

    @app.exception_handler(Exception)
    async def failed(request, error):
        return _error_response(RequestError(500, f"The service failed: {type(error).__name__}: {error}"))

    @contextlib.asynccontextmanager
    async def slot(request):
        """One of the ``max_pending`` places for a prediction request, or a 503."""
        state = request.app.state
        if state.pending >= max_pending:
            raise RequestError(
                503, f"The service is busy ({max_pending} requests in progress, max_pending); retry shortly.",
                headers={"Retry-After": "1"},
            )
        state.pending += 1
        try:
            yield state
        finally:
            state.pending -= 1

    @app.get("/", include_in_schema=False)
    async def page():
        return FileResponse(STATIC / "index.html")

    @app.get("/health", summary="Whether the service answers")
    async def health():
        return {"status": "ok"}

    @app.get("/v1/model", summary="The model: classes, figures, versions and limits")
    async def about_model():
        return {
            **description,
            "versions": versions(extra=["onnxruntime", "opencv-python-headless", "fastapi", "uvicorn"]),
            "limits": limits,
        }

    @app.post(
        "/v1/predict",
        summary="The emotions of the faces in one or more photos",
        description=_ROWS_DESCRIPTION,
        responses={
            200: {"description": "`{\"rows\": [...]}`"},
            413: _ERROR | {"description": "A file, an image or the request over a limit. " + _ERROR["description"]},
            422: _ERROR | {"description": "No file, or none could be read. " + _ERROR["description"]},
        },
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"multipart/form-data": {"schema": {
                    "type": "object", "required": ["file"],
                    "properties": {"file": {"type": "array", "items": {"type": "string", "format": "binary"},
                                            "description": "Image files (JPEG, PNG, WebP, BMP, TIFF, ...)"}},
                }}},
            }
        },
    )
    async def predict_photos(request: Request):
        what = f"{max_files} files of {max_file_bytes:,} bytes (max_files, max_file_bytes)"
        _check_length(request, photo_limit, what)
        async with slot(request) as state:
            try:
                form = await request.form(max_files=max_files, max_fields=max_files)
            except HTTPException as error:  # Starlette's word on a broken body or too many files
                if "Too many files" in str(error.detail):
                    raise RequestError(413, f"{error.detail} (max_files)") from None
                raise RequestError(400, f"The multipart body cannot be read: {error.detail}") from None
            try:
                uploads = _uploads(form, max_file_bytes)
                predictor = BatchedPredictor(state.batcher, model.classes_)

                def predict():
                    detector = state.detectors.get()
                    try:
                        return predict_uploads(uploads, predictor, detector, max_pixels)
                    finally:
                        state.detectors.put(detector)

                rows = await anyio.to_thread.run_sync(predict, limiter=state.limiter)
            finally:
                await form.close()
        return {"rows": rows}

    @app.post(
        "/v1/predict/faces",
        summary="The emotions of 48x48 faces",
        description="Faces cropped as FER2013's: 48x48 grayscale, pixel values 0-255. Answers with one row "
        f"per face: its index `face`, `emotion`, and the probability of each of {', '.join(classes)}.",
        responses={
            200: {"description": "`{\"rows\": [{\"face\": 0, \"emotion\": \"Happy\", \"Angry\": 0.01, ...}]}`"},
            400: _ERROR, 413: _ERROR, 422: _ERROR,
        },
        openapi_extra={"requestBody": {
            "required": True, "content": {"application/json": {"schema": FacesRequest.model_json_schema()}},
        }},
    )
    async def predict_faces(request: Request):
        _check_length(request, faces_limit, f"{max_faces} faces (max_faces)")
        async with slot(request) as state:
            faces = await anyio.to_thread.run_sync(read_faces, await request.body(), max_faces, limiter=state.limiter)
            proba = await state.batcher.predict(faces)
        rows = [
            {"face": index, "emotion": classes[int(row.argmax())], **dict(zip(classes, row.tolist()))}
            for index, row in enumerate(proba)
        ]
        return {"rows": rows}

    return app
