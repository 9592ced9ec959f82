"""Scale out: two `MultiWorkerMirroredStrategy` workers on loopback ports stay in sync."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).parent


def free_loopback_ports(count):
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


@pytest.mark.large
@pytest.mark.subprocess
def test_two_workers_train_and_hold_identical_weights(tmp_path):
    ports = ",".join(map(str, free_loopback_ports(2)))
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": ""}
    env.pop("TF_CONFIG", None)
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                str(HERE / "multiworker_worker.py"),
                str(i),
                ports,
                str(tmp_path / f"worker{i}.npz"),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for i in range(2)
    ]
    outputs = []
    try:
        for worker in workers:
            stdout, stderr = worker.communicate(timeout=240)
            assert worker.returncode == 0, stderr[-3000:]
            outputs.append(json.loads(stdout.strip().splitlines()[-1]))
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
    assert [o["replicas"] for o in outputs] == [2, 2]
    assert all(o["max_weight_change"] > 1e-3 for o in outputs), outputs
    first, second = (np.load(tmp_path / f"worker{i}.npz") for i in range(2))
    assert len(first.files) == len(second.files) > 0
    for name in first.files:
        np.testing.assert_allclose(first[name], second[name], rtol=0, atol=1e-6)
    # The reported loss is all-reduced too: both workers see the same number.
    assert outputs[0]["loss"] == pytest.approx(outputs[1]["loss"], rel=1e-5)
