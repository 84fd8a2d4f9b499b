"""Every script in examples/ runs, in a smoke mode: its own arguments made tiny.

The scripts run in this process (`runpy`, as `__main__`) from a temporary folder, so they share
the already imported TensorFlow; each must finish and write what it says it writes.
"""

import os
import pathlib
import runpy
import sys

import pytest

EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples"

# Script -> (smoke arguments, a file or folder it writes).
SMOKE = {
    "cluster_digits.py": (["--method", "vae", "--epochs", "1", "--out", "c.png"], "c.png"),
    "conditional_mnist.py": (
        ["--epochs", "1", "--num-examples", "640", "--out", "cgan.png"],
        "cgan.png",
    ),
    "gmm_tfp.py": (["--out", "gmm_export"], "gmm_export"),
    "ring8_mode_coverage.py": (["--epochs", "1"], None),
    "vae_mnist.py": (
        ["--epochs", "1", "--num-examples", "640", "--latent-dim", "2", "--out-dir", "vae"],
        "vae",
    ),
    "vaegan_mnist.py": (
        ["--epochs", "1", "--num-examples", "640", "--latent-dim", "4", "--out", "vaegan"],
        "vaegan",
    ),
    "wgan_gp_ring.py": (["--steps", "20", "--out", "wgan.png"], "wgan.png"),
    "zoo_presets.py": (["--out", "zoo_demo"], "zoo_demo"),
}


def test_every_example_has_a_smoke_mode():
    assert sorted(p.name for p in EXAMPLES.glob("*.py")) == sorted(SMOKE)


@pytest.mark.parametrize("script", sorted(SMOKE))
def test_example_runs(script, tmp_path, monkeypatch):
    arguments, written = SMOKE[script]
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", [script, *arguments])
    runpy.run_path(str(EXAMPLES / script), run_name="__main__")
    if written is not None:
        assert os.path.exists(tmp_path / written), f"{script} did not write {written}"
