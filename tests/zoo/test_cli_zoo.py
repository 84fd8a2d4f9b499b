"""`kgan zoo` and the commands that take preset names."""

import json
import os

import pytest

import kgan
import kgan.cli


@pytest.fixture
def served(toy_zoo, mirror, monkeypatch):
    cgan = kgan.models.build_trainer(
        "cgan", (8, 8, 1), num_classes=3, latent_dim=4, width=4, seed=0
    )
    kgan.zoo.save_to_preset(cgan, toy_zoo / "toy_cgan", description="toy cGAN")
    kgan.zoo.build_index(toy_zoo, registry_file=kgan.zoo.registry.REGISTRY_FILE)
    server = mirror(toy_zoo)
    monkeypatch.setenv("KGAN_ZOO_URL", server.url)
    return server


def test_zoo_list_pull_info(served, cli):
    status, text = cli(["zoo", "list"])
    assert status == 0 and "toy_gan" in text and "toy_gmm" in text and "toy cGAN" in text
    status, text = cli(["zoo", "list", "*gmm"])
    assert status == 0 and "toy_gmm" in text and "toy_gan" not in text
    assert served.requests == []  # listing reads the registry only
    status, text = cli(["zoo", "pull", "toy_gan", "toy_gmm"])
    assert status == 0 and os.path.join("presets", "toy_gan") in text
    assert kgan.zoo.is_cached("toy_gan") and kgan.zoo.is_cached("toy_gmm")
    status, text = cli(["zoo", "info", "toy_gmm"])
    assert status == 0 and "GaussianMixture" in text and "sha256" in text
    status, text = cli(["zoo", "info", "toy_gmm", "--json"])
    assert json.loads(text)["class_name"] == "GaussianMixture"
    status, text = cli(["zoo", "pull", "no_such_preset"])
    assert status == 2 and "unknown preset 'no_such_preset'" in text


def test_sample_and_export_take_preset_names(served, cli, tmp_path):
    out = tmp_path / "grid.png"
    status, text = cli(["sample", "toy_cgan", "--num", "6", "--out", str(out)])
    assert status == 0 and out.exists()
    status, text = cli(
        ["export", "toy_gan", "--format", "tflite", "--out", str(tmp_path / "export")]
    )
    assert status == 0 and (tmp_path / "export" / "tflite" / "model.tflite").exists()


def test_publish_writes_a_preset_and_indexes_it(tmp_path, cli):
    model = kgan.models.build_trainer("gan", (2,), latent_dim=2, width=8, seed=0)
    model.compile()
    model.save(tmp_path / "model.keras")
    (tmp_path / "metrics.json").write_text(json.dumps({"fid": 3.5, "source": "x"}))
    registry_before = open(kgan.zoo.registry.REGISTRY_FILE).read()
    status, text = cli(
        [
            "zoo",
            "publish",
            str(tmp_path / "model.keras"),
            "--name",
            "my_gan",
            "--zoo",
            str(tmp_path / "zoo"),
            "--metrics",
            str(tmp_path / "metrics.json"),
            "--metrics-command",
            "kgan evaluate my_gan",
        ]
    )
    assert status == 0, text
    metadata = kgan.zoo.read_metadata(tmp_path / "zoo" / "my_gan")
    assert metadata["metrics"] == {"fid": 3.5, "command": "kgan evaluate my_gan"}
    index = json.loads((tmp_path / "zoo" / "index.json").read_text())
    assert list(index["presets"]) == ["my_gan"]
    # Another zoo folder never rewrites the registry shipped with kgan.
    assert open(kgan.zoo.registry.REGISTRY_FILE).read() == registry_before
