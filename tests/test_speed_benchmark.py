"""benchmarks/speed.py --sections: a partial run keeps the other sections' results."""

import json
import re
import runpy
from pathlib import Path

SPEED = Path(__file__).resolve().parents[1] / "benchmarks" / "speed.py"


def test_a_partial_run_merges_into_the_results_and_keeps_each_sections_run(tmp_path):
    main = runpy.run_path(str(SPEED))["main"]
    output = tmp_path / "speed.json"
    parsing = {"rows": 10, "seed_split_s": 2.0, "pixel_string_transformer_s": 0.1, "speedup": 20.0,
               "load_fer2013_s": 0.5}
    parsing_run = {
        "date": "2026-01-01T00:00:00+00:00", "command": "python benchmarks/speed.py --repeats 5",
        "repeats": 5, "quick": False, "load_average_1min": {"start": 0.5, "end": 0.7},
        "machine": None, "backend": {"keras_backend": "tensorflow", "versions": {"keras": "3"}},
    }
    # A results file holding one section, described under "sections".
    output.write_text(json.dumps({"parsing": parsing, "sections": {"parsing": parsing_run}}))

    for _ in range(2):  # the second time over the file the first run wrote
        main(["--sections", "flops", "--output", str(output)])
        result = json.loads(output.read_text())
        assert result["parsing"] == parsing
        assert set(result["sections"]) == {"parsing", "flops"}
        assert result["sections"]["parsing"] == parsing_run
        flops_run = result["sections"]["flops"]
        assert flops_run["command"] == f"python benchmarks/speed.py --sections flops --output {output}"
        assert {"cpu", "cpu_flags"} <= set(flops_run["machine"])
        assert result["flops"]["forward_flops_per_face"] > 0
        assert "date" not in result and "repeats" not in result

    table = output.with_suffix(".md").read_text()
    assert re.search(r"\| Parsing speed-up \(target >= 20x\) +\| 20\.0x \|", table)
    assert "DCNN forward MFLOP per face" in table
    assert "| parsing | 2026-01-01T00:00:00+00:00 |" in table and "| flops |" in table


def test_call_overhead_times_every_stage_of_one_face(tmp_path):
    main = runpy.run_path(str(SPEED.with_name("call_overhead.py")))["main"]
    output = tmp_path / "overhead.json"
    assert main(["--quick", "--output", str(output)]) == 0
    result = json.loads(output.read_text())
    stages = result["stages"]
    assert len(stages) == 6 and all(len(t["rounds_ms"]) == 2 and t["median_ms"] > 0 for t in stages.values())
    # The whole path costs at least its engine run and its weight check.
    path, engine, check = (stages[name]["median_ms"] for name in (
        "default path (pipeline.predict_proba)", "engine (engine_.predict_on_batch)",
        "weight check (engine_.made_from(model_))"))
    assert path > engine and path > check
    assert "| weight check (engine_.made_from(model_)) |" in output.with_suffix(".md").read_text()
