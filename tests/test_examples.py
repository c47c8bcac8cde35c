"""Every gallery example runs as the script a reader downloads, at a smaller size (``SKFER_EXAMPLES=quick``).

CI's extras leg runs these (the Dask example needs the dask extra); the
docs build runs the examples at full size where it builds the whole gallery.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").glob("plot_*.py"))


@pytest.mark.extra
@pytest.mark.parametrize("script", EXAMPLES, ids=[path.stem for path in EXAMPLES])
def test_example_runs_as_a_script(script, fer_dir, tmp_path):
    env = {**os.environ, "SKFER_EXAMPLES": "quick", "SKFER_DATA": str(fer_dir), "MPLBACKEND": "Agg",
           "TF_CPP_MIN_LOG_LEVEL": "3"}
    run = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=900)
    assert run.returncode == 0, run.stderr[-3000:]
