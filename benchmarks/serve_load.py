"""``skfer serve`` under a bounded load on loopback, against calling ``predict_images`` directly.

The server is ``skfer serve`` as a user starts it (the shipped model's 8-bit
engine, ``FaceDetector()``, default limits), on a free port of 127.0.0.1. The
client, in this process, sends ``--requests`` ``POST /v1/predict`` requests,
each with one photo (the scikit-image astronaut, one face, 512x512, as a JPEG),
``--concurrency`` at a time, after ``--warmup`` requests that are not counted;
it records each request's latency and status. The server's resident memory is
read from ``/proc`` every 0.2 s during the load, and its peak (``VmHWM``) at
the end. Client and server share the machine's cores, as on a single host.

The baseline, with the server stopped, in this process, with one
``FaceDetector()`` kept for all calls: :func:`skfer.predict_images` on the
same number of photo files in one call (its batching: 256 faces per model
call), and one call per photo (one photo, one model call, one table, as a
service without batching would make).

Results: ``benchmarks/results/serve_load.json`` and ``serve_load.md``, with
the CPU model and flags, the versions, and the command.

Examples
--------
::

    python benchmarks/serve_load.py                 # 1,000 requests, 16 at a time
    python benchmarks/serve_load.py --quick --output /tmp/serve_load.json   # a check of the script
"""

import argparse
import asyncio
import datetime
import json
import os
import shlex
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import cv2
import httpx2
import skimage.data

from skfer import FaceDetector, load_pretrained_onnx, predict_images
from skfer._hardware import machine, versions

RESULTS = Path(__file__).resolve().parent / "results"


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _memory_mb(pid, field):
    """``VmRSS`` (now) or ``VmHWM`` (peak) of process ``pid``, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"/proc/{pid}/status has no {field}")


def _start_server(log):
    port = _free_port()
    command = [sys.executable, "-m", "skfer.cli", "serve", "--port", str(port), "-q"]
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    for _ in range(240):
        if process.poll() is not None:
            raise RuntimeError(f"skfer serve exited with {process.returncode}; see {log.name}")
        try:
            with urllib.request.urlopen(f"{base}/health", timeout=1):
                return process, base
        except OSError:
            time.sleep(0.25)
    process.kill()
    raise RuntimeError("skfer serve did not answer within 60 s")


async def _load(base, photo, n_requests, concurrency, pid):
    """Send ``n_requests`` photo requests, ``concurrency`` at a time; latencies, statuses, RSS samples."""
    latencies, statuses, rss = [], [], []
    remaining = iter(range(n_requests))
    limits = httpx2.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async def worker(client):
        for _ in remaining:
            start = time.perf_counter()
            try:
                files = {"file": ("astronaut.jpg", photo, "image/jpeg")}
                response = await client.post(f"{base}/v1/predict", files=files)
                ok = response.status_code == 200 and response.json()["rows"][0]["status"] == "ok"
                statuses.append(response.status_code if ok else f"{response.status_code} {response.text[:200]}")
            except httpx2.HTTPError as error:
                statuses.append(f"{type(error).__name__}: {error}")
            latencies.append(time.perf_counter() - start)

    async def sample():
        while True:
            rss.append(_memory_mb(pid, "VmRSS"))
            await asyncio.sleep(0.2)

    async with httpx2.AsyncClient(limits=limits, timeout=60) as client:
        sampler = asyncio.create_task(sample())
        start = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        seconds = time.perf_counter() - start
        sampler.cancel()
    return seconds, latencies, statuses, rss


def _percentile(values, q):
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def _direct(photo_path, n_photos):
    """predict_images on ``n_photos`` files in one call, and one call per photo: photos per second."""
    model, detector = load_pretrained_onnx(), FaceDetector()
    predict_images([photo_path], model, detector=detector)  # load the detector, warm up
    start = time.perf_counter()
    frame = predict_images([photo_path] * n_photos, model, detector=detector)
    one_call = time.perf_counter() - start
    assert len(frame) == n_photos and (frame["emotion"] == "Happy").all()
    start = time.perf_counter()
    for _ in range(n_photos):
        predict_images([photo_path], model, detector=detector)
    per_photo = time.perf_counter() - start
    return {"one_call_photos_per_s": n_photos / one_call, "call_per_photo_photos_per_s": n_photos / per_photo}


def _write_markdown(result, path):
    load, direct, cpu = result["load"], result["direct"], result["machine"]
    flags = ", ".join(cpu["cpu_flags"])
    lines = [
        "# skfer serve under load, against predict_images",
        "",
        f"Command: `{result['command']}`, {result['date'][:10]}. CPU: {cpu['cpu']} "
        f"({cpu['cpu_count']} usable; {flags}). skfer {result['versions']['skfer']}, "
        f"onnxruntime {result['versions']['onnxruntime']}, fastapi {result['versions']['fastapi']}, "
        f"uvicorn {result['versions']['uvicorn']}.",
        "",
        f"`POST /v1/predict` with one photo each (the scikit-image astronaut, 512x512 JPEG, one face), "
        f"{load['requests']:,} requests, {load['concurrency']} at a time, from a client on the same "
        f"machine (loopback), after {result['warmup']} warm-up requests. `skfer serve` with its defaults "
        "(the shipped model's 8-bit engine, BlazeFace with alignment). The machine's 1-minute load "
        f"average was {result['load_average_1min']['start']:.1f} at the start and "
        f"{result['load_average_1min']['end']:.1f} at the end.",
        "",
        "| | photos/s | p50 latency | p95 latency | errors |",
        "|---|---|---|---|---|",
        f"| `skfer serve`, {load['concurrency']} concurrent requests | {load['photos_per_s']:.1f} | "
        f"{1000 * load['p50_s']:.1f} ms | {1000 * load['p95_s']:.1f} ms | {load['errors']} |",
        f"| `predict_images` on {result['direct_photos']:,} files in one call (in-process) | "
        f"{direct['one_call_photos_per_s']:.1f} | | | |",
        f"| `predict_images` once per photo (in-process) | {direct['call_per_photo_photos_per_s']:.1f} | | | |",
        "",
        f"The service answered {load['photos_per_s'] / direct['call_per_photo_photos_per_s']:.2f} times as many "
        "photos per second as `predict_images` called once per photo (its batcher puts the faces of "
        "concurrent requests through one model call, its threads find faces in parallel), and "
        f"{load['photos_per_s'] / direct['one_call_photos_per_s']:.0%} as many as `predict_images` on all the "
        "files in one call. Each request adds HTTP, multipart parsing, writing the upload to a file and a "
        "table of its own; the client runs on the same cores.",
        "",
        "| server memory | MB |",
        "|---|---|",
        f"| resident after start-up and warm-up | {result['memory']['before_mb']:.0f} |",
        f"| resident, mean of the first quarter of the load | {result['memory']['first_quarter_mb']:.0f} |",
        f"| resident, mean of the last quarter of the load | {result['memory']['last_quarter_mb']:.0f} |",
        f"| peak resident (VmHWM) | {result['memory']['peak_mb']:.0f} |",
        "",
    ]
    path.write_text("\n".join(lines))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--warmup", type=int, default=32)
    parser.add_argument("--quick", action="store_true", help="test the script: 16 requests, 4 at a time")
    parser.add_argument("--output", type=Path, default=RESULTS / "serve_load.json")
    args = parser.parse_args(argv)
    if args.quick:
        args.requests, args.concurrency, args.warmup = 16, 4, 4
    command = "python benchmarks/serve_load.py" + "".join(f" {shlex.quote(a)}" for a in (argv or sys.argv[1:]))

    load_start = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as folder:
        photo_path = Path(folder) / "astronaut.jpg"
        cv2.imwrite(str(photo_path), skimage.data.astronaut()[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, 90])
        photo = photo_path.read_bytes()
        with open(Path(folder) / "serve.log", "w") as log:
            process, base = _start_server(log)
            try:
                asyncio.run(_load(base, photo, args.warmup, args.concurrency, process.pid))
                before = _memory_mb(process.pid, "VmRSS")
                seconds, latencies, statuses, rss = asyncio.run(
                    _load(base, photo, args.requests, args.concurrency, process.pid)
                )
                peak = _memory_mb(process.pid, "VmHWM")
            finally:
                process.terminate()
                process.wait(timeout=30)
        errors = [status for status in statuses if status != 200]
        direct = _direct(photo_path, args.requests)

    quarter = max(1, len(rss) // 4)
    result = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "command": command,
        "machine": machine(),
        "versions": versions(extra=("onnxruntime", "opencv-python-headless", "fastapi", "uvicorn", "httpx2")),
        "load_average_1min": {"start": load_start, "end": os.getloadavg()[0]},
        "warmup": args.warmup,
        "direct_photos": args.requests,
        "load": {
            "requests": args.requests, "concurrency": args.concurrency, "seconds": seconds,
            "photos_per_s": args.requests / seconds,
            "p50_s": statistics.median(latencies), "p95_s": _percentile(latencies, 95),
            "max_s": max(latencies), "errors": len(errors), "first_errors": errors[:5],
        },
        "memory": {
            "before_mb": before, "first_quarter_mb": statistics.mean(rss[:quarter]),
            "last_quarter_mb": statistics.mean(rss[-quarter:]), "peak_mb": peak,
        },
        "direct": direct,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    _write_markdown(result, args.output.with_suffix(".md"))
    print(args.output.with_suffix(".md").read_text())
    return result


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    main()
