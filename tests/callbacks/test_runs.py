import json

import numpy as np
import pytest
from PIL import Image

import kgan
from kgan import networks
from kgan.image_grid import image_grid, save_image_grid


def tiny_cgan():
    g = networks.dcgan_generator((8, 8, 1), latent_dim=4, num_classes=3, width=4)
    d = networks.dcgan_discriminator((8, 8, 1), num_classes=3, width=4)
    model = kgan.ConditionalGAN(g, d, seed=0)
    model.compile()
    return model


def tiny_data(n=16):
    rng = np.random.default_rng(0)
    return (
        rng.uniform(-1, 1, (n, 8, 8, 1)).astype("float32"),
        rng.integers(0, 3, n).astype("int32"),
    )


def test_image_grid_layout_and_scaling():
    images = np.stack([np.full((2, 3, 1), v, "float32") for v in (-1.0, 0.0, 1.0)])
    grid = image_grid(images, columns=2, padding=1)
    assert grid.shape == (1 + 2 * 3, 1 + 2 * 4, 1) and grid.dtype == np.uint8
    assert grid[1, 1, 0] == 0 and grid[1, 5, 0] == 128 and grid[4, 1, 0] == 255
    assert grid[0, 0, 0] == 0 and grid[4, 5, 0] == 0  # padding and the empty cell stay black
    with pytest.raises(ValueError, match="images must have shape"):
        image_grid(np.zeros((4, 8, 8)))


def test_save_image_grid_writes_a_png_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "sub" / "grid.png"
    save_image_grid(np.zeros((4, 8, 8, 3), "float32"), path, scale=3)
    with Image.open(path) as picture:
        assert picture.size == (3 * (2 + 2 * 10), 3 * (2 + 2 * 10))
        assert picture.mode == "RGB"
    assert sorted(p.name for p in path.parent.iterdir()) == ["grid.png"]


def test_sample_grid_uses_fixed_latents_and_one_row_per_class(tmp_path):
    model = tiny_cgan()
    images, labels = tiny_data()
    callback = kgan.callbacks.SampleGrid(tmp_path / "grids", num_samples=5, scale=1)
    model.fit(images, labels, batch_size=8, epochs=2, verbose=0, callbacks=[callback])
    files = sorted(p.name for p in (tmp_path / "grids").iterdir())
    assert files == ["epoch_001.png", "epoch_002.png"]
    with Image.open(tmp_path / "grids" / "epoch_001.png") as picture:
        # 3 classes x ceil(5 / 3) = 2 columns of 8x8 images with 2 pixels of padding
        assert picture.size == (2 + 2 * 10, 2 + 3 * 10)
    first_latents = callback._latents.copy()
    model.fit(images, labels, batch_size=8, epochs=1, verbose=0, callbacks=[callback])
    np.testing.assert_array_equal(callback._latents, first_latents)
    np.testing.assert_array_equal(callback._labels, [0, 0, 1, 1, 2, 2])


def test_sample_grid_logs_to_tensorboard(tmp_path):
    import tensorboard  # noqa: F401

    model = tiny_cgan()
    images, labels = tiny_data()
    callback = kgan.callbacks.SampleGrid(tmp_path / "grids", num_samples=3, log_dir=tmp_path)
    model.fit(images, labels, batch_size=8, epochs=1, verbose=0, callbacks=[callback])
    assert any(p.name.startswith("events.out.tfevents") for p in tmp_path.iterdir())


def test_run_checkpoint_saves_a_loadable_model_and_the_epoch(tmp_path):
    model = tiny_cgan()
    images, labels = tiny_data()
    checkpoint = kgan.callbacks.RunCheckpoint(tmp_path, extra_state={"options": {"a": 1}})
    model.fit(images, labels, batch_size=8, epochs=2, verbose=0, callbacks=[checkpoint])
    loaded, state = kgan.callbacks.load_run(tmp_path)
    assert state["epoch"] == 2 and state["options"] == {"a": 1}
    assert set(state["logs"]) == {"d_loss", "g_loss"}
    assert int(loaded.g_optimizer.iterations) == 4
    np.testing.assert_allclose(
        loaded.generate(labels=[0, 1], seed=0), model.generate(labels=[0, 1], seed=0), atol=1e-6
    )
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".tmp-")]
    json.loads((tmp_path / "state.json").read_text())
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        kgan.callbacks.load_run(tmp_path / "missing")


def test_atomic_writes_get_the_usual_file_mode(tmp_path):
    import os

    path = save_image_grid(np.zeros((1, 4, 4, 1), "float32"), tmp_path / "g.png")
    umask = os.umask(0)
    os.umask(umask)
    assert os.stat(path).st_mode & 0o777 == 0o666 & ~umask


def test_run_checkpoint_keeps_the_last_good_epoch_when_weights_turn_non_finite(tmp_path):
    model = tiny_cgan()
    checkpoint = kgan.callbacks.RunCheckpoint(tmp_path)
    checkpoint.set_model(model)
    checkpoint.on_epoch_end(0, {"d_loss": 1.0, "g_loss": 1.0})
    saved = (tmp_path / "model.keras").read_bytes()
    assert kgan.callbacks.nonfinite_networks(model) == []
    kernel = model.discriminator.trainable_weights[0]
    kernel.assign(np.full(kernel.shape, np.nan, "float32"))
    assert kgan.callbacks.nonfinite_networks(model) == ["discriminator"]
    with pytest.warns(RuntimeWarning, match="epoch 2 not saved: non-finite weights in disc"):
        checkpoint.on_epoch_end(1, {"d_loss": float("nan"), "g_loss": 1.0})
    assert (tmp_path / "model.keras").read_bytes() == saved
    assert json.loads((tmp_path / "state.json").read_text())["epoch"] == 1
    assert checkpoint.skipped_epochs == [2]


def test_data_epoch_sets_the_dataset_epoch_at_every_epoch_start():
    train = kgan.data.load("digits", batch_size=512, seed=0)
    callback = kgan.callbacks.DataEpoch(train)
    callback.on_epoch_begin(4)
    assert kgan.data.get_epoch(train) == 4
    with pytest.raises(ValueError, match="returned by kgan.data.load"):
        kgan.callbacks.DataEpoch(train.map(lambda x, y: x))
