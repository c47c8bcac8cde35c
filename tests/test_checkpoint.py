import json
import math
import subprocess
import sys
import time

import numpy as np

from skfer import FERClassifier

from .conftest import TINY

_SCRIPT = """
import sys, time, keras, numpy as np
from skfer import FERClassifier

class Slow(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        time.sleep(0.5)

rng = np.random.default_rng(0)
X, y = rng.random((60, 2304), dtype=np.float32), np.arange(60) % 3
FERClassifier(**{params}, callbacks=[Slow]).fit(X, y)
"""


def test_killed_fit_resumes_from_last_finished_epoch(tmp_path):
    params = {**TINY, "epochs": 8, "random_state": 0, "checkpoint_dir": str(tmp_path / "ckpt")}
    state_file = tmp_path / "ckpt" / "state.json"
    run = subprocess.Popen([sys.executable, "-c", _SCRIPT.replace("{params}", repr(params))])
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and run.poll() is None:
        if state_file.exists() and json.loads(state_file.read_text())["epoch"] >= 2:
            break
        time.sleep(0.1)
    run.kill()
    run.wait()
    saved = json.loads(state_file.read_text())
    assert 2 <= saved["epoch"] < 8 and not saved["finished"]

    rng = np.random.default_rng(0)
    X, y = rng.random((60, 2304), dtype=np.float32), np.arange(60) % 3
    clf = FERClassifier(**params).fit(X, y)
    done = saved["epoch"]
    assert len(clf.history_["loss"]) == 8
    assert clf.history_["loss"][:done] == saved["history"]["loss"][:done]
    steps = math.ceil(len(X) / clf.batch_size)
    assert int(clf.model_.optimizer.iterations) == 8 * steps  # optimizer state carried over
    assert json.loads(state_file.read_text())["finished"]

    again = FERClassifier(**params).fit(X, y)  # a finished checkpoint loads without training
    np.testing.assert_array_equal(again.predict_proba(X), clf.predict_proba(X))
