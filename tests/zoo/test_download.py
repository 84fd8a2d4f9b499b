"""Downloading presets through a loopback HTTP mirror: cache, checksums, locks, offline."""

import os
import sys
import threading
import types

import numpy as np
import pytest

import kgan
from kgan.zoo import format as fmt


def _cache(tmp_path):
    return tmp_path / "home" / "presets"


def _leftovers(folder):
    """Temporary or staging files anywhere under `folder`."""
    found = []
    for _, dirs, files in os.walk(folder):
        found += [n for n in dirs + files if n.startswith((".staging-", ".download-", ".tmp-"))]
    return found


def test_builtin_name_downloads_once_then_hits_the_cache(toy_zoo, mirror, monkeypatch, tmp_path):
    server = mirror(toy_zoo)
    monkeypatch.setenv("KGAN_ZOO_URL", server.url)
    model = kgan.zoo.load("toy_gan")
    assert isinstance(model, kgan.GAN)
    files = set(fmt.PAYLOAD_FILES) | {fmt.METADATA_FILE}
    assert sorted(server.requests) == sorted(f"/toy_gan/{name}" for name in files)
    assert kgan.zoo.is_cached("toy_gan")
    before = len(server.requests)
    again = kgan.zoo.load("toy_gan")
    assert len(server.requests) == before  # a cache hit makes no request
    np.testing.assert_array_equal(
        model.generate(4, seed=0), again.generate(4, seed=0)
    )  # same weights
    assert [p["name"] for p in kgan.zoo.list_presets() if p["cached"]] == ["toy_gan"]


@pytest.mark.parametrize(
    "rule, message",
    [
        ("corrupt", "corrupted or was swapped"),
        ("truncate", "truncated or the file replaced"),
        ("cut", "connection broke"),
    ],
)
def test_bad_downloads_fail_cleanly(toy_zoo, mirror, monkeypatch, tmp_path, rule, message):
    server = mirror(toy_zoo)
    monkeypatch.setenv("KGAN_ZOO_URL", server.url)
    server.rules["toy_gan/model.weights.h5"] = rule
    with pytest.raises(kgan.zoo.ChecksumError, match=message):
        kgan.zoo.load("toy_gan", verbose=False)
    cache = _cache(tmp_path)
    assert not os.path.exists(cache / "toy_gan") and _leftovers(cache) == []
    server.rules.clear()
    assert isinstance(kgan.zoo.load("toy_gan"), kgan.GAN)  # a good copy afterwards


def test_a_swapped_file_fails_the_registry_checksum(toy_zoo, mirror, monkeypatch, tmp_path):
    # The mirror serves another model's weights under the right name: same format, wrong bytes.
    other = kgan.zoo.save_to_preset(
        kgan.models.build_trainer("gan", (2,), latent_dim=2, width=8, seed=1),
        tmp_path / "other",
    )
    os.replace(os.path.join(other, fmt.WEIGHTS_FILE), toy_zoo / "toy_gan" / fmt.WEIGHTS_FILE)
    server = mirror(toy_zoo)
    monkeypatch.setenv("KGAN_ZOO_URL", server.url)
    with pytest.raises(kgan.zoo.ChecksumError, match="toy_gan/model.weights.h5"):
        kgan.zoo.load("toy_gan")
    assert not os.path.exists(_cache(tmp_path) / "toy_gan")


def test_a_damaged_cache_is_downloaded_again(toy_zoo, mirror, monkeypatch, tmp_path):
    server = mirror(toy_zoo)
    monkeypatch.setenv("KGAN_ZOO_URL", server.url)
    folder = kgan.zoo.pull("toy_gmm")
    os.truncate(os.path.join(folder, fmt.WEIGHTS_FILE), 10)
    assert not kgan.zoo.is_cached("toy_gmm")
    before = len(server.requests)
    gmm = kgan.zoo.load("toy_gmm")
    assert len(server.requests) > before and gmm.means_.shape == (2, 2)


def test_concurrent_downloads_end_with_one_good_copy(toy_zoo, mirror, monkeypatch, tmp_path):
    server = mirror(toy_zoo)
    server.delay = 0.02  # slow enough that the two pulls overlap
    monkeypatch.setenv("KGAN_ZOO_URL", server.url)
    folders, errors = [], []

    def pull():
        try:
            folders.append(kgan.zoo.pull("toy_gan", verbose=False))
        except Exception as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=pull) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and len(set(folders)) == 1
    weights = [r for r in server.requests if r.endswith(fmt.WEIGHTS_FILE)]
    assert len(weights) == 1  # the lock made the others wait and use the cache
    fmt.verify_folder(folders[0])
    assert _leftovers(_cache(tmp_path)) == []


def test_offline_mode_uses_the_cache_only(toy_zoo, mirror, monkeypatch):
    server = mirror(toy_zoo)
    monkeypatch.setenv("KGAN_ZOO_URL", server.url)
    monkeypatch.setenv("KGAN_OFFLINE", "1")
    with pytest.raises(kgan.zoo.PresetError, match="not in the cache .* offline mode is on"):
        kgan.zoo.load("toy_gan")
    assert server.requests == []
    monkeypatch.delenv("KGAN_OFFLINE")
    kgan.zoo.pull("toy_gan")
    server.shutdown()
    assert isinstance(kgan.zoo.load("toy_gan", offline=True), kgan.GAN)


def test_url_presets_use_their_own_manifest(toy_zoo, mirror, monkeypatch, tmp_path):
    server = mirror(toy_zoo)
    gmm = kgan.zoo.load(server.url + "toy_gmm")
    assert gmm.means_.shape == (2, 2)
    assert server.requests.count("/toy_gmm/metadata.json") == 1  # the manifest, read once
    before = len(server.requests)
    kgan.zoo.load(server.url + "toy_gmm/")
    assert len(server.requests) == before  # same cache entry
    file_url = (toy_zoo / "toy_gan").as_uri()
    assert isinstance(kgan.zoo.load(file_url), kgan.GAN)
    server.rules["toy_gan/golden.npz"] = "corrupt"
    with pytest.raises(kgan.zoo.ChecksumError):
        kgan.zoo.load(server.url + "toy_gan")
    with pytest.raises(kgan.zoo.PresetError, match="HTTP 404"):
        kgan.zoo.load(server.url + "no_such_preset")


def test_unknown_names_and_missing_mirrors_are_explained(toy_zoo, monkeypatch):
    for bad in (None, 3, ""):
        with pytest.raises(kgan.zoo.PresetError, match="a preset is a name, folder or URL"):
            kgan.zoo.load(bad)
    with pytest.raises(kgan.zoo.PresetError, match="did you mean toy_gan"):
        kgan.zoo.load("toy")
    monkeypatch.setattr(kgan.zoo.registry, "source_zoo_folder", lambda: None)
    with pytest.raises(kgan.zoo.PresetError, match="set KGAN_ZOO_URL"):
        kgan.zoo.load("toy_gan")


def test_kaggle_handles(toy_zoo, monkeypatch):
    monkeypatch.setitem(sys.modules, "kagglehub", None)
    with pytest.raises(kgan.zoo.PresetError, match="pip install kagglehub"):
        kgan.zoo.load("kaggle://someone/toy/keras/gmm")
    kaggle = types.SimpleNamespace(model_download=lambda handle: str(toy_zoo / "toy_gmm"))
    monkeypatch.setitem(sys.modules, "kagglehub", kaggle)
    assert kgan.zoo.load("kaggle://someone/toy/keras/gmm").means_.shape == (2, 2)


def test_large_files_show_a_keras_progress_bar(toy_zoo, mirror, monkeypatch, capsys):
    server = mirror(toy_zoo)
    monkeypatch.setenv("KGAN_ZOO_URL", server.url)
    monkeypatch.setattr(kgan.zoo.download, "PROGRESS_ABOVE", 1000)
    kgan.zoo.pull("toy_gan", verbose=True)
    out = capsys.readouterr().out
    assert "downloading " in out and "model.weights.h5" in out and "byte" in out
    kgan.zoo.pull("toy_gmm", verbose=False)
    assert "downloading" not in capsys.readouterr().out
