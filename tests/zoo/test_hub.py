"""Built-in presets on the Hugging Face Hub, through a loopback emulator of its HTTP API."""

import json
import os

import huggingface_hub.constants
import numpy as np
import pytest
from hub_emulator import HubEmulator

import kgan
import kgan.cli

REPO = "kgan-test/toy_gan"


@pytest.fixture
def hub(toy_zoo, tmp_path, monkeypatch):
    """An emulated Hub as `huggingface_hub`'s endpoint, an empty Hugging Face cache, a write
    token in `HF_TOKEN`, and no checkout zoo: built-in names can resolve to the Hub only."""
    emulator = HubEmulator(token="hf_write")
    # What HF_ENDPOINT sets when huggingface_hub is imported.
    monkeypatch.setattr(huggingface_hub.constants, "ENDPOINT", emulator.url)
    template = emulator.url + "/{repo_id}/resolve/{revision}/{filename}"
    monkeypatch.setattr(huggingface_hub.constants, "HUGGINGFACE_CO_URL_TEMPLATE", template)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hf"))
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setenv("HF_TOKEN", "hf_write")
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(kgan.zoo.registry, "source_zoo_folder", lambda: None)
    yield emulator
    emulator.close()


def publish(toy_zoo, cli, name="toy_gan", target=f"hf://{REPO}"):
    """Publishes a toy preset with the command line, then ships the pinned index as kgan's
    registry (what the release step does for the checkout's own zoo)."""
    status, text = cli(["zoo", "publish", str(toy_zoo / name), "--to", target])
    assert status == 0, text
    index = json.loads((toy_zoo / "index.json").read_text())
    with open(kgan.zoo.registry.REGISTRY_FILE, "w") as f:
        json.dump(index, f)
    return index["presets"][name]["hub"], text


def hub_files(tmp_path):
    """Every file in the Hugging Face cache's blobs and snapshots."""
    found = []
    for root, _, files in os.walk(tmp_path / "hf"):
        found += [os.path.join(root, f) for f in files if "/.locks" not in root]
    return [f for f in found if "/blobs/" in f or "/snapshots/" in f]


def test_publish_then_load_round_trip(hub, toy_zoo, cli, tmp_path):
    location, text = publish(toy_zoo, cli)
    assert location["repo_id"] == REPO and len(location["revision"]) == 40
    assert "pinned revision" in text
    # One commit holding exactly the preset's files, the card as the repository's README.
    files = hub.files(REPO, location["revision"])
    manifest = json.loads((toy_zoo / "toy_gan" / "metadata.json").read_text())["files"]
    assert sorted(files) == sorted([*manifest, "metadata.json"])
    assert files["README.md"] == (toy_zoo / "toy_gan" / "README.md").read_bytes()
    assert [m for m, p in hub.requests if p.endswith("/commit/main")] == ["POST"]

    source = kgan.zoo.resolve("toy_gan")
    assert source["kind"] == "hub" and location["revision"] in source["location"]
    hub.requests.clear()
    model = kgan.zoo.load("toy_gan", verbose=False)
    reference = kgan.zoo.load(str(toy_zoo / "toy_gan"))
    np.testing.assert_array_equal(model.generate(5, seed=1), reference.generate(5, seed=1))
    downloads = [p for m, p in hub.requests if m == "GET"]
    assert len(downloads) == len(files)
    assert all(f"/resolve/{location['revision']}/" in p for _, p in hub.requests)
    assert kgan.zoo.is_cached("toy_gan")
    assert kgan.zoo.info("toy_gan")["cached"] is True
    # Files live in the Hugging Face cache, not in kgan's.
    assert not (tmp_path / "home" / "presets" / "toy_gan").exists()
    assert str(tmp_path / "hf") in kgan.zoo.pull("toy_gan")

    hub.requests.clear()
    again = kgan.zoo.load("toy_gan")
    assert hub.requests == []  # a second load makes no request
    np.testing.assert_array_equal(again.generate(5, seed=1), reference.generate(5, seed=1))


def test_publish_into_a_folder_of_a_shared_repository(hub, toy_zoo, cli):
    location, _ = publish(toy_zoo, cli, "toy_gmm", "hf://kgan-test/zoo/toy_gmm")
    assert location == {
        "repo_id": "kgan-test/zoo",
        "revision": location["revision"],
        "subfolder": "toy_gmm",
    }
    assert all(p.startswith("toy_gmm/") for p in hub.files("kgan-test/zoo"))
    assert kgan.zoo.load("toy_gmm", verbose=False).means_.shape == (2, 2)


def test_a_moved_revision_is_not_followed(hub, toy_zoo, cli):
    location, _ = publish(toy_zoo, cli)
    pinned = hub.files(REPO, location["revision"])
    other = kgan.zoo.save_to_preset(
        kgan.models.build_trainer("gan", (2,), latent_dim=2, width=8, seed=5),
        toy_zoo.parent / "other",
    )
    moved = hub.commit_folder(REPO, other)
    assert moved != location["revision"] and hub.files(REPO) != pinned
    hub.requests.clear()
    model = kgan.zoo.load("toy_gan", verbose=False)
    assert hub.requests and all(location["revision"] in p for _, p in hub.requests)
    assert not any(moved in p or "/main/" in p for _, p in hub.requests)
    reference = kgan.zoo.load(str(toy_zoo / "toy_gan"))
    np.testing.assert_array_equal(model.generate(3, seed=0), reference.generate(3, seed=0))


def test_a_swapped_file_is_refused_and_nothing_is_cached(hub, toy_zoo, cli, tmp_path):
    location, _ = publish(toy_zoo, cli)
    good = hub.files(REPO, location["revision"])["model.weights.h5"]
    swapped = good[:100] + bytes([good[100] ^ 0xFF]) + good[101:]
    hub.swap(REPO, location["revision"], "model.weights.h5", swapped)
    with pytest.raises(kgan.zoo.ChecksumError, match="corrupted or was swapped.*nothing of"):
        kgan.zoo.load("toy_gan", verbose=False)
    assert hub_files(tmp_path) == []
    assert not kgan.zoo.is_cached("toy_gan")
    assert not (tmp_path / "home" / "presets" / "toy_gan").exists()
    # Repaired on the Hub: the next load succeeds.
    hub.swap(REPO, location["revision"], "model.weights.h5", good)
    assert isinstance(kgan.zoo.load("toy_gan", verbose=False), kgan.GAN)


def test_offline_uses_the_cache_and_says_what_is_missing(hub, toy_zoo, cli, monkeypatch):
    publish(toy_zoo, cli)
    hub.requests.clear()
    for variable in ("KGAN_OFFLINE", "HF_HUB_OFFLINE"):
        monkeypatch.setenv(variable, "1")
        with pytest.raises(kgan.zoo.PresetError, match="offline mode is on") as error:
            kgan.zoo.load("toy_gan", verbose=False)
        assert "model.weights.h5" in str(error.value) and "kgan zoo mirror" in str(error.value)
        monkeypatch.delenv(variable)
    assert hub.requests == []
    kgan.zoo.pull("toy_gan", verbose=False)  # warm the cache
    hub.requests.clear()
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert isinstance(kgan.zoo.load("toy_gan"), kgan.GAN)
    assert hub.requests == []


def test_sources_take_precedence_and_info_says_why(hub, toy_zoo, cli, mirror, monkeypatch):
    with pytest.raises(kgan.zoo.PresetError, match="pins no Hugging Face Hub revision"):
        kgan.zoo.resolve("toy_gan")
    status, text = cli(["zoo", "info", "toy_gan", "--json"])
    assert status == 0 and json.loads(text)["source"]["kind"] is None
    with pytest.raises(kgan.zoo.PresetError, match="set KGAN_ZOO_URL"):
        kgan.zoo.load("toy_gan")
    location, _ = publish(toy_zoo, cli)
    status, text = cli(["zoo", "info", "toy_gan", "--json"])
    source = json.loads(text)["source"]
    assert source["kind"] == "hub" and source["location"].startswith(f"hf://{REPO}@")
    assert "pins" in source["reason"]
    monkeypatch.setattr(kgan.zoo.registry, "source_zoo_folder", lambda: toy_zoo)
    assert kgan.zoo.resolve("toy_gan")["kind"] == "checkout"
    assert kgan.zoo.resolve("toy_gan")["location"] == (toy_zoo / "toy_gan").as_uri()
    server = mirror(toy_zoo)
    monkeypatch.setenv("KGAN_ZOO_URL", server.url)
    status, text = cli(["zoo", "info", "toy_gan"])
    assert status == 0 and f"mirror: {server.url}toy_gan" in text and "KGAN_ZOO_URL" in text
    hub.requests.clear()
    kgan.zoo.load("toy_gan", verbose=False)
    assert hub.requests == [] and server.requests  # the mirror served it


def test_mirror_command_serves_an_air_gapped_machine(hub, toy_zoo, cli, tmp_path, monkeypatch):
    publish(toy_zoo, cli)
    mirror_dir = tmp_path / "usb"
    status, text = cli(["zoo", "mirror", str(mirror_dir), "toy_gan"])
    assert status == 0 and "1 verified presets" in text, text
    index = json.loads((mirror_dir / "index.json").read_text())
    assert list(index["presets"]) == ["toy_gan"]
    status, text = cli(["zoo", "mirror", str(mirror_dir), "nope"])
    assert status != 0 and "not built-in presets: nope" in text
    # The other machine: no Hub, empty caches, the copy as its mirror.
    hub.close()
    monkeypatch.setenv("KGAN_HOME", str(tmp_path / "other_home"))
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "other_hf"))
    monkeypatch.setenv("KGAN_ZOO_URL", mirror_dir.as_uri())
    model = kgan.zoo.load("toy_gan", verbose=False)
    reference = kgan.zoo.load(str(toy_zoo / "toy_gan"))
    np.testing.assert_array_equal(model.generate(3, seed=0), reference.generate(3, seed=0))


def test_publish_checks_and_dry_run(hub, toy_zoo, cli):
    status, text = cli(
        ["zoo", "publish", str(toy_zoo / "toy_gan"), "--to", f"hf://{REPO}", "--dry-run"]
    )
    assert status == 0 and "would upload" in text and "model.weights.h5" in text
    assert hub.requests == [] and hub.repos == {}
    weights = toy_zoo / "toy_gan" / "model.weights.h5"
    weights.write_bytes(weights.read_bytes() + b"x")
    status, text = cli(["zoo", "publish", str(toy_zoo / "toy_gan"), "--to", f"hf://{REPO}"])
    assert status != 0 and "truncated or replaced" in text
    assert hub.requests == []
    status, text = cli(["zoo", "publish", str(toy_zoo / "toy_gmm"), "--to", "hf://onlyowner"])
    assert status != 0 and "hf://OWNER/REPO" in text


def test_publish_without_a_write_token_is_explained(hub, toy_zoo, cli, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", "hf_read_only")
    status, text = cli(["zoo", "publish", str(toy_zoo / "toy_gmm"), "--to", f"hf://{REPO}"])
    assert status != 0 and "HF_TOKEN" in text
    assert hub.repos == {}


def test_rebuilding_the_index_keeps_a_pin_only_while_files_are_unchanged(hub, toy_zoo, cli):
    location, _ = publish(toy_zoo, cli)
    kgan.zoo.build_index(toy_zoo, registry_file=None)
    index = json.loads((toy_zoo / "index.json").read_text())
    assert index["presets"]["toy_gan"]["hub"] == location
    kgan.zoo.save_to_preset(
        kgan.models.build_trainer("gan", (2,), latent_dim=2, width=8, seed=9),
        toy_zoo / "toy_gan",
        overwrite=True,
    )
    kgan.zoo.build_index(toy_zoo, registry_file=None)
    index = json.loads((toy_zoo / "index.json").read_text())
    assert "hub" not in index["presets"]["toy_gan"]


def test_hub_handles_outside_the_registry(hub, toy_zoo, cli, monkeypatch):
    status, _ = cli(
        ["zoo", "publish", str(toy_zoo / "toy_gan"), "--to", "hf://someone/zoo/toy_gan"]
    )
    assert status == 0
    assert isinstance(kgan.zoo.load("hf://someone/zoo/toy_gan"), kgan.GAN)
    revision = hub.repos["someone/zoo"]["main"]
    hub.commit("someone/zoo", {"toy_gan/README.md": b"changed"})
    # Pinned by the handle: the commit that holds the published files still loads.
    assert isinstance(kgan.zoo.load(f"hf://someone/zoo/toy_gan@{revision}"), kgan.GAN)
    with pytest.raises(kgan.zoo.ChecksumError):
        kgan.zoo.load("hf://someone/zoo/toy_gan")  # main's card no longer matches the manifest
    with pytest.raises(kgan.zoo.PresetError, match="cannot download"):
        kgan.zoo.load("hf://nobody/nothing")
    monkeypatch.setitem(__import__("sys").modules, "huggingface_hub", None)
    with pytest.raises(kgan.zoo.PresetError, match="pip install huggingface_hub"):
        kgan.zoo.load("hf://someone/zoo/toy_gan")
