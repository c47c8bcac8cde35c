"""Every gallery example runs as the script a reader downloads, at a smaller size (``SKFER_EXAMPLES=quick``).

The README's test command runs them; the Dask example needs the dask extra,
so CI's extras leg runs that one. The docs build runs the examples at full
size where it builds the whole gallery.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

#: Examples that need an optional extra, and the module that tells it is installed.
NEEDS_EXTRA = {"plot_dask_sweep": "distributed"}
EXAMPLES = [
    pytest.param(path, id=path.stem, marks=[pytest.mark.extra] if path.stem in NEEDS_EXTRA else [])
    for path in sorted((Path(__file__).resolve().parents[1] / "examples").glob("plot_*.py"))
]


@pytest.mark.parametrize("script", EXAMPLES)
def test_example_runs_as_a_script(script, fer_dir, tmp_path):
    if script.stem in NEEDS_EXTRA:
        pytest.importorskip(NEEDS_EXTRA[script.stem], reason="needs the dask extra")
    env = {**os.environ, "SKFER_EXAMPLES": "quick", "SKFER_DATA": str(fer_dir), "MPLBACKEND": "Agg",
           "TF_CPP_MIN_LOG_LEVEL": "3"}
    run = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=900)
    assert run.returncode == 0, run.stderr[-3000:]
