"""benchmarks/serve_load.py --quick: the load runs against a real skfer serve and its figures are written."""

import json
import runpy
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="needs the serve extra")
pytest.importorskip("httpx2", reason="needs httpx2 (the test extra)")
pytest.importorskip("skimage")

pytestmark = pytest.mark.extra

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "serve_load.py"


def test_quick_load_answers_every_request_and_writes_the_results(tmp_path):
    output = tmp_path / "serve_load.json"
    runpy.run_path(str(SCRIPT))["main"](["--quick", "--output", str(output)])

    result = json.loads(output.read_text())
    load = result["load"]
    assert load["requests"] == 16 and load["concurrency"] == 4
    assert load["errors"] == 0 and load["first_errors"] == []
    assert 0 < load["p50_s"] <= load["p95_s"] <= load["max_s"]
    assert load["photos_per_s"] == pytest.approx(16 / load["seconds"])
    assert result["direct"]["one_call_photos_per_s"] > 0 and result["direct"]["call_per_photo_photos_per_s"] > 0
    assert 0 < result["memory"]["before_mb"] <= result["memory"]["peak_mb"]
    assert result["machine"]["cpu"]
    assert result["command"] == f"python benchmarks/serve_load.py --quick --output {output}"
    table = output.with_suffix(".md").read_text()
    assert "| `skfer serve`, 4 concurrent requests |" in table and result["machine"]["cpu"] in table
