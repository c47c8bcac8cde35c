"""benchmarks/results_table.py lists every run folder, failed and unfinished ones too."""

import importlib.util
import json
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def _table_module():
    spec = importlib.util.spec_from_file_location("results_table", BENCHMARKS / "results_table.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run(folder, **metrics):
    folder.mkdir(parents=True)
    (folder / "metrics.json").write_text(json.dumps(metrics))


def test_table_lists_every_run_and_keeps_the_hand_written_text(tmp_path):
    table = _table_module()
    _run(tmp_path / "good_run", accuracy=0.6640, accuracy_by_tta={"none": 0.6640, "flip": 0.6623},
         macro_f1=0.627, epochs_run=100, best_epoch=93, fit_seconds=382.7, seconds_per_epoch=3.75, backend="jax",
         machine={"gpus": ["NVIDIA H100 80GB HBM3"]}, versions={"keras": "3.15.1", "jax": "0.11.2"},
         command="python3 benchmarks/train_fer2013.py --run-name good_run")
    _run(tmp_path / "crashed", status="failed", error="Traceback ...\nValueError: bad | thing",
         command="python3 x.py")
    (tmp_path / "still_running").mkdir()
    readme = tmp_path / "README.md"
    readme.write_text(f"# Results\n\nIntro by hand.\n\n{table.BEGIN}\nold table\n{table.END}\n\nAnalysis by hand.\n")

    assert table.main(["--results", str(tmp_path), "--check"]) == 1
    assert table.main(["--results", str(tmp_path)]) == 0
    text = readme.read_text()
    assert text.startswith("# Results\n\nIntro by hand.\n") and text.endswith("\nAnalysis by hand.\n")
    assert "old table" not in text
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    assert [row.split("|")[1].strip() for row in rows] == ["`crashed`", "`good_run`", "`still_running`"]
    good = next(row for row in rows if "good_run" in row)
    assert "0.6640 | 0.6623" in good and "100 (93)" in good and "NVIDIA H100 80GB HBM3" in good and "jax 0.11.2" in good
    assert "failed: Traceback ... ValueError: bad \\| thing" in text
    assert "no metrics.json" in next(row for row in rows if "still_running" in row)
    assert table.main(["--results", str(tmp_path), "--check"]) == 0


def test_readme_without_markers_is_refused(tmp_path):
    (tmp_path / "README.md").write_text("# Results\n")
    with pytest.raises(ValueError, match="needs one line"):
        _table_module().main(["--results", str(tmp_path)])


def test_committed_readme_lists_every_recorded_run():
    results = BENCHMARKS / "results"
    text = (results / "README.md").read_text()
    recorded = sorted(p.parent.name for p in results.glob("*/metrics.json"))
    missing = [name for name in recorded if f"| `{name}` |" not in text]
    assert not missing, f"run python benchmarks/results_table.py: {missing} are not in the table"
