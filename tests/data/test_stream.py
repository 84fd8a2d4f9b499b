"""Streamed sources: image folders, memory-mapped arrays and TFRecord packs read from disk."""

import json
import os
import warnings

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from kgan import data
from kgan.data import folders, records

NUM = 37  # not a multiple of the batch or of the shard count


def _ids(images):
    """Each image's id, written into its first two pixels by `_id_folder`."""
    pixels = np.rint((np.asarray(images)[:, 0, :2, 0] + 1) * 127.5).astype(int)
    return (pixels[:, 0] * 256 + pixels[:, 1]).tolist()


def _id_image(i, shape):
    rng = np.random.default_rng(i)
    image = rng.integers(0, 256, shape, dtype=np.uint8)
    image[0, 0, 0], image[0, 1, 0] = i // 256, i % 256
    return image


def _id_folder(root, num=NUM, shape=(6, 5, 3), classes=3):
    """A labelled folder of images whose first two pixels encode their id; returns the ids'
    labels in id order."""
    labels = []
    for i in range(num):
        label = i % classes
        path = root / f"class_{label}" / f"{i:05d}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.squeeze(_id_image(i, shape))).save(path)
        labels.append(label)
    return labels


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("folder")
    _id_folder(root)
    return root


@pytest.fixture(scope="module")
def pack(folder, tmp_path_factory):
    out = tmp_path_factory.mktemp("packs") / "pack"
    data.pack_folder(folder, out, examples_per_shard=10, seed=3)
    return out


def _epochs(ds, count):
    """The ids and labels of `count` passes over `ds`."""
    out = []
    for _ in range(count):
        ids, labels = [], []
        for images, y in ds:
            ids += _ids(images)
            labels += y.numpy().tolist()
        out.append((ids, labels))
    return out


def test_streamed_folder_gives_the_batches_of_the_folder_in_memory(folder):
    streamed = data.load(folder, batch_size=8, seed=4, cache=False)
    memory = data.load(folder, batch_size=8, seed=4, cache=True)
    for (a_ids, a_labels), (b_ids, b_labels) in zip(
        _epochs(streamed, 3), _epochs(memory, 3), strict=True
    ):
        assert a_ids == b_ids and a_labels == b_labels
        assert sorted(a_ids) == list(range(NUM))
    assert int(streamed.cardinality()) == 5
    # Pixels too, not just ids: the one decoder either way.
    x, y = data.load_arrays(folder)
    first = next(iter(data.load(folder, batch_size=NUM, shuffle=False, cache=False)))
    np.testing.assert_array_equal(first[0].numpy(), x)
    assert [int(v) for v in y] == [i % 3 for i in sorted(range(NUM), key=lambda i: (i % 3, i))]


def test_streamed_epoch_order_depends_on_seed_and_epoch_only(folder, pack):
    for source in (folder, pack):
        run = _epochs(data.load(source, batch_size=8, seed=1, cache=False), 3)
        resumed = _epochs(data.load(source, batch_size=8, seed=1, cache=False, initial_epoch=2), 1)
        assert resumed[0] == run[2]
        assert run[0][0] != run[1][0]  # reshuffled every epoch
        other = _epochs(data.load(source, batch_size=8, seed=2, cache=False), 1)
        assert other[0][0] != run[0][0]
        ds = data.load(source, batch_size=8, seed=1, cache=False)
        data.set_epoch(ds, 1)
        assert _epochs(ds, 1)[0] == run[1]


def test_auto_cache_streams_beyond_the_budget(folder, monkeypatch):
    import kgan.data.loading as loading

    monkeypatch.setattr(loading, "MEMORY_BUDGET", 10)
    read = []
    original = folders.decode_file
    monkeypatch.setattr(loading, "decode_file", lambda *a, **k: read.append(1) or original(*a, **k))
    ds = data.load(folder, batch_size=8, seed=0)
    assert read  # the pipeline decodes files (traced once), it did not read arrays up front
    assert sorted(_epochs(ds, 1)[0][0]) == list(range(NUM))
    with pytest.raises(ValueError, match="cache must be"):
        data.load(folder, cache="sometimes")


def test_resize_and_labels_streamed(folder):
    images, labels = next(iter(data.load(folder, batch_size=4, image_size=(3, 4), cache=False)))
    assert images.shape == (4, 3, 4, 3) and labels.dtype == tf.int32
    memory = next(iter(data.load(folder, batch_size=4, image_size=(3, 4), seed=0, cache=True)))
    streamed = next(iter(data.load(folder, batch_size=4, image_size=(3, 4), seed=0, cache=False)))
    np.testing.assert_array_equal(memory[0].numpy(), streamed[0].numpy())


def _write(path, image, mode=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.asarray(image, np.uint8), mode=mode).save(path)


def test_corrupt_and_cut_files_are_named(tmp_path):
    for i in range(3):
        _write(tmp_path / f"{i}.png", np.zeros((4, 4, 3)))
    (tmp_path / "1.png").write_bytes(b"this is text, not an image")
    with pytest.raises(ValueError, match=r"cannot read .*1\.png"):
        data.load(tmp_path, cache=False)  # the header sample finds it
    whole = (tmp_path / "0.png").read_bytes()
    (tmp_path / "1.png").write_bytes(whole[: len(whole) // 2])  # a download cut short
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"1\.png.*cut short"):
        list(folders_stream(tmp_path))


def folders_stream(path):
    """Decodes every file of a folder with the streaming decoder, header checks bypassed."""
    files, _ = folders.folder_files(str(path))
    return tf.data.Dataset.from_tensor_slices(files).map(
        lambda p: folders.decode_file(p, (4, 4, 3), None)
    )


def test_an_image_of_another_size_outside_the_header_sample_is_named(tmp_path, monkeypatch):
    for i in range(4):
        _write(tmp_path / f"{i}.png", np.zeros((4, 4, 3) if i != 3 else (5, 4, 3)))
    monkeypatch.setattr(folders, "HEADER_SAMPLE", 2)  # headers of 0.png and 2.png only
    assert data.info(tmp_path).shape == (4, 4, 3)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"3\.png.*image_size"):
        list(data.load(tmp_path, cache=False, shuffle=False))
    images = next(iter(data.load(tmp_path, batch_size=4, image_size=4, cache=False)))
    assert images.shape == (4, 4, 4, 3)


def _cut(path):
    whole = path.read_bytes()
    path.write_bytes(whole[: len(whole) // 2])


def _error_of_a_pass(ds):
    with pytest.raises(tf.errors.InvalidArgumentError) as caught:
        for _ in ds:
            pass
    return str(caught.value)


def test_files_are_checked_until_a_pass_has_read_them_all(tmp_path):
    for i in range(6):
        _write(tmp_path / f"{i}.png", np.full((4, 4, 3), i))
    ds = data.load(tmp_path, batch_size=2, seed=0, cache=False)
    _cut(tmp_path / "4.png")
    # A pass stopped by a bad file checked fewer files than there are: the next one checks.
    assert "4.png" in _error_of_a_pass(ds) and "4.png" in _error_of_a_pass(ds)
    _write(tmp_path / "4.png", np.full((4, 4, 3), 4))
    first = [b.numpy() for b in ds]
    _cut(tmp_path / "4.png")  # broken after a complete pass
    message = _error_of_a_pass(ds)  # still refused, now by the decoder alone
    assert "4.png" not in message
    _write(tmp_path / "4.png", np.full((4, 4, 3), 4))
    data.set_epoch(ds, 2)  # epochs 0 and 1 failed, epoch 2 gave `first`
    np.testing.assert_array_equal(np.concatenate([b.numpy() for b in ds]), np.concatenate(first))


def test_a_reader_of_a_share_checks_every_pass(tmp_path):
    for i in range(6):
        _write(tmp_path / f"{i}.png", np.full((4, 4, 3), i))
    ds = data.load(tmp_path, batch_size=1, shuffle=False, shard=(0, 2), cache=False)
    assert len([b for b in ds]) == 3  # a complete pass of its share: 0.png, 2.png, 4.png
    _cut(tmp_path / "2.png")
    assert "2.png" in _error_of_a_pass(ds)


def test_info_reads_a_sample_of_headers(tmp_path, monkeypatch):
    for i in range(30):
        _write(tmp_path / f"{i:02d}.png", np.zeros((3, 2)), "L")
    opened = []
    original = Image.open
    monkeypatch.setattr(Image, "open", lambda path, *a: opened.append(path) or original(path, *a))
    monkeypatch.setattr(folders, "HEADER_SAMPLE", 7)
    info = data.info(tmp_path)
    assert info.shape == (3, 2, 1) and info.num_examples == {"train": 30}
    assert len(opened) == 7


def test_gray_and_colour_files_mixed_in_a_stream(tmp_path):
    colour = np.zeros((2, 2, 3), np.uint8)
    colour[..., 0] = 200
    _write(tmp_path / "a.png", np.full((2, 2), 90), "L")
    _write(tmp_path / "b.bmp", colour)
    _write(tmp_path / "c.gif", np.full((2, 2), 30), "L")
    images = next(iter(data.load(tmp_path, batch_size=3, shuffle=False, cache=False)))
    np.testing.assert_allclose(images[0, 0, 0].numpy(), [90 / 127.5 - 1] * 3, atol=1e-6)
    np.testing.assert_allclose(images[1, 0, 0].numpy(), [200 / 127.5 - 1, -1, -1], atol=1e-6)
    # A gray folder whose stray colour file is converted as PIL converts it (ITU-R 601-2).
    gray = tf.constant([[[[200, 0, 0]]]], tf.uint8)[0]
    expected = np.asarray(Image.fromarray(np.full((1, 1, 3), (200, 0, 0), np.uint8)).convert("L"))
    assert int(folders._to_gray(gray)[0, 0, 0]) == int(expected[0, 0])


def test_shards_are_disjoint_and_cover_each_epoch(folder, pack):
    for source in (folder, pack):
        for count in (2, 3):
            per_epoch = [[] for _ in range(2)]
            sizes = []
            for index in range(count):
                ds = data.load(source, batch_size=4, seed=7, cache=False, shard=(index, count))
                epochs = _epochs(ds, 2)
                sizes.append(len(epochs[0][0]))
                for e in range(2):
                    per_epoch[e] += epochs[e][0]
            assert len(set(sizes)) == 1  # the same number of steps on every reader
            for ids in per_epoch:
                assert len(ids) == len(set(ids))  # no example twice
                assert len(ids) >= NUM - (count - 1) * (10 if source == pack else 1)
    with pytest.raises(ValueError, match="shard must be"):
        data.load(folder, shard=(2, 2))


def test_pack_holds_the_folder(folder, pack):
    manifest = json.loads((pack / records.MANIFEST).read_text())
    assert manifest["num_examples"] == NUM and manifest["shape"] == [6, 5, 3]
    assert manifest["class_names"] == ["class_0", "class_1", "class_2"]
    assert [s["num_examples"] for s in manifest["shards"]] == [9, 9, 10, 9]
    x, y = data.load_arrays(pack)
    ids = _ids(x)
    assert sorted(ids) == list(range(NUM)) and ids != sorted(ids)  # shuffled when written
    assert [int(v) for v in y] == [i % 3 for i in ids]
    folder_x, _ = data.load_arrays(folder)
    by_id = dict(zip(_ids(folder_x), folder_x, strict=True))
    np.testing.assert_array_equal(x, np.stack([by_id[i] for i in ids]))
    info = data.info(pack)
    assert (info.shape, info.num_classes, info.num_examples) == ((6, 5, 3), 3, {"train": NUM})
    assert data.verify_pack(pack) == []
    # The first examples in the pack's order.
    assert _ids(data.load_arrays(pack, num_examples=12)[0]) == ids[:12]


def test_pack_refuses_a_changed_shard_and_an_existing_folder(folder, pack, tmp_path):
    copy = tmp_path / "copy"
    copy.mkdir()
    for f in os.listdir(pack):
        (copy / f).write_bytes((pack / f).read_bytes())
    shard = sorted(copy.glob("*.tfrecord"))[1]
    raw = bytearray(shard.read_bytes())
    raw[-5] ^= 0xFF
    shard.write_bytes(bytes(raw))
    assert data.verify_pack(copy) == [shard.name]
    shard.write_bytes(bytes(raw[:-3]))
    with pytest.raises(ValueError, match="manifest says"):
        data.load(copy)
    with pytest.raises(FileExistsError):
        data.pack_folder(folder, pack)
    with pytest.raises(ValueError, match="not a folder"):
        data.pack_folder(tmp_path / "missing", tmp_path / "out")
    with pytest.raises(ValueError, match="image_size must be"):
        data.pack_folder(folder, tmp_path / "out", image_size=(0, 4))
    with pytest.raises(ValueError, match="not a pack"):
        data.verify_pack(folder)
    assert not (tmp_path / "out").exists()


def test_pack_of_mixed_sizes_needs_image_size_and_leaves_nothing(tmp_path):
    _write(tmp_path / "in" / "a.png", np.zeros((4, 4, 3)))
    _write(tmp_path / "in" / "b.png", np.zeros((5, 4, 3)))
    with pytest.raises(ValueError, match="image_size"):
        data.pack_folder(tmp_path / "in", tmp_path / "out")
    assert sorted(os.listdir(tmp_path)) == ["in"]
    data.pack_folder(tmp_path / "in", tmp_path / "out", image_size=(3, 3))
    assert data.info(tmp_path / "out").shape == (3, 3, 3)
    assert next(iter(data.load(tmp_path / "out", batch_size=2))).shape == (2, 3, 3, 3)


def test_memory_mapped_arrays_give_the_batches_of_arrays_in_memory(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (NUM, 4, 3, 1), dtype=np.uint8)
    y = rng.integers(0, 4, NUM)
    np.savez(tmp_path / "d.npz", x=x, y=y)
    streamed = data.load(tmp_path / "d.npz", batch_size=8, seed=5, cache=False)
    memory = data.load(tmp_path / "d.npz", batch_size=8, seed=5, cache=True)
    for (a, la), (b, lb) in zip(streamed, memory, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
        np.testing.assert_array_equal(la.numpy(), lb.numpy())
    np.save(tmp_path / "x.npy", (x / 127.5).astype(np.float32))
    with pytest.raises(ValueError, match=r"value_range=\(0, 255\)"):
        data.load(tmp_path / "x.npy", cache=False)  # floats in [0, 2] are not in [-1, 1]
    batch = next(
        iter(
            data.load(
                tmp_path / "x.npy", batch_size=NUM, shuffle=False, cache=False, value_range=(0, 2)
            )
        )
    )
    np.testing.assert_allclose(batch.numpy(), x / 127.5 - 1, atol=1e-5)
    assert data.info(tmp_path / "x.npy").shape == (4, 3, 1)
    bad = (x / 127.5).astype(np.float32)
    bad[3, 0, 0, 0] = np.nan
    np.save(tmp_path / "bad.npy", bad)
    with pytest.raises(ValueError, match="1 NaN"):
        data.load(tmp_path / "bad.npy", cache=False, value_range=(0, 2))


def test_compressed_npz_cannot_stream(tmp_path, monkeypatch):
    import kgan.data.loading as loading

    np.savez_compressed(tmp_path / "c.npz", x=np.zeros((5, 2, 2), np.uint8))
    with pytest.raises(ValueError, match="np.savez"):
        data.load(tmp_path / "c.npz", cache=False)
    monkeypatch.setattr(loading, "MEMORY_BUDGET", 1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        data.load(tmp_path / "c.npz")
    assert any("read whole into memory" in str(w.message) for w in caught)
