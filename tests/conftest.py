import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

FER_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "fer2013"

#: A FERClassifier small enough to fit in about a second, for behaviour tests.
TINY = dict(architecture__filters=(4,), architecture__dense_units=8, dropout=0.1, epochs=1, augmentation=None)


@pytest.fixture(scope="session")
def fer_dir():
    """The shared FER2013 folder beside the project root."""
    if not any(FER_DIR.glob("fer2013*.csv*")):
        pytest.skip(f"FER2013 not found at {FER_DIR} (tests with real faces need ../shared)")
    return FER_DIR


@pytest.fixture(scope="session")
def real_faces(fer_dir):
    """500 Training and 200 PublicTest faces as pixel strings, with labels."""
    from skfer import load_fer2013

    data = load_fer2013(fer_dir)
    train = np.flatnonzero(data.usage == "Training")[:500]
    val = np.flatnonzero(data.usage == "PublicTest")[:200]
    return data.data[train], data.target[train], data.data[val], data.target[val]


@pytest.fixture
def faces():
    """60 generated faces (values 0-255) in 3 balanced, learnable classes."""
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], 20)
    X = rng.integers(0, 120, size=(60, 2304)).astype(np.float32)
    X[:, :768] += 60 * y[:, None]
    return X, y


#: Modules that run many fits, subprocesses or every example: marked ``slow``, so that
#: ``pytest -m "not slow"`` is the contributors' quick subset (the full suite is what CI runs).
SLOW_MODULES = {
    "test_checkpoint", "test_cli", "test_common", "test_docstrings", "test_entry_points", "test_examples",
    "test_gpu_script", "test_halving", "test_parallel", "test_properties", "test_train_benchmark",
}


def pytest_collection_modifyitems(items):
    for item in items:
        if item.module.__name__.rsplit(".", 1)[-1] in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)


@pytest.fixture(autouse=True, scope="module")
def _free_keras_memory_after_each_module():
    """Drop the Keras graphs and traced functions a module's fits left behind (the suite's peak memory)."""
    yield
    import sys

    if "keras" in sys.modules:
        sys.modules["keras"].backend.clear_session(free_memory=True)


def _peak_mb():
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


#: How much each test raised the process's peak memory (MB), for the summary.
_PEAK_RISES = {}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    before = _peak_mb()
    yield
    if (rise := _peak_mb() - before) > 0:
        _PEAK_RISES[item.nodeid] = rise


def pytest_terminal_summary(terminalreporter):
    """The suite's peak memory and the five tests that raised it most (where to cut)."""
    top = sorted(_PEAK_RISES.items(), key=lambda item: -item[1])[:5]
    terminalreporter.write_line(
        f"peak memory of the test process: {_peak_mb():,.0f} MB; raised most by: "
        + "; ".join(f"{name} (+{rise:,.0f} MB)" for name, rise in top)
    )
