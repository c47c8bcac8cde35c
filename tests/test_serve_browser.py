"""skfer serve in a real browser: headless Chromium (Debian's) driven by Playwright.

The test starts ``skfer serve`` as a user does, loads the page, uploads the
astronaut photo, finds a box labelled Happy drawn on the canvas, takes a
webcam snapshot from Chromium's fake camera, opens ``/docs``, and checks that
nothing was loaded from another host and nothing was logged as an error. It
writes the screenshot the user guide shows (``docs/user_guide/serve_page.jpg``).

CI's extras leg installs Chromium (``apt-get install chromium``) and fails
here without it; elsewhere the test is skipped when no Chromium is found
(``SKFER_CHROMIUM`` names one in another place).
"""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="needs the serve extra")
playwright = pytest.importorskip("playwright.sync_api", reason="needs playwright (the test extra)")
skimage_data = pytest.importorskip("skimage.data")
import cv2  # noqa: E402

pytestmark = pytest.mark.extra

SCREENSHOT = Path(__file__).resolve().parents[1] / "docs" / "user_guide" / "serve_page.jpg"


def _chromium():
    """Debian's Chromium binary (not its wrapper script), or another named by SKFER_CHROMIUM."""
    for candidate in (
        os.environ.get("SKFER_CHROMIUM"), "/usr/lib/chromium/chromium", shutil.which("chromium"),
        shutil.which("chromium-browser"), shutil.which("google-chrome"),
    ):
        if candidate and Path(candidate).is_file():
            return candidate
    message = "No Chromium found for the browser test: apt-get install chromium, or set SKFER_CHROMIUM."
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """``skfer serve`` on a free port of 127.0.0.1, as a user starts it; its base URL."""
    port = _free_port()
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    with open(log, "w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "skfer.cli", "serve", "--port", str(port), "--threads", "1"],
            stdout=out, stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}/"
    try:
        for _ in range(240):  # 60 s at most
            if process.poll() is not None:
                pytest.fail(f"skfer serve exited with {process.returncode}:\n{log.read_text()}")
            try:
                with urllib.request.urlopen(base + "health", timeout=1):
                    break
            except OSError:
                time.sleep(0.25)
        else:
            pytest.fail(f"skfer serve did not answer within 60 s:\n{log.read_text()}")
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_the_page_draws_a_box_labelled_happy_on_the_astronaut(server, tmp_path):
    photo = tmp_path / "astronaut.png"
    cv2.imwrite(str(photo), skimage_data.astronaut()[:, :, ::-1])
    problems, requested = [], []
    with playwright.sync_playwright() as driver:
        browser = driver.chromium.launch(
            executable_path=_chromium(), headless=True,
            args=["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"],
        )
        try:
            page = browser.new_page(viewport={"width": 1000, "height": 720})
            page.on("console", lambda m: m.type in ("error", "warning") and problems.append(f"{m.type}: {m.text}"))
            page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
            page.on("requestfailed", lambda r: problems.append(f"failed: {r.url} {r.failure}"))
            page.on("request", lambda r: requested.append(r.url))

            page.goto(server)
            page.wait_for_function("document.getElementById('model').textContent.includes('validation accuracy')")
            page.set_input_files("#files", photo)
            face = page.wait_for_selector(".face[data-emotion]", timeout=30_000)
            emotion, box = face.get_attribute("data-emotion"), face.get_attribute("data-box")
            heading = face.inner_text().splitlines()[0]
            # The pixels on the box's left side, halfway down, in the canvas: the box's green.
            x, y, w, h = map(float, box.split(","))
            edge = page.evaluate(
                """([x, y]) => {
                    const canvas = document.querySelector('.photo canvas');
                    const s = Number(canvas.dataset.scale);
                    const pixel = canvas.getContext('2d').getImageData(Math.round(x * s), Math.round(y * s), 1, 1);
                    return Array.from(pixel.data);
                }""",
                [x, y + h / 2],
            )
            page.screenshot(path=SCREENSHOT, full_page=True, type="jpeg", quality=85)

            page.click("#camera")
            page.wait_for_function("document.getElementById('video').videoWidth > 0")
            page.click("#snap")
            page.wait_for_selector(".photo h2:text('webcam.png')", timeout=30_000)
            webcam = page.inner_text("#results")

            page.goto(server + "docs")
            page.wait_for_selector(".opblock-summary-path", timeout=30_000)
            operations = page.locator(".opblock-summary-path").all_inner_texts()
        finally:
            browser.close()

    assert emotion == "Happy" and heading.startswith("Face 1: Happy")
    assert 150 < x + w / 2 < 280  # the astronaut's face, as skfer predict finds it
    red, green, blue, _ = edge
    assert green > 120 and red < 80 and blue < 80, edge
    assert webcam.startswith("webcam.png") and "no face: the detector found no face" in webcam  # a fake camera
    paths = {op.replace("\u200b", "") for op in operations}  # Swagger UI breaks paths with zero-width spaces
    assert paths == {"/health", "/v1/model", "/v1/predict", "/v1/predict/faces"}
    assert problems == []
    assert requested and all(url.startswith(server) for url in requested if not url.startswith(("data:", "blob:")))
