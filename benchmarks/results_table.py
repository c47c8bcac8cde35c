"""Regenerate the table of runs in ``benchmarks/results/README.md`` from the runs' own files.

Every folder under ``benchmarks/results/`` is a run; the table gets one row per
folder, read from its ``metrics.json`` (accuracy, epochs, time, hardware,
versions, command). A run that failed is listed with its error, and a folder
without ``metrics.json`` (a run still going, or one that died before writing
it) is listed as such, so no run goes missing. Only the text between the
two marker lines of the README is replaced; everything else in it is left as
written.

Examples
--------
Rewrite the table after new runs::

    python benchmarks/results_table.py

Exit with status 1 if the table is out of date (for CI or a pre-commit check)::

    python benchmarks/results_table.py --check
"""

import argparse
import json
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
BEGIN = "<!-- runs table: made by benchmarks/results_table.py from each run's metrics.json; do not edit -->"
END = "<!-- end of runs table -->"
COLUMNS = (
    "run", "architecture", "PublicTest accuracy (no TTA)", "with flip TTA", "macro F1", "epochs (best)",
    "fit time", "s/epoch", "hardware", "software", "status", "command",
)


def _figure(value, digits=4):
    return "" if value is None else f"{value:.{digits}f}"


def _hardware(metrics):
    machine = metrics.get("machine") or {}
    if machine.get("gpus"):
        return ", ".join(machine["gpus"])
    if not machine.get("cpu"):
        return ""
    return f"CPU {machine['cpu']}, {machine.get('cpu_count')} cores"


def _software(metrics):
    versions = metrics.get("versions", {})
    backend = metrics.get("backend")
    parts = [f"Keras {versions['keras']}"] if "keras" in versions else []
    if backend:
        parts.append(f"{backend} {versions.get(backend, '')}".strip())
    return ", ".join(parts)


def _status(metrics):
    if metrics.get("status") == "failed":
        error = " ".join(str(metrics.get("error", "")).split())
        return f"failed: {error[:120]}"
    return "stopped by time budget" if metrics.get("stopped_by_time_budget") else "completed"


def run_row(folder):
    """The table cells of one run folder, in the order of ``COLUMNS``."""
    path = folder / "metrics.json"
    if not path.is_file():
        missing = "no metrics.json (running, or died before writing it)"
        return [f"`{folder.name}`", *[""] * (len(COLUMNS) - 3), missing, ""]
    metrics = json.loads(path.read_text())
    epochs, best = metrics.get("epochs_run"), metrics.get("best_epoch")
    fit = metrics.get("fit_seconds")
    params = metrics.get("classifier_params") or {}
    by_tta = metrics.get("accuracy_by_tta") or {}
    return [
        f"`{folder.name}`",
        metrics.get("architecture") or params.get("architecture") or "dcnn",
        _figure(by_tta.get("none", metrics.get("accuracy") if metrics.get("tta") is None else None)),
        _figure(by_tta.get("flip")),
        _figure(metrics.get("macro_f1"), 3),
        "" if epochs is None else f"{epochs} ({best})",
        "" if fit is None else f"{fit:.0f} s",
        _figure(metrics.get("seconds_per_epoch"), 2),
        _hardware(metrics),
        _software(metrics),
        _status(metrics),
        f"`{metrics['command']}`" if metrics.get("command") else "",
    ]


def runs_table(results=RESULTS):
    """The Markdown table of every run folder under ``results``, sorted by name."""
    folders = sorted(p for p in Path(results).iterdir() if p.is_dir())
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + " --- |" * len(COLUMNS)]
    for folder in folders:
        cells = [cell.replace("|", "\\|") for cell in run_row(folder)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def updated_readme(text, table):
    """``text`` with the part between the markers replaced by ``table``."""
    if text.count(BEGIN) != 1 or text.count(END) != 1 or text.index(BEGIN) > text.index(END):
        raise ValueError(f"the README needs one line {BEGIN!r} and, after it, one line {END!r}")
    head, rest = text.split(BEGIN)
    _, tail = rest.split(END)
    return f"{head}{BEGIN}\n{table}\n{END}{tail}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", type=Path, default=RESULTS, help="folder of run folders and README.md")
    parser.add_argument("--check", action="store_true", help="exit 1 if README.md's table is out of date")
    args = parser.parse_args(argv)
    readme = args.results / "README.md"
    text = readme.read_text()
    new = updated_readme(text, runs_table(args.results))
    if args.check:
        if new != text:
            print(f"{readme} is out of date: run python benchmarks/results_table.py", file=sys.stderr)
            return 1
        return 0
    readme.write_text(new)
    print(f"{readme}: {new.count(chr(10) + '| `')} runs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
