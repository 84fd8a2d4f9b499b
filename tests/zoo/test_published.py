"""The presets published in the repository's zoo/ folder: indexed, intact, and numerically the
models they were when published."""

import json
import os
import pathlib

import pytest

import kgan
from kgan.image_grid import makes_images
from kgan.zoo import format as fmt
from kgan.zoo import golden

ZOO = pathlib.Path(__file__).resolve().parents[2] / "zoo"
with open(ZOO / "index.json") as f:
    INDEX = json.load(f)["presets"]

REQUIRED = {
    "gan_mnist",
    "cgan_mnist",
    "wgan_gp_mnist",
    "vae_mnist",
    "vaegan_mnist",
    "gmm_digits",
    "wgan_gp_ring8",
    "gan_grid25",
    "mnist_classifier",
    "infogan_mnist",
    "clustergan_mnist",
    "bigan_mnist",
}


def test_every_required_preset_is_published_with_a_recipe():
    assert REQUIRED <= set(INDEX)
    for name in INDEX:
        metadata = fmt.read_metadata(ZOO / name)
        assert metadata["metrics"], name
        assert metadata["recipe"] and metadata["metrics"].get("command"), name
        recipes = [ZOO / "recipes" / f"{name}.sh", ZOO / "recipes" / f"{name}.py"]
        assert any(path.exists() for path in recipes), name


def test_the_shipped_registry_is_the_zoo_index():
    with open(kgan.zoo.registry.REGISTRY_FILE) as f:
        assert json.load(f)["presets"] == INDEX


@pytest.mark.parametrize("name", sorted(INDEX))
def test_published_preset_is_intact_and_matches_its_golden_values(name):
    folder = ZOO / name
    files = INDEX[name]["files"]
    fmt.verify_folder(folder, files)
    for file, entry in files.items():  # small enough for git (infogan_mnist's is 10.2 MB)
        assert entry["size"] == os.path.getsize(folder / file) < 12_000_000
    model = fmt.load_folder(folder)
    assert type(model).__name__ == INDEX[name]["class_name"]
    # An image generator's card shows its samples.
    pictured = makes_images(model)
    assert set(files) == {*fmt.PAYLOAD_FILES, fmt.METADATA_FILE} | (
        {fmt.SAMPLES_FILE} if pictured else set()
    )
    assert ("](samples.png)" in (folder / fmt.CARD_FILE).read_text()) == pictured
    differences = golden.check(model, folder / fmt.GOLDEN_FILE)
    assert differences


def test_the_zoo_readme_lists_every_preset_with_its_figures():
    text = (ZOO / "README.md").read_text()
    assert text == kgan.zoo.registry.zoo_readme({"presets": INDEX})
    for name, entry in INDEX.items():
        assert f"`{name}`" in text and entry["metrics"]["command"] in text


def test_the_project_readme_shows_the_current_preset_table():
    text = (ZOO.parent / "README.md").read_text()
    marker = "<!-- preset table: kgan.zoo.registry.preset_table -->\n"
    start = text.index(marker) + len(marker)
    table = text[start : text.index("\n\n", start)]
    assert table == kgan.zoo.registry.preset_table({"presets": INDEX})
