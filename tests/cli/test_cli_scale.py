"""`kgan train --strategy` and `--mixed-precision`."""

import json

import keras
import pytest

import kgan
import kgan.cli


@pytest.fixture
def float32_policy():
    yield
    keras.mixed_precision.set_global_policy("float32")


def test_train_under_a_strategy_with_mixed_precision(tmp_path, float32_policy):
    out = tmp_path / "run"
    argv = ["train", "gan", "--data", "ring8", "--epochs", "1", "--batch-size", "512"]
    argv += ["--strategy", "mirrored", "--mixed-precision", "mixed_bfloat16", "--quiet"]
    assert kgan.cli.main([*argv, "--out", str(out), "--no-collapse-check"]) == 0
    state = json.loads((out / "state.json").read_text())
    assert state["options"]["mixed_precision"] == "mixed_bfloat16"
    assert "strategy" not in state["options"]  # a property of the process, not of the run
    model, _ = kgan.callbacks.load_run(out)
    assert model.generator.dtype_policy.name == "mixed_bfloat16"
    samples = model.generate(8, seed=0)
    assert samples.dtype == "float32" and samples.shape == (8, 2)


def test_strategy_errors_are_explained(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    argv = ["train", "gan", "--data", "ring8", "--epochs", "1", "--out", str(tmp_path / "r")]
    assert kgan.cli.main([*argv, "--strategy", "multi_worker"]) == 2
    assert "TF_CONFIG" in capsys.readouterr().err
    vae = ["train", "vae", "--data", "digits", "--epochs", "1", "--out", str(tmp_path / "v")]
    assert kgan.cli.main([*vae, "--synchronized-batch-norm"]) == 2
    assert "--synchronized-batch-norm: not options of vae" in capsys.readouterr().err
