"""Distribution: several replicas train as one device does on the global batch.

The multi-device runs happen in subprocesses (tests/distribute_cases.py), which configure their
logical CPU devices before TensorFlow starts.
"""

import json
import os
import socket
import subprocess
import sys

import distribute_cases as cases
import numpy as np
import pytest
import tensorflow as tf

import kgan
from kgan import distribute

SCRIPT = os.path.join(os.path.dirname(__file__), "distribute_cases.py")
# Conditional, with batch normalization synchronized across the machines.
WORKER_CASE = "cgan"


def _free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


@pytest.fixture(scope="module")
def workers(tmp_path_factory):
    """Two MultiWorkerMirroredStrategy workers on 127.0.0.1, started at once so that they run
    while the mirrored checks do; each saves its final weights."""
    out = tmp_path_factory.mktemp("workers")
    cases.write_streams(str(out / "streams"))
    addresses = [f"127.0.0.1:{port}" for port in _free_ports(2)]
    processes = []
    for index in range(2):
        config = {"cluster": {"worker": addresses}, "task": {"type": "worker", "index": index}}
        env = dict(os.environ, TF_CONFIG=json.dumps(config))
        command = [
            *(sys.executable, SCRIPT, "worker", WORKER_CASE),
            *(str(out / f"{index}.npz"), str(out / "streams")),
        ]
        processes.append(
            subprocess.Popen(
                command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
            )
        )
    yield processes, out
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.communicate()


@pytest.fixture(scope="module")
def mirrored(workers, tmp_path_factory):
    out = tmp_path_factory.mktemp("mirrored") / "results.json"
    result = subprocess.run(
        [sys.executable, SCRIPT, "mirrored", str(out)], capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr[-4000:]
    return json.loads(out.read_text())


@pytest.mark.parametrize("case", cases.CASES)
def test_two_replicas_train_as_one_device_on_the_global_batch(mirrored, case):
    result = mirrored["cases"][case]
    # Training moved the weights, and two replicas moved them as one device did.
    assert result["relative_update"] > 1e-3
    assert result["relative_error"] < 1e-5
    assert result["update_error"] < 1e-4


def test_unweighted_replica_losses_would_double_the_update(mirrored):
    # The check above can fail: summing the replicas' unweighted mean losses doubles the
    # gradient, which SGD turns into a step twice as long.
    result = mirrored["unweighted"]
    assert result["update_ratio"] == pytest.approx(2.0, rel=0.05)
    assert result["update_error"] > 0.5


def test_replicas_draw_different_numbers(mirrored):
    draws = mirrored["draws"]
    assert draws["rows_differ"] and draws["rows_are_global_draw"]
    assert draws["own_differ"]


def test_loss_scale_skip_is_agreed_by_all_replicas(mirrored):
    # One replica overflows in float16: every replica skips the step and the scale halves.
    overflow = mirrored["overflow"]
    assert overflow["weights_finite"] and overflow["weights_unchanged"]
    assert overflow["loss_scale"] == overflow["initial_loss_scale"] / 2


def test_augmentation_trains_under_two_replicas(mirrored):
    assert mirrored["augment"]["losses_finite"]


def test_two_workers_train_together_as_one_process(workers):
    processes, out = workers
    outputs = [process.communicate(timeout=300)[0] for process in processes]
    for process, output in zip(processes, outputs):
        assert process.returncode == 0, output[-4000:]
    weights = []
    for index in range(2):
        with np.load(out / f"{index}.npz") as saved:
            weights.append([saved[key] for key in saved.files])
    assert all(np.array_equal(a, b) for a, b in zip(*weights))
    initial, single = cases.train(WORKER_CASE, num_examples=cases.WORKER_EXAMPLES)
    result = cases.compare(initial, weights[0], single)
    assert result["relative_update"] > 1e-3
    assert result["relative_error"] < 1e-5
    assert result["update_error"] < 1e-4


def test_two_workers_stream_their_own_shares(workers):
    processes, out = workers
    for process in processes:
        output = process.communicate(timeout=300)[0] if process.poll() is None else ""
        assert process.returncode == 0, output[-4000:]
    seen = [json.loads((out / f"{index}_seen.json").read_text()) for index in range(2)]
    for source in cases.STREAM_SOURCES:
        first, second = seen[0][source], seen[1][source]
        for epoch in range(2):
            a, b = first[epoch], second[epoch]
            # The same number of steps on both; together every example once per epoch.
            assert len(a) == len(b) == cases.STREAM_EXAMPLES // 2
            assert sorted(a + b) == list(range(cases.STREAM_EXAMPLES)), source
        assert first[0] != first[1]  # reshuffled
    # Trained from the streamed folder, the workers end where one process does that reads the
    # folder with the global batch.
    streamed = []
    for index in range(2):
        with np.load(out / f"{index}_streamed.npz") as saved:
            streamed.append([saved[key] for key in saved.files])
    assert all(np.array_equal(a, b) for a, b in zip(*streamed))
    folder = kgan.data.load(
        out / "streams" / "folder", batch_size=cases.GLOBAL_BATCH, seed=3, cache=False
    )
    initial, single = cases.train(WORKER_CASE, dataset=folder)
    result = cases.compare(initial, streamed[0], single)
    assert result["relative_update"] > 1e-3
    assert result["relative_error"] < 1e-5


def test_get_strategy_by_name(monkeypatch):
    assert distribute.get_strategy("default") is tf.distribute.get_strategy()
    one = distribute.get_strategy("one_device")
    assert isinstance(one, tf.distribute.OneDeviceStrategy)
    mirrored = distribute.get_strategy("mirrored", devices=["/cpu:0"])
    assert mirrored.num_replicas_in_sync == 1
    with pytest.raises(ValueError, match="unknown strategy 'horovod'"):
        distribute.get_strategy("horovod")
    with pytest.raises(ValueError, match="devices applies to"):
        distribute.get_strategy("default", devices=["/cpu:0"])
    with pytest.raises(ValueError, match="one device"):
        distribute.get_strategy("one_device", devices=["/cpu:0", "/cpu:1"])


@pytest.mark.parametrize(
    ("tf_config", "message"),
    [
        (None, "TF_CONFIG environment variable, which is not set"),
        ("{not json", "not valid JSON"),
        ('{"cluster": {}, "task": {"type": "worker", "index": 0}}', "list the workers"),
        ('{"cluster": {"worker": ["a:1"]}, "task": {"type": "ps", "index": 0}}', "name this"),
        ('{"cluster": {"worker": ["a:1"]}, "task": {"type": "worker", "index": 3}}', "outside"),
    ],
)
def test_multi_worker_needs_a_valid_tf_config(monkeypatch, tf_config, message):
    if tf_config is None:
        monkeypatch.delenv("TF_CONFIG", raising=False)
    else:
        monkeypatch.setenv("TF_CONFIG", tf_config)
    with pytest.raises(ValueError, match=message):
        distribute.get_strategy("multi_worker")


def test_replica_batch_is_plain_on_one_device():
    layout = distribute.ReplicaBatch(4)
    assert not layout.distributed
    assert layout.weight() == 1.0
    loss = tf.constant(2.5)
    assert layout.scale(loss) is loss
    assert [float(v) for v in layout.mean([loss])] == [2.5]
