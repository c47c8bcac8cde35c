"""skfer serve's HTTP API: answers, limits, JSON errors, batching across requests, and the command."""

import json
import re
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skfer import EMOTIONS
from skfer.pretrained import DEFAULT_MODEL, load_pretrained_onnx

pytest.importorskip("fastapi", reason="needs the serve extra")
pytest.importorskip("fastapi_offline", reason="needs the serve extra")
skimage_data = pytest.importorskip("skimage.data")
import cv2  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402

from skfer.serve import make_app  # noqa: E402

pytestmark = pytest.mark.extra

SMALL = dict(threads=1, batch_wait_ms=0)


@pytest.fixture(scope="module")
def model():
    return load_pretrained_onnx()


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    """The astronaut (one face), a rocket (no face) and a file that is not an image, as bytes."""
    folder = tmp_path_factory.mktemp("photos")
    for name, rgb in {"astronaut.png": skimage_data.astronaut(), "rocket.jpg": skimage_data.rocket()}.items():
        cv2.imwrite(str(folder / name), rgb[:, :, ::-1])
    (folder / "broken.png").write_text("not an image")
    return folder


def _files(folder, *names):
    return [("file", (name, (folder / name).read_bytes())) for name in names]


@pytest.fixture(scope="module")
def client():
    """The service as ``skfer serve`` starts it: the shipped model, default limits."""
    with TestClient(make_app(threads=1)) as client:
        yield client


class Counting:
    """The model, counting its predict_proba calls and the faces in each; it can wait for ``gate``."""

    def __init__(self, model, gate=None, fail=False):
        self.model, self.gate, self.fail, self.calls = model, gate, fail, []
        self.classes_ = model.classes_

    def predict_proba(self, X):
        self.calls.append(len(X))
        if self.gate is not None:
            self.gate.wait(timeout=30)
        if self.fail:
            raise RuntimeError("the model broke")
        return self.model.predict_proba(X)


def _pixel_string(face):
    return " ".join(str(int(v)) for v in np.ravel(face))


def _faces(n, seed=0):
    return np.random.default_rng(seed).integers(0, 256, size=(n, 48, 48))


def test_health_and_model_description(client):
    from skfer.pretrained._cards import read_card

    assert client.get("/health").json() == {"status": "ok"}
    about = client.get("/v1/model").json()
    assert about["model"] == DEFAULT_MODEL and about["classes"] == list(EMOTIONS)
    assert about["card"]["publictest_accuracy"] == read_card(DEFAULT_MODEL)["publictest_accuracy"]
    assert about["versions"]["skfer"] and about["versions"]["onnxruntime"]
    assert about["limits"]["max_files"] == 16 and about["limits"]["max_file_bytes"] == 20_000_000


def test_photo_rows_are_those_of_skfer_predict(client, photos, tmp_path):
    from skfer.cli import main

    names = ["astronaut.png", "rocket.jpg", "broken.png"]
    answer = client.post("/v1/predict", files=_files(photos, *names))
    cli_json = tmp_path / "rows.json"
    main(["predict", *(str(photos / name) for name in names), "-o", str(cli_json), "-q"])

    assert answer.status_code == 200
    rows, expected = answer.json()["rows"], json.loads(cli_json.read_text())
    assert [list(row) for row in rows] == [list(row) for row in expected]  # the same columns
    assert [(row["file"], row["status"]) for row in rows] == [
        ("astronaut.png", "ok"), ("rocket.jpg", "no face"), ("broken.png", "unreadable")
    ]
    assert [Path(row["file"]).name for row in expected] == names
    face, cli_face = rows[0], expected[0]
    assert face["emotion"] == cli_face["emotion"] == "Happy"
    for name in (*EMOTIONS, "x", "y", "w", "h"):
        assert face[name] == pytest.approx(cli_face[name], abs=1e-4)
    assert "broken.png" in rows[2]["reason"] and str(photos) not in rows[2]["reason"]


def test_a_request_in_which_no_file_can_be_read_gets_a_422_naming_each_file(client):
    files = [("file", ("notes.txt", b"not a photo")), ("file", ("clip.mp4", b"\x00\x01"))]
    answer = client.post("/v1/predict", files=files)
    assert answer.status_code == 422
    error = answer.json()
    assert error["error"].startswith("None of the 2 files could be read")
    assert [problem["file"] for problem in error["problems"]] == ["notes.txt", "clip.mp4"]
    assert all("/tmp" not in problem["reason"] for problem in error["problems"])


def test_limits_give_413_naming_the_file_and_the_limit(model, photos):
    app = make_app(model, max_file_bytes=1_000_000, max_files=2, max_pixels=100_000, **SMALL)
    with TestClient(app) as client:
        big = client.post("/v1/predict", files=[("file", ("big.jpg", b"0" * 1_000_001))])
        too_many = client.post("/v1/predict", files=_files(photos, "broken.png", "broken.png", "broken.png"))
        pixels = client.post("/v1/predict", files=_files(photos, "astronaut.png"))
        body = client.post("/v1/predict", files=[("file", ("huge.jpg", b"0" * 3_100_000))])
        assert client.get("/health").status_code == 200  # and the service still answers

    assert big.status_code == 413
    assert big.json()["problems"] == [
        {"file": "big.jpg", "reason": "1,000,001 bytes, over the limit of 1,000,000 (max_file_bytes)"}
    ]
    assert too_many.status_code == 413 and "max_files" in too_many.json()["error"]
    assert pixels.status_code == 413
    assert pixels.json()["problems"] == [
        {"file": "astronaut.png", "reason": "262,144 pixels, over the limit of 100,000 (max_pixels)"}
    ]
    assert body.status_code == 413 and "bytes, over the limit of 3,048,576" in body.json()["error"]


@pytest.mark.parametrize(
    "request_kwargs, status, message",
    [
        (dict(files=[("photo", ("a.png", b"x"))]), 422, "Unknown form field 'photo'"),
        (dict(data={"file": "not a file"}), 422, "is text, not a file upload"),
        (dict(json={"faces": []}), 422, "No file"),
        (dict(content=b"--x\r\nbroken", headers={"content-type": "multipart/form-data"}), 400,
         "The multipart body cannot be read: Missing boundary"),
    ],
    ids=["unknown field", "text field", "json body", "broken multipart"],
)
def test_malformed_photo_requests_get_a_4xx_json_error(client, request_kwargs, status, message):
    answer = client.post("/v1/predict", **request_kwargs)
    assert answer.status_code == status, answer.text
    assert message in answer.json()["error"]
    assert client.get("/health").status_code == 200


def test_a_body_without_content_length_gets_a_411(client):
    chunked = client.post("/v1/predict", content=iter([b"--x\r\n", b"more"]),
                          headers={"content-type": "multipart/form-data; boundary=x"})
    assert chunked.status_code == 411 and "Content-Length" in chunked.json()["error"]


def test_faces_as_pixel_strings_and_arrays_get_the_models_probabilities(client, model):
    faces = _faces(3)
    expected = model.predict_proba(faces.reshape(3, -1).astype(np.float32))
    for sent in ([_pixel_string(f) for f in faces], faces.reshape(3, -1).tolist(), faces.tolist()):
        answer = client.post("/v1/predict/faces", json={"faces": sent})
        assert answer.status_code == 200, answer.text
        rows = answer.json()["rows"]
        assert [row["face"] for row in rows] == [0, 1, 2]
        got = np.array([[row[name] for name in EMOTIONS] for row in rows])
        np.testing.assert_allclose(got, expected, atol=1e-6)
        assert [row["emotion"] for row in rows] == [EMOTIONS[i] for i in expected.argmax(axis=1)]


@pytest.mark.parametrize(
    "body, status, message",
    [
        (b"{not json", 400, "The body is not valid JSON"),
        (json.dumps({"faces": [[1, 2, 3]]}).encode(), 422, "faces[0] has shape (3,)"),
        (json.dumps({"faces": [[[1] * 48] * 48, [[1] * 48] * 47]}).encode(), 422, "faces[1] has shape (47, 48)"),
        (json.dumps({"faces": [[[1] * 48] * 47 + [[1] * 40]]}).encode(), 422, "shape rows of lengths [40, 48]"),
        (json.dumps({"faces": ["1 2 3"]}).encode(), 422, "row 0 has 3 values"),
        (json.dumps({"faces": [[300] * 2304]}).encode(), 422, "row 0 has the value 300.0"),
        (json.dumps({"faces": ["1 " * 2304, [1] * 2304]}).encode(), 422, "mixes pixel strings (faces[0]) and arrays"),
        (json.dumps({"faces": [5]}).encode(), 422, "faces[0]"),
        (json.dumps({"face": []}).encode(), 422, "faces: Field required"),
        (json.dumps({"faces": []}).encode(), 422, "faces:"),
    ],
    ids=["not json", "short", "47 rows", "ragged", "short string", "value", "mixed", "number", "no faces", "empty"],
)
def test_bad_faces_get_a_4xx_naming_the_face(client, body, status, message):
    answer = client.post("/v1/predict/faces", content=body, headers={"content-type": "application/json"})
    assert answer.status_code == status, answer.text
    assert message in answer.json()["error"]


def test_too_many_faces_get_a_413(model):
    with TestClient(make_app(model, max_faces=2, **SMALL)) as client:
        answer = client.post("/v1/predict/faces", json={"faces": _faces(3).reshape(3, -1).tolist()})
        assert answer.status_code == 413 and "max_faces" in answer.json()["error"]
        large = client.post("/v1/predict/faces", content=b" " * 200_000, headers={"content-type": "application/json"})
        assert large.status_code == 413


def _together(send, n):
    """Run ``send(i)`` for i < n in n threads at once; their answers."""
    answers = [None] * n
    threads = [threading.Thread(target=lambda i=i: answers.__setitem__(i, send(i))) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return answers


def test_concurrent_requests_share_one_model_call(model, photos):
    counting = Counting(model)
    with TestClient(make_app(counting, threads=2, batch_wait_ms=3000)) as client:
        faces = _together(lambda i: client.post("/v1/predict/faces", json={"faces": _faces(i + 1).tolist()}), 2)
        after_faces = list(counting.calls)
        photo_answers = _together(lambda i: client.post("/v1/predict", files=_files(photos, "astronaut.png")), 2)

    assert [answer.status_code for answer in faces + photo_answers] == [200] * 4
    assert [len(answer.json()["rows"]) for answer in faces] == [1, 2]
    assert after_faces == [3]  # one call for the 1 + 2 faces of two requests
    assert counting.calls[1:] == [2]  # one call for the faces of two photos
    assert [a.json()["rows"][0]["emotion"] for a in photo_answers] == ["Happy", "Happy"]


def test_a_busy_service_answers_503_and_a_failing_model_500_then_serves_on(model):
    gate = threading.Event()
    slow = Counting(model, gate=gate)
    face = {"faces": _faces(1).tolist()}
    with TestClient(make_app(slow, max_pending=1, **SMALL), raise_server_exceptions=False) as client:
        first = threading.Thread(target=lambda: client.post("/v1/predict/faces", json=face))
        first.start()
        for _ in range(3000):  # until the first request is in the model (30 s at most)
            if slow.calls:
                break
            threading.Event().wait(0.01)
        busy = client.post("/v1/predict/faces", json=face)
        gate.set()
        first.join(timeout=30)
        slow.fail = True
        failed = client.post("/v1/predict/faces", json=face)
        slow.fail = False
        after = client.post("/v1/predict/faces", json=face)

    assert busy.status_code == 503 and busy.headers["retry-after"] == "1"
    assert "max_pending" in busy.json()["error"]
    assert failed.status_code == 500 and "the model broke" in failed.json()["error"]
    assert after.status_code == 200


def test_openapi_docs_and_page_load_only_files_the_service_serves(client):
    schema = client.get("/openapi.json").json()
    assert set(schema["paths"]) == {"/health", "/v1/model", "/v1/predict", "/v1/predict/faces"}
    assert "file" in json.dumps(schema["paths"]["/v1/predict"]["post"]["requestBody"])
    for page in ("/docs", "/"):
        html = client.get(page).text
        assert "://" not in html  # no other host
        assets = re.findall(r'(?:src|href)="([^"#][^"]*)"', html)
        assets = [a for a in assets if not a.startswith("data:") and a not in ("docs", "openapi.json")]
        assert len(assets) >= 2, page  # a script and a style sheet
        for asset in assets:
            assert client.get(asset if asset.startswith("/") else f"/{asset}").status_code == 200, asset
    for asset in ("/static/app.js", "/static/app.css"):
        assert "://" not in client.get(asset).text


def test_make_app_refuses_bad_parameters_by_name(model):
    with pytest.raises(ValueError, match="'max_files' parameter of make_app"):
        make_app(model, max_files=0)
    with pytest.raises(ValueError, match="'model' parameter of make_app"):
        make_app("no-such-model")

    class Unfitted:
        def predict_proba(self, X):
            return X

    with pytest.raises(ValueError, match="has no classes_"):
        make_app(Unfitted())


class Uniform:
    """A fitted stand-in classifier over ``classes``: every face gets the same probabilities."""

    def __init__(self, classes):
        self.classes_ = np.asarray(classes)

    def predict_proba(self, X):
        assert X.shape[1:] == (2304,) and X.dtype == np.float32
        return np.full((len(X), len(self.classes_)), 1 / len(self.classes_))


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    n=st.integers(1, 4),
    kind=st.sampled_from(["string", "flat", "square"]),
    dtype=st.sampled_from(["int", "float"]),
    classes=st.lists(st.sampled_from(EMOTIONS), min_size=1, max_size=7, unique=True),
)
def test_any_number_kind_and_label_set_of_faces_gets_one_row_each(n, kind, dtype, classes):
    faces = _faces(n)
    sent = {
        "string": [_pixel_string(f) for f in faces],
        "flat": faces.reshape(n, -1).astype(dtype).tolist(),
        "square": faces.astype(dtype).tolist(),
    }[kind]
    with TestClient(make_app(Uniform(classes), **SMALL)) as client:
        answer = client.post("/v1/predict/faces", json={"faces": sent})
    assert answer.status_code == 200, answer.text
    rows = answer.json()["rows"]
    assert len(rows) == n
    for row in rows:
        assert set(row) == {"face", "emotion", *classes}
        assert sum(row[name] for name in classes) == pytest.approx(1)


def _serve_without_serving(*args):
    """``skfer serve ARGS`` in a fresh process, with uvicorn.run replaced: what it would run, and TF."""
    script = (
        "import json, sys, uvicorn\n"
        "uvicorn.run = lambda app, **kw: print(json.dumps({**kw, 'tensorflow': 'tensorflow' in sys.modules}))\n"
        "from skfer.cli import main\n"
        f"sys.exit(main(['serve', *{list(args)!r}]))\n"
    )
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)


def test_skfer_serve_runs_the_shipped_model_without_tensorflow_on_127_0_0_1():
    done = _serve_without_serving("--port", "8123", "-q")
    assert done.returncode == 0, done.stderr
    ran = json.loads(done.stdout.splitlines()[-1])
    assert ran["host"] == "127.0.0.1" and ran["port"] == 8123 and ran["log_level"] == "warning"
    assert ran["tensorflow"] is False
    assert "http://127.0.0.1:8123/" in done.stderr


def test_skfer_serve_checks_its_arguments_first():
    done = subprocess.run(
        [sys.executable, "-m", "skfer.cli", "serve", "--max-files", "0"], capture_output=True, text=True
    )
    assert done.returncode == 2 and "--max-files: 0 is not within 1-inf" in done.stderr


def test_an_image_whose_size_cannot_be_read_first_is_never_decoded(model, tmp_path):
    # A Radiance .hdr header can claim gigapixels in a few bytes; Pillow cannot read its size, OpenCV would decode it.
    import cv2

    hdr = tmp_path / "big.hdr"
    cv2.imwrite(str(hdr), np.ones((8, 8, 3), np.float32))
    with TestClient(make_app(model)) as client:
        answer = client.post("/v1/predict", files=[("file", ("big.hdr", hdr.read_bytes(), "image/vnd.radiance"))])
    assert answer.status_code == 422
    (problem,) = answer.json()["problems"]
    assert problem["file"] == "big.hdr" and "header cannot be read" in problem["reason"]


def test_stopping_the_batcher_answers_the_requests_it_holds(model):
    # A request whose faces are in the model call when the service stops gets an answer, not a hang.
    import asyncio

    from skfer.serve._batcher import FaceBatcher

    gate = threading.Event()
    slow = Counting(model, gate=gate)

    async def stop_during_a_call():
        async with FaceBatcher(slow, wait_s=0.01, max_batch=4, timeout_s=5) as batcher:
            request = asyncio.ensure_future(batcher.predict(_faces(1)))
            while not slow.calls:  # the model call has started
                await asyncio.sleep(0.01)
            queued = asyncio.ensure_future(batcher.predict(_faces(1)))
            await asyncio.sleep(0.05)
        gate.set()
        return await asyncio.wait_for(asyncio.gather(request, queued, return_exceptions=True), 5)

    answers = asyncio.run(stop_during_a_call())
    assert [str(a) for a in answers] == ["The service is shutting down."] * 2
