"""The custom train_step under tf.distribute: losses reduced over the global batch."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent


@pytest.mark.large
@pytest.mark.subprocess
def test_one_mirrored_step_on_two_replicas_equals_one_step_on_one_device():
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    result = subprocess.run(
        [sys.executable, str(HERE / "distributed_step.py")],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["replicas"] == 2
    assert report["max_weight_change"] > 1e-3, "the step must move the weights to prove anything"
    assert report["max_weight_difference"] < 1e-5, report
    assert report["loss_mirrored"] == pytest.approx(report["loss_plain"], rel=1e-5)
