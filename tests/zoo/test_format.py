"""Preset folders: what `save_to_preset` writes, and loading every family back."""

import json
import os

import keras
import numpy as np
import pytest
from toy_models import tiny_gan, tiny_mixture

import kgan
from kgan.zoo import format as fmt
from kgan.zoo import golden


def test_save_writes_the_files_with_their_checksums(tmp_path):
    model = tiny_gan(conditional=True)
    model.compile()
    folder = kgan.zoo.save_to_preset(
        model,
        tmp_path / "cgan_toy",
        description="a toy",
        dataset="toy",
        recipe="kgan train cgan ...",
        metrics={"fid": 12.5, "command": "kgan evaluate ..."},
    )
    names = sorted(os.listdir(folder))
    assert names == sorted([*fmt.PAYLOAD_FILES, fmt.METADATA_FILE, fmt.SAMPLES_FILE])
    metadata = fmt.read_metadata(folder)
    assert sorted(metadata["files"]) == sorted([*fmt.PAYLOAD_FILES, fmt.SAMPLES_FILE])
    assert metadata["class_name"] == "ConditionalGAN" and metadata["module"] == "kgan.models"
    assert metadata["parameter_count"] == sum(int(np.prod(w.shape)) for w in model.weights)
    assert metadata["metrics"]["fid"] == 12.5 and metadata["keras_version"] == keras.__version__
    for name, entry in metadata["files"].items():
        path = os.path.join(folder, name)
        assert entry == {"sha256": fmt.sha256_file(path), "size": os.path.getsize(path)}
    with open(os.path.join(folder, fmt.CONFIG_FILE)) as f:
        assert "compile_config" not in json.load(f)  # presets hold no optimizer
    card = open(os.path.join(folder, fmt.CARD_FILE)).read()
    assert "kgan.zoo.load" in card and "| fid | 12.5 |" in card and "kgan train cgan" in card


def test_an_image_generator_shows_its_samples_on_the_card(tmp_path):
    from PIL import Image

    from kgan.image_grid import save_sample_grid

    model = tiny_gan(conditional=True)
    folder = kgan.zoo.save_to_preset(model, tmp_path / "cgan_toy")
    card = open(os.path.join(folder, fmt.CARD_FILE)).read()
    assert "](samples.png)" in card and "kgan sample cgan_toy --num 100 --seed 0" in card
    # The picture is what `kgan sample` draws: one row per class, seed 0.
    drawn = save_sample_grid(kgan.zoo.load(folder), tmp_path / "drawn.png")
    picture = np.asarray(Image.open(os.path.join(folder, fmt.SAMPLES_FILE)))
    np.testing.assert_array_equal(picture, np.asarray(Image.open(drawn)))
    assert picture.shape == (2 * (3 * 10 + 2), 2 * (34 * 10 + 2))  # 3 rows of 34, scale 2
    other = save_sample_grid(model, tmp_path / "seed1.png", seed=1)
    assert not np.array_equal(picture, np.asarray(Image.open(other)))
    # Checked like every file of the preset.
    Image.fromarray(255 - picture).save(os.path.join(folder, fmt.SAMPLES_FILE))
    with pytest.raises(kgan.zoo.ChecksumError, match="samples.png"):
        kgan.zoo.load(folder)
    # Not for models that do not draw images, nor when left out.
    for model, name in [(tiny_gan(), "points"), (tiny_mixture(), "gmm")]:
        assert fmt.SAMPLES_FILE not in os.listdir(kgan.zoo.save_to_preset(model, tmp_path / name))
    with pytest.raises(ValueError, match="does not generate images"):
        save_sample_grid(tiny_gan(), tmp_path / "points.png")
    plain = kgan.zoo.save_to_preset(tiny_gan(True), tmp_path / "plain", samples=False)
    assert fmt.SAMPLES_FILE not in os.listdir(plain)
    assert "## Samples" not in open(os.path.join(plain, fmt.CARD_FILE)).read()


def test_save_is_atomic(tmp_path, monkeypatch):
    def fail(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(golden, "write", fail)
    with pytest.raises(RuntimeError, match="disk full"):
        kgan.zoo.save_to_preset(tiny_gan(), tmp_path / "gan_toy")
    assert os.listdir(tmp_path) == []
    monkeypatch.undo()
    kgan.zoo.save_to_preset(tiny_gan(), tmp_path / "gan_toy")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        kgan.zoo.save_to_preset(tiny_gan(), tmp_path / "gan_toy")


def _families():
    vae = kgan.models.build_vae((8, 8, 1), latent_dim=2, width=4, seed=0)
    vaegan = kgan.models.build_vaegan((8, 8, 1), latent_dim=2, width=4, seed=0)
    classifier = keras.Sequential(
        [keras.Input((8, 8, 1)), keras.layers.Flatten(), keras.layers.Dense(3)]
    )
    return {
        "GAN": tiny_gan(),
        "ConditionalGAN": tiny_gan(conditional=True),
        "WGANGP": kgan.models.build_trainer("wgan_gp", (2,), latent_dim=2, width=8, seed=0),
        "VAE": vae,
        "VAEGAN": vaegan,
        "Sequential": classifier,
        "GaussianMixture": tiny_mixture(),
    }


def test_every_family_round_trips_with_its_golden_values(tmp_path):
    for name, model in _families().items():
        folder = kgan.zoo.save_to_preset(model, tmp_path / name)
        loaded = kgan.zoo.load(folder)
        assert type(loaded).__name__ == name
        differences = golden.check(loaded, os.path.join(folder, fmt.GOLDEN_FILE))
        assert differences and max(differences.values()) < 1e-5, name
        # Freshly initialized weights give other outputs: the check can fail.
        if name != "GaussianMixture":
            fresh = kgan.zoo.load(folder, load_weights=False)
            with pytest.raises(AssertionError):
                golden.check(fresh, os.path.join(folder, fmt.GOLDEN_FILE))


def test_from_preset_checks_the_class(tmp_path):
    folder = kgan.zoo.save_to_preset(tiny_gan(conditional=True), tmp_path / "cgan_toy")
    assert isinstance(kgan.ConditionalGAN.from_preset(folder), kgan.ConditionalGAN)
    assert isinstance(kgan.GAN.from_preset(folder), kgan.ConditionalGAN)  # a subclass
    with pytest.raises(kgan.zoo.PresetError, match="holds a ConditionalGAN, not a VAE"):
        kgan.VAE.from_preset(folder)
    gmm = kgan.mixture.GaussianMixture.from_preset(
        kgan.zoo.save_to_preset(tiny_mixture(), tmp_path / "gmm_toy")
    )
    assert gmm.means_.shape == (2, 2)


def test_a_tampered_folder_is_refused(tmp_path):
    folder = kgan.zoo.save_to_preset(tiny_gan(), tmp_path / "gan_toy")
    weights = os.path.join(folder, fmt.WEIGHTS_FILE)
    data = bytearray(open(weights, "rb").read())
    data[-100] ^= 0xFF
    open(weights, "wb").write(bytes(data))
    with pytest.raises(kgan.zoo.ChecksumError, match="corrupted or was swapped"):
        kgan.zoo.load(folder)
    os.truncate(weights, 100)
    with pytest.raises(kgan.zoo.ChecksumError, match="truncated"):
        kgan.zoo.load(folder)


def test_a_config_naming_another_class_is_refused(tmp_path):
    folder = kgan.zoo.save_to_preset(tiny_gan(), tmp_path / "gan_toy")
    config_path = os.path.join(folder, fmt.CONFIG_FILE)
    with open(config_path) as f:
        config = json.load(f)
    config["registered_name"] = "evil>Payload"
    with open(config_path, "w") as f:
        json.dump(config, f)
    # Re-sign the files so only the class check stands in the way.
    metadata = fmt.read_metadata(folder)
    metadata["files"][fmt.CONFIG_FILE] = {
        "sha256": fmt.sha256_file(config_path),
        "size": os.path.getsize(config_path),
    }
    with open(os.path.join(folder, fmt.METADATA_FILE), "w") as f:
        json.dump(metadata, f)
    with pytest.raises(kgan.zoo.PresetError, match="evil>Payload"):
        kgan.zoo.load(folder)


def test_save_refuses_what_is_not_a_model(tmp_path):
    with pytest.raises(ValueError, match="cannot save a dict as a preset"):
        kgan.zoo.save_to_preset({}, tmp_path / "nothing")
    assert os.listdir(tmp_path) == []
