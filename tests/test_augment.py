import keras
import numpy as np
import pytest
import tensorflow as tf

import kgan
from kgan import augment, networks


def random_images(n=16, size=16, channels=1, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(-1, 1, (n, size, size, channels)).astype("float32")


def shift(image, dy, dx):
    """The image moved down by dy and right by dx, zero filled (numpy reference)."""
    h, w = image.shape[:2]
    out = np.zeros_like(image)
    out[max(dy, 0) : h + min(dy, 0), max(dx, 0) : w + min(dx, 0)] = image[
        max(-dy, 0) : h + min(-dy, 0), max(-dx, 0) : w + min(-dx, 0)
    ]
    return out


def test_parse_policy():
    assert augment.parse_policy("translation, cutout") == ("translation", "cutout")
    assert augment.parse_policy(["color"]) == ("color",)
    assert augment.parse_policy(None) == ()
    assert augment.parse_policy("") == ()
    with pytest.raises(ValueError, match="unknown augmentation"):
        augment.parse_policy("translation,flip")
    with pytest.raises(ValueError, match="once"):
        augment.parse_policy("color,color")
    with pytest.raises(ValueError, match="string"):
        augment.parse_policy(3)


def test_translation_shifts_each_image_by_its_own_whole_pixels():
    images = random_images(n=32, size=16)
    out = np.asarray(augment.translation(images, ratio=0.125, seed=1))
    shifts = []
    for image, moved in zip(images, out):
        matches = [
            (dy, dx)
            for dy in range(-2, 3)
            for dx in range(-2, 3)
            if np.array_equal(shift(image, dy, dx), moved)
        ]
        assert len(matches) == 1
        shifts.append(matches[0])
    assert len(set(shifts)) > 5  # per-image parameters
    assert len({dy for dy, _ in shifts}) > 1 and len({dx for _, dx in shifts}) > 1


def test_cutout_zeroes_one_clipped_square_per_image():
    images = np.ones((64, 16, 16, 1), "float32")
    out = np.asarray(augment.cutout(images, ratio=0.5, seed=2))
    full_squares = 0
    for moved in out[..., 0]:
        rows, cols = np.nonzero(moved == 0)
        assert rows.size > 0
        height, width = rows.max() - rows.min() + 1, cols.max() - cols.min() + 1
        assert rows.size == height * width  # one rectangle
        assert height <= 8 and width <= 8
        full_squares += height == 8 and width == 8
        assert set(np.unique(moved)) == {0.0, 1.0}
    assert 0 < full_squares < 64  # clipped at the borders only sometimes


def test_color_is_an_affine_map_of_each_grey_image():
    images = random_images(n=8, size=8)
    out = np.asarray(augment.color(images, seed=3))
    slopes = []
    for image, recoloured in zip(images, out):
        a, b = np.polyfit(image.ravel(), recoloured.ravel(), 1)
        np.testing.assert_allclose(a * image + b, recoloured, atol=1e-5)
        assert 0.0 <= a <= 1.5 + 1e-6  # saturation x contrast; saturation is a no-op in grey
        slopes.append(a)
    assert np.std(slopes) > 0.01


def test_diff_augment_is_differentiable_and_seeded():
    images = tf.constant(random_images(n=8, size=16, channels=3))
    with tf.GradientTape() as tape:
        tape.watch(images)
        out = augment.diff_augment(images, "translation", seed=4)
        total = tf.reduce_sum(out)
    grad = tape.gradient(total, images).numpy()
    # Each input pixel that stays in view reaches the output once; shifted-out pixels do not.
    assert set(np.unique(grad)) <= {0.0, 1.0}
    assert grad.mean() > 0.6
    with tf.GradientTape() as tape:
        tape.watch(images)
        total = tf.reduce_sum(augment.diff_augment(images, "translation,cutout,color", seed=4))
    grad = tape.gradient(total, images).numpy()
    assert np.isfinite(grad).all() and np.abs(grad).sum() > 0
    a = augment.diff_augment(images, seed=5).numpy()
    np.testing.assert_array_equal(a, augment.diff_augment(images, seed=5).numpy())
    assert not np.array_equal(a, augment.diff_augment(images, seed=6).numpy())
    with pytest.raises(ValueError, match="images"):
        augment.diff_augment(tf.zeros((4, 2)), "color")


def test_diff_augment_compiles_with_xla_and_a_seed_generator():
    generator = keras.random.SeedGenerator(0)
    fn = tf.function(lambda x: augment.diff_augment(x, seed=generator), jit_compile=True)
    images = random_images(n=4, size=8)
    first, second = fn(images).numpy(), fn(images).numpy()
    assert first.shape == images.shape
    assert not np.array_equal(first, second)  # the generator advances


def test_gan_step_augments_real_and_fake_in_both_updates(monkeypatch):
    calls = []
    original = augment.diff_augment

    def recording(images, policy, seed=None):
        calls.append(policy)
        return original(images, policy, seed=seed)

    monkeypatch.setattr(augment, "diff_augment", recording)
    g = networks.dcgan_generator((8, 8, 1), latent_dim=8, width=4)
    d = networks.dcgan_discriminator((8, 8, 1), width=4)
    gan = kgan.GAN(g, d, augment="translation,cutout", r1=1.0, seed=0)
    gan.compile(run_eagerly=True)
    history = gan.fit(random_images(n=16, size=8), batch_size=16, epochs=1, verbose=0)
    # Per step: real and fake for the discriminator, fake for the generator.
    assert calls == [("translation", "cutout")] * 3
    assert all(np.isfinite(v[0]) for v in history.history.values())


def test_augment_option_trains_under_xla_round_trips_and_checks_its_data(tmp_path):
    g = networks.dcgan_generator((8, 8, 1), latent_dim=8, width=4)
    d = networks.dcgan_discriminator((8, 8, 1), width=4)
    gan = kgan.WGANGP(g, d, augment="color,translation,cutout", d_steps=2, seed=0)
    gan.compile()
    before = [w.copy() for w in gan.generator.get_weights()]
    history = gan.fit(random_images(n=32, size=8), batch_size=16, epochs=1, verbose=0)
    assert gan._step_jit
    assert all(np.isfinite(v[0]) for v in history.history.values())
    assert any(not np.allclose(a, b) for a, b in zip(before, gan.generator.get_weights()))
    path = str(tmp_path / "gan.keras")
    gan.save(path)
    assert keras.saving.load_model(path).augment == ("color", "translation", "cutout")
    with pytest.raises(ValueError, match="augment works on images"):
        kgan.GAN(networks.mlp_generator(), networks.mlp_discriminator(), augment="color")
    with pytest.raises(ValueError, match="unknown augmentation"):
        kgan.GAN(g, d, augment="rotate")


def test_affine_resample_matches_scipy_bilinear():
    from scipy import ndimage

    images = random_images(n=5, size=12, channels=2, seed=3)
    angle = np.array([0.0, 0.3, -0.2, 1.0, 0.05], "float32")
    zoom = np.array([1.0, 1.1, 0.9, 1.0, 1.05], "float32")
    dy = np.array([0.0, 1.5, -0.7, 0.0, 2.0], "float32")
    dx = np.array([0.0, -1.0, 0.4, 0.0, -2.5], "float32")
    got = np.asarray(augment.affine_resample(images, angle, zoom, dy, dx, fill_value=-1.0))
    centre = np.array([5.5, 5.5])
    for i in range(len(images)):
        c, s = np.cos(angle[i]) / zoom[i], np.sin(angle[i]) / zoom[i]
        matrix = np.array([[c, s], [-s, c]])
        offset = centre - matrix @ (centre + np.array([dy[i], dx[i]]))
        for k in range(images.shape[-1]):
            expected = ndimage.affine_transform(
                images[i, :, :, k], matrix, offset, order=1, mode="grid-constant", cval=-1.0
            )
            np.testing.assert_allclose(got[i, :, :, k], expected, atol=1e-5)
    # No change is the identity, exactly.
    zero, one = np.zeros(5, "float32"), np.ones(5, "float32")
    same = augment.affine_resample(images, zero, one, zero, zero)
    np.testing.assert_array_equal(same, images)


def test_affine_draws_each_images_transform_within_bounds_and_compiles_with_xla():
    images = np.tile(random_images(n=1, size=16, seed=4), (64, 1, 1, 1))
    out = np.asarray(augment.affine(images, rotation=15, scale=0.1, shift=0.1, seed=5))
    assert out.shape == images.shape
    # Every image moved, each its own way.
    assert all(not np.allclose(o, images[0]) for o in out)
    assert len({o.tobytes() for o in out}) == 64
    np.testing.assert_array_equal(augment.affine(images, 0, 0, 0, seed=5), images)
    # A pure shift of at most 10% moves a point at most 1.6 pixels: a one-pixel dot stays
    # within two pixels of where it was.
    dot = -np.ones((32, 16, 16, 1), "float32")
    dot[:, 8, 8, 0] = 1.0
    moved = np.asarray(augment.affine(dot, rotation=0, scale=0, shift=0.1, seed=6))
    for image in moved[..., 0]:
        ys, xs = np.nonzero(image > -1.0 + 1e-6)
        assert np.abs(ys - 8).max() <= 2 and np.abs(xs - 8).max() <= 2
    generator = keras.random.SeedGenerator(7)
    compiled = tf.function(
        lambda x: augment.affine(x, seed=generator), jit_compile=True, reduce_retracing=True
    )
    first, second = np.asarray(compiled(images)), np.asarray(compiled(images))
    assert not np.array_equal(first, second)  # the generator advances between calls
    with pytest.raises(ValueError, match="rotation >= 0, 0 <= scale < 1"):
        augment.affine(images, scale=1.5)
    with pytest.raises(ValueError, match="images \\[batch, height, width, channels\\]"):
        augment.affine(images[0])
