"""Data-parallel training (keras.distribution.DataParallel) on JAX with two CPU devices."""

import importlib.util
import json
import os
import subprocess
import sys

import pytest

SCRIPT = """
import json
import os
import sys

import keras
import numpy as np
from skfer import FERClassifier

devices = keras.distribution.list_devices()
rng = np.random.default_rng(0)
y = np.repeat([0, 1], 16)
X = rng.random((32, 2304), dtype=np.float32) + 0.5 * y[:, None]
params = dict(architecture__filters=(4,), dropout=0.0, architecture__dense_units=8,
              architecture__dense_dropout=0.0, augmentation=None, epochs=2, batch_size=8, random_state=0)
single = FERClassifier(**params).fit(X, y)
# What each device would learn alone from its half of every batch.
half = FERClassifier(**{**params, "batch_size": 4}).fit(X, y)
with keras.distribution.DataParallel(devices=devices).scope():
    parallel = FERClassifier(**params).fit(X, y)
kernel = parallel.model_.trainable_weights[0].value
proba = single.predict_proba(X)
print(json.dumps({
    "backend": keras.backend.backend(),
    "devices": len(devices),
    "weight_devices": len(kernel.sharding.device_set),
    "parallel_vs_single": float(np.abs(parallel.predict_proba(X) - proba).max()),
    "half_batch_vs_single": float(np.abs(half.predict_proba(X) - proba).max()),
}))
sys.stdout.flush()
os._exit(0)  # TensorFlow and JAX in one process can hang at exit
"""


@pytest.mark.skipif(
    importlib.util.find_spec("jax") is None,
    reason="needs JAX (pip install jax); not installed in CI, where this test is skipped",
)
def test_data_parallel_on_two_cpu_devices_trains_like_one():
    env = {
        **os.environ,
        "KERAS_BACKEND": "jax",
        "XLA_FLAGS": "--xla_force_host_platform_device_count=2",
        "JAX_PLATFORMS": "cpu",
    }
    run = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=600
    )
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["backend"] == "jax" and result["devices"] == 2
    assert result["weight_devices"] == 2  # every weight replicated on both devices
    # Each step averages the gradients of the two half-batches: the step one device
    # takes on the whole batch, up to rounding (summed in another order), and far
    # from training on half-batches.
    assert result["parallel_vs_single"] < 5e-3
    assert result["half_batch_vs_single"] > 10 * result["parallel_vs_single"]
