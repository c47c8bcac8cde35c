"""benchmarks/gpu/: the data file round-trips, and train_variants.py runs end to end on a CPU.

The script is meant for a GPU machine under JAX; here it runs with tiny data,
one epoch and tiny networks, on JAX when it is installed, else on TensorFlow,
so that it works the first time it meets a GPU.
"""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

GPU = Path(__file__).resolve().parents[1] / "benchmarks" / "gpu"
BACKEND = "jax" if importlib.util.find_spec("jax") else "tensorflow"


def _prepare():
    spec = importlib.util.spec_from_file_location("gpu_prepare", GPU / "prepare.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _tiny_data(path, n_train=48, n_val=16):
    rng = np.random.default_rng(0)
    faces = rng.integers(0, 256, (n_train + n_val, 2304), dtype=np.uint8)
    emotion = rng.integers(0, 7, n_train + n_val)
    usage = np.array(["Training"] * n_train + ["PublicTest"] * n_val)
    _prepare().write_faces(path, faces, emotion, usage)
    return faces, emotion, usage


def test_compact_file_gives_back_every_face_exactly(tmp_path):
    faces, emotion, usage = _tiny_data(tmp_path / "fer.npz")
    read, read_emotion, read_usage = _prepare().read_faces(tmp_path / "fer.npz")
    np.testing.assert_array_equal(read, faces)
    np.testing.assert_array_equal(read_emotion, emotion)
    np.testing.assert_array_equal(read_usage, usage)
    with pytest.raises(ValueError, match="uint8 of shape"):
        _prepare().write_faces(tmp_path / "bad.npz", faces.astype(np.float32), emotion, usage)


VARIANTS = """
[defaults]
dtype = "float32"
batch_size = 16
epochs = 3

[[variant]]
name = "tiny_dcnn"
model = { filters = [4], kernel_sizes = 3, dropout = 0.1, dense_units = 8 }
crop_size = 44
steps_per_execution = 2

[[variant]]
name = "broken"
model = { no_such_argument = 1 }
"""


def test_train_variants_end_to_end_records_runs_and_failures(tmp_path):
    _tiny_data(tmp_path / "fer.npz")
    (tmp_path / "variants.toml").write_text(VARIANTS)
    env = {**os.environ, "KERAS_BACKEND": BACKEND, "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run(
        [sys.executable, str(GPU / "train_variants.py"), str(tmp_path / "variants.toml"),
         "--data", str(tmp_path / "fer.npz"), "--out", str(tmp_path / "runs"), "--epochs", "1",
         "--minutes", "5"],
        capture_output=True, text=True, env=env, timeout=600,
    )
    assert done.returncode == 1, done.stdout + done.stderr  # one variant fails on purpose
    assert "1 of 2 variants trained" in done.stdout

    good = json.loads((tmp_path / "runs" / "tiny_dcnn" / "metrics.json").read_text())
    assert good["status"] == "completed" and good["backend"] == BACKEND
    assert good["n_train"] == 48 and good["n_val"] == 16 and good["epochs_run"] == 1
    assert set(good["accuracy_by_tta"]) == {"none", "flip", "ten_crop"}
    assert good["accuracy_by_tta"]["none"] == good["accuracy"]
    assert all(0 <= value <= 1 for value in good["accuracy_by_tta"].values())
    assert good["machine"]["cpu_count"] >= 1
    assert good["flops_per_image"] > 0 and good["train_images_per_second"] > 0
    assert "train_variants.py" in good["command"]
    history = json.loads((tmp_path / "runs" / "tiny_dcnn" / "history.json").read_text())
    assert len(history["val_accuracy"]) == 1

    from skfer.models import ARCHITECTURES, FaceCrop

    network = ARCHITECTURES[good["architecture"]](7, **good["builder_kwargs"], augmentation=[FaceCrop(44)])
    network.load_weights(tmp_path / "runs" / "tiny_dcnn" / "model.weights.h5")
    assert network.count_params() == good["parameters"]

    broken = json.loads((tmp_path / "runs" / "broken" / "metrics.json").read_text())
    assert broken["status"] == "failed" and "no_such_argument" in broken["error"]


def test_unknown_variant_keys_are_named(tmp_path):
    (tmp_path / "variants.toml").write_text('[[variant]]\nname = "a"\nlearning_rat = 0.1\n')
    done = subprocess.run(
        [sys.executable, str(GPU / "train_variants.py"), str(tmp_path / "variants.toml")],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode != 0 and "learning_rat" in done.stderr
