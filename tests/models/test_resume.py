"""A run killed mid-epoch and resumed ends with the weights of an uninterrupted run."""

import csv
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import h5py
import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

import kgan
from kgan import cli

REPO = Path(kgan.__file__).resolve().parents[1]

# Runs `kgan` in a child process that SIGKILLs itself after its KILL_AT-th training batch.
KILLED_CLI = textwrap.dedent(
    """
    import os, signal, sys
    import kgan.callbacks
    from kgan import cli

    kill_at, seen = int(sys.argv[1]), [0]

    def on_train_batch_end(self, batch, logs=None):
        seen[0] += 1
        if seen[0] == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)

    kgan.callbacks.RunCheckpoint.on_train_batch_end = on_train_batch_end
    sys.exit(cli.main(sys.argv[2:]))
    """
)

# Plain Keras: fit with BackupAndRestore; the child exits hard after its KILL_AT-th batch.
BACKUP_SCRIPT = textwrap.dedent(
    """
    import os, sys
    import keras
    import numpy as np
    import kgan

    def run(data_path, backup_dir, epochs, kill_at=None):
        keras.utils.set_random_seed(0)
        x = np.load(data_path)["x"]
        model = kgan.models.build_trainer("gan", (2,), latent_dim=2, width=8, seed=0)
        model.compile(jit_compile=False)
        train = kgan.data.load(data_path, batch_size=16, seed=5, cache=False)  # memory-mapped
        seen = [0]

        def maybe_exit(batch, logs):
            seen[0] += 1
            if seen[0] == kill_at:
                os._exit(7)

        callbacks = [
            keras.callbacks.BackupAndRestore(backup_dir),
            kgan.callbacks.DataEpoch(train),
            keras.callbacks.LambdaCallback(on_train_batch_end=maybe_exit),
        ]
        model.fit(train, epochs=epochs, callbacks=callbacks, verbose=0)
        return model

    if __name__ == "__main__":
        run(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    """
)


def _child(tmp_path, script, *args):
    path = tmp_path / "child.py"
    path.write_text(script)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    return subprocess.run(
        [sys.executable, str(path), *map(str, args)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _state(model):
    """Every variable of a trainer, its optimizers' and its latent RNG's, by position (Keras
    numbers the names of objects made twice in one process)."""
    state = {f"weights/{i}": np.asarray(v) for i, v in enumerate(model.weights)}
    for name in ("d_optimizer", "g_optimizer", "e_optimizer", "optimizer"):
        optimizer = getattr(model, name, None)
        if isinstance(optimizer, keras.optimizers.Optimizer):
            state.update({f"{name}/{i}": np.asarray(v) for i, v in enumerate(optimizer.variables)})
    state["seed_generator"] = np.asarray(model.seed_generator.state)
    return state


def _assert_same_state(a, b):
    first, second = _state(a), _state(b)
    assert sorted(first) == sorted(second)
    for key, value in first.items():
        np.testing.assert_allclose(second[key], value, rtol=1e-6, atol=1e-7, err_msg=key)


def _history(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def _tensorboard_steps(log_dir, tag):
    steps = []
    for path in sorted(Path(log_dir).rglob("events.out.tfevents*")):
        for record in tf.data.TFRecordDataset(str(path)):
            event = tf.compat.v1.Event.FromString(record.numpy())
            steps += [event.step for value in event.summary.value if value.tag == tag]
    return sorted(steps)


@pytest.fixture()
def images_npz(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "images.npz"
    np.savez(
        path,
        x=rng.integers(0, 256, (48, 8, 8), dtype=np.uint8),
        y=rng.integers(0, 3, 48).astype("int64"),
    )
    return path


def _as_folder(npz, folder):
    """The images of `npz` as PNGs in class subfolders."""
    with np.load(npz) as arrays:
        x, y = arrays["x"], arrays["y"]
    for i, (image, label) in enumerate(zip(x, y, strict=True)):
        path = folder / f"class_{label}" / f"{i:03d}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image, "L").save(path)
    return folder


@pytest.mark.parametrize("source", ["npz", "streamed folder"])
def test_kgan_train_resumed_after_sigkill_matches_an_uninterrupted_run(
    tmp_path, images_npz, source
):
    data = [str(images_npz)]
    if source == "streamed folder":
        data = [str(_as_folder(images_npz, tmp_path / "images")), "--cache", "stream"]

    def argv(out, epochs):
        return [
            *("train", "cgan", "--data", *data, "--out", str(out), "--quiet"),
            *("--batch-size", "16", "--width", "4", "--latent-dim", "4", "--seed", "3"),
            *("--epochs", str(epochs), "--no-xla"),  # XLA resumes exactly too, compiles slowly
        ]

    whole, resumed = tmp_path / "whole", tmp_path / "resumed"
    assert cli.main(argv(whole, 3)) == 0
    # 3 batches per epoch: killed after the second batch of epoch 2.
    child = _child(tmp_path, KILLED_CLI, 5, *argv(resumed, 3))
    assert child.returncode == -9, child.stderr[-2000:]
    assert json.loads((resumed / "state.json").read_text())["epoch"] == 1
    assert cli.main([*argv(resumed, 3), "--resume"]) == 0

    _assert_same_state(
        keras.saving.load_model(whole / "model.keras"),
        keras.saving.load_model(resumed / "model.keras"),
    )
    rows, expected = _history(resumed / "history.csv"), _history(whole / "history.csv")
    assert [row["epoch"] for row in rows] == ["0", "1", "2"]
    for row, reference in zip(rows, expected, strict=True):
        for key in ("d_loss", "g_loss", "diversity"):
            np.testing.assert_allclose(float(row[key]), float(reference[key]), rtol=1e-5)
    names = ["epoch_001.png", "epoch_002.png", "epoch_003.png"]
    assert sorted(p.name for p in (resumed / "grids").iterdir()) == names
    for name in names:
        with Image.open(whole / "grids" / name) as a, Image.open(resumed / "grids" / name) as b:
            difference = np.abs(np.asarray(a, "int16") - np.asarray(b, "int16"))
            assert difference.max() <= 1, name
    if kgan.callbacks.tensorboard_available():
        steps = _tensorboard_steps(resumed / "logs" / "train", "epoch_d_loss")
        assert sorted(set(steps)) == [0, 1, 2]


def test_backup_and_restore_after_a_hard_exit_matches_an_uninterrupted_run(tmp_path):
    x, _ = kgan.data.load_arrays("ring8", num_examples=64)
    data_path = tmp_path / "ring.npz"
    np.savez(data_path, x=x)
    backup = tmp_path / "backup"
    # 4 batches per epoch: exits after the third batch of epoch 3.
    child = _child(tmp_path, BACKUP_SCRIPT, data_path, backup, 4, 11)
    assert child.returncode == 7, child.stderr[-2000:]
    assert json.loads((backup / "training_metadata.json").read_text())["epoch"] == 2
    with h5py.File(backup / "latest.weights.h5") as weights:
        stored = set()
        weights.visit(stored.add)
    # Keras's save_weights keeps both optimizers (iterations and moments) and the latent RNG.
    assert {"d_optimizer/vars/0", "g_optimizer/vars/0", "vars/seed_generator_state"} <= stored
    assert "d_optimizer/vars/2" in stored and "g_optimizer/vars/3" in stored

    namespace = {"__name__": "backup_script"}
    exec(compile(BACKUP_SCRIPT, "backup_script", "exec"), namespace)
    resumed = namespace["run"](str(data_path), str(backup), 4)
    assert not backup.exists()  # BackupAndRestore deletes its backup after a finished fit
    whole = namespace["run"](str(data_path), str(tmp_path / "other_backup"), 4)
    assert int(whole.d_optimizer.iterations) == 16
    _assert_same_state(whole, resumed)
