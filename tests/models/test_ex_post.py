"""Ex-post density estimation: a mixture of the encoder's codes that generate draws from."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import kgan
from kgan.models.ex_post import stateless_ex_post_latents

SHAPE = (8, 8, 1)


def images(n=60, seed=0):
    return np.tanh(np.random.default_rng(seed).normal(size=(n, *SHAPE))).astype("float32")


def build(name, **options):
    keras.utils.set_random_seed(0)
    if name == "bigan":
        # A BiGAN's mixture is its clusters'.
        options.setdefault("num_clusters", 2)
    return kgan.models.build_trainer(name, SHAPE, latent_dim=3, width=4, seed=0, **options)


@pytest.mark.parametrize("name", ["vae", "vaegan", "bigan"])
def test_generate_draws_from_the_mixture_of_the_codes_and_the_choice_is_saved(name, tmp_path):
    model = build(name)
    x = images()
    prior = model.generate(4, seed=1)
    assert model.sampling == "prior" and model.latent_distribution == "normal"
    model.fit_ex_post(x, n_components=2)
    assert model.sampling == "ex_post" and model.latent_distribution == "mixture"
    features = model.encode(x)
    mixture = kgan.mixture.GaussianMixture(
        2, covariance_type="full", reg_covar=1e-4, n_init=3, random_state=0
    ).fit(features)
    np.testing.assert_allclose(model.ex_post_means.numpy(), mixture.means_, rtol=1e-4, atol=1e-5)
    latents = model.ex_post_latents(4, seed=1)
    np.testing.assert_array_equal(model.generate(4, seed=1), model.generate(latents=latents))
    assert not np.array_equal(model.generate(4, seed=1), prior)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert loaded.sampling == "ex_post"
    np.testing.assert_array_equal(loaded.generate(4, seed=1), model.generate(4, seed=1))
    loaded.set_sampling("prior")
    np.testing.assert_array_equal(loaded.generate(4, seed=1), prior)


def test_the_draws_follow_the_mixture():
    model = build("vae").fit_ex_post(images(200), n_components=2)
    latents = model.ex_post_latents(40000, seed=0)
    weights = np.exp(model.ex_post_log_weights.numpy())
    factors = model.ex_post_precisions_cholesky.numpy().astype("float64")
    covariance = sum(
        w * (np.linalg.inv(f @ f.T) + np.outer(m, m))
        for w, f, m in zip(weights, factors, model.ex_post_means.numpy())
    ) - np.outer(weights @ model.ex_post_means.numpy(), weights @ model.ex_post_means.numpy())
    np.testing.assert_allclose(latents.mean(0), weights @ model.ex_post_means.numpy(), atol=0.03)
    np.testing.assert_allclose(np.cov(latents.T), covariance, rtol=0.1, atol=0.01)
    # The noise comes first from the generator, as the prior's draws do.
    rng = np.random.default_rng(5)
    noise = kgan.sampling.draw_latents(3, 3, rng=rng)
    components = rng.choice(2, size=3, p=weights / weights.sum())
    np.testing.assert_allclose(
        model.ex_post_latents(3, seed=5),
        model._ex_post_transform(noise.astype("float64"), components),
        rtol=1e-6,
    )


def test_the_graph_draw_follows_the_same_mixture():
    model = build("bigan").fit_ex_post(images(200), n_components=2)
    _, means, roots = (a.astype("float32") for a in model._ex_post_arrays())
    z = stateless_ex_post_latents(
        tf.constant(40000), tf.constant(3), model.ex_post_log_weights, means, roots
    ).numpy()
    reference = model.ex_post_latents(40000, seed=0)
    np.testing.assert_allclose(z.mean(0), reference.mean(0), atol=0.03)
    np.testing.assert_allclose(np.cov(z.T), np.cov(reference.T), rtol=0.1, atol=0.01)
    # The exported sample signature of a BiGAN that samples ex post draws from it.
    module = model.inference_module()
    key = "images"
    out = module.sample(tf.constant(4), tf.constant(3))[key].numpy()
    z4 = stateless_ex_post_latents(
        tf.constant(4), tf.constant(3), model.ex_post_log_weights, means, roots
    )
    np.testing.assert_allclose(out, model.generate(latents=z4.numpy()), atol=1e-5)


def test_bad_uses_get_clear_errors():
    model = build("vae")
    with pytest.raises(ValueError, match=r"call model.fit_ex_post\(x\)"):
        model.set_sampling("ex_post")
    with pytest.raises(ValueError, match="sampling must be one of"):
        model.fit_ex_post(images(), sampling="posterior")
    with pytest.raises(ValueError, match="fewer than the mixture's 10 components"):
        model.fit_ex_post(images(5))
    with pytest.raises(ValueError, match="sampling='ex_post' draws from a mixture"):
        kgan.models.VAE(model.encoder, model.decoder, sampling="ex_post")
    model.fit_ex_post(images(), n_components=2)
    with pytest.raises(ValueError, match="keeps a mixture of 2 components"):
        model.fit_ex_post(images(), n_components=3)
    with pytest.raises(ValueError, match="full-covariance"):
        model.fit_ex_post(images(), covariance_type="diag")
