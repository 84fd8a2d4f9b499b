import keras
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

import kgan
from kgan import networks
from kgan.models import VAE, build_vae

tfd = tfp.distributions
SHAPE = (8, 8, 1)


def patterns(n=256, seed=0):
    """Four fixed binary 8x8 images in {-1, 1}, repeated."""
    rng = np.random.default_rng(seed)
    fixed = np.where(rng.random((4, *SHAPE)) > 0.5, 1.0, -1.0).astype("float32")
    return fixed[rng.integers(0, 4, n)]


def mlp_vae(data_dim=2, latent_dim=2, **kwargs):
    keras.utils.set_random_seed(0)
    encoder = networks.vae_encoder((data_dim,), latent_dim, hidden_units=(16,))
    decoder = networks.vae_decoder(
        (data_dim,), latent_dim, hidden_units=(16,), outputs_per_pixel=kwargs.pop("opp", 1)
    )
    kwargs.setdefault("likelihood", "gaussian")
    return VAE(encoder, decoder, seed=0, **kwargs)


def linear_vae(weight, bias, sigma, encoder_kernel, encoder_bias, **kwargs):
    """A VAE with a linear decoder and a linear encoder whose weights are set by hand."""
    data_dim, latent_dim = weight.shape
    encoder = keras.Sequential(
        [keras.Input((data_dim,)), keras.layers.Dense(2 * latent_dim)], name="encoder"
    )
    decoder = keras.Sequential(
        [keras.Input((latent_dim,)), keras.layers.Dense(data_dim)], name="decoder"
    )
    encoder.set_weights([encoder_kernel.astype("float32"), encoder_bias.astype("float32")])
    decoder.set_weights([weight.T.astype("float32"), bias.astype("float32")])
    return VAE(encoder, decoder, likelihood="gaussian", scale=sigma, **kwargs)


def inverse_softplus(y):
    return np.log(np.expm1(y))


# Networks ---------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(8, 8, 1), (8, 12, 3), (5,)])
@pytest.mark.parametrize("outputs_per_pixel", [1, 2])
def test_networks_have_the_documented_shapes(shape, outputs_per_pixel):
    encoder = networks.vae_encoder(shape, latent_dim=3, width=4, hidden_units=(8,))
    decoder = networks.vae_decoder(
        shape, latent_dim=3, width=4, hidden_units=(8,), outputs_per_pixel=outputs_per_pixel
    )
    assert encoder(np.zeros((2, *shape), "float32")).shape == (2, 6)
    expected = (*shape[:-1], shape[-1] * outputs_per_pixel)
    assert decoder(np.zeros((2, 3), "float32")).shape == (2, *expected)


def test_network_builders_refuse_bad_arguments():
    with pytest.raises(ValueError, match="divisible by 4"):
        networks.vae_encoder((30, 30, 1))
    with pytest.raises(ValueError, match="latent_dim"):
        networks.vae_decoder((4,), latent_dim=0)
    with pytest.raises(ValueError, match="outputs_per_pixel"):
        networks.vae_decoder((4,), outputs_per_pixel=3)


# KL terms ---------------------------------------------------------------------------------


def test_analytic_kl_is_the_closed_form():
    vae = mlp_vae(latent_dim=3)
    rng = np.random.default_rng(1)
    loc = rng.normal(size=(5, 3)).astype("float32")
    scale = rng.uniform(0.2, 2.0, size=(5, 3)).astype("float32")
    kl = np.asarray(vae._kl_term(loc, scale, loc))
    closed = 0.5 * np.sum(scale**2 + loc**2 - 1.0 - 2.0 * np.log(scale), axis=1)
    np.testing.assert_allclose(kl, closed, rtol=1e-5)


def test_monte_carlo_kl_approaches_the_analytic_one():
    vae = mlp_vae(latent_dim=3, kl="monte_carlo")
    loc = np.array([[0.5, -1.0, 2.0]], "float32")
    scale = np.array([[0.5, 1.5, 0.8]], "float32")
    noise = np.random.default_rng(2).standard_normal((40000, 3)).astype("float32")
    z = loc + scale * noise
    estimate = np.asarray(vae._kl_term(np.repeat(loc, 40000, 0), np.repeat(scale, 40000, 0), z))
    closed = 0.5 * np.sum(scale**2 + loc**2 - 1.0 - 2.0 * np.log(scale))
    assert abs(estimate.mean() - closed) < 0.05
    assert estimate.std() > 0.1  # a sample-based estimate, not the closed form


# Training ---------------------------------------------------------------------------------


def test_elbo_decreases_and_reconstructions_improve_on_fixed_patterns():
    x = patterns()
    keras.utils.set_random_seed(0)
    vae = build_vae(SHAPE, latent_dim=2, width=4, seed=0)
    vae.compile(optimizer=keras.optimizers.Adam(1e-2), jit_compile=False)
    error_before = np.mean((vae.reconstruct(x) - x) ** 2)
    history = vae.fit(x, batch_size=32, epochs=12, verbose=0, validation_data=(x[:64],))
    losses = history.history["loss"]
    assert set(history.history) >= {"loss", "reconstruction", "kl", "val_loss"}
    assert np.all(np.isfinite(losses))
    assert losses[-1] < 0.6 * losses[0]
    error_after = np.mean((vae.reconstruct(x) - x) ** 2)
    assert error_after < 0.5 * error_before
    assert np.isclose(losses[-1], history.history["reconstruction"][-1] + history.history["kl"][-1])


@pytest.mark.parametrize(
    "kwargs",
    [
        {"likelihood": "gaussian"},
        {"likelihood": "laplace", "scale": 0.5},
        {"likelihood": "gaussian", "opp": 2},
        {"likelihood": "laplace", "prior": "mixture", "num_components": 3, "beta": 0.5},
    ],
)
def test_a_step_trains_every_variable(kwargs):
    vae = mlp_vae(**dict(kwargs))
    vae.compile(jit_compile=False)
    before = [v.numpy().copy() for v in vae.trainable_variables]
    x = np.random.default_rng(0).normal(size=(64, 2)).astype("float32")
    history = vae.fit(x, np.zeros(64), batch_size=32, epochs=1, verbose=0)
    assert all(np.all(np.isfinite(v)) for v in history.history.values())
    for old, new in zip(before, vae.trainable_variables):
        assert not np.allclose(old, new.numpy()), new.path
    learns_a_shared_scale = "scale" not in kwargs and "opp" not in kwargs
    assert (vae.log_scale is not None) == learns_a_shared_scale


def test_xla_step_runs():
    vae = mlp_vae(prior="mixture", num_components=2)
    vae.compile()
    assert vae._step_jit
    x = np.random.default_rng(0).normal(size=(32, 2)).astype("float32")
    history = vae.fit(x, batch_size=16, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])


# Likelihood estimates ---------------------------------------------------------------------


def test_iwae_bound_tightens_with_more_samples():
    x = patterns(200)
    keras.utils.set_random_seed(0)
    vae = build_vae(SHAPE, latent_dim=2, width=4, seed=0)
    vae.compile(optimizer=keras.optimizers.Adam(1e-2), jit_compile=False)
    vae.fit(x, batch_size=50, epochs=2, verbose=0)
    k1 = vae.log_likelihood(x, num_samples=1, seed=0).mean()
    k8 = vae.log_likelihood(x, num_samples=8, seed=1).mean()
    k64 = vae.log_likelihood(x, num_samples=64, seed=2).mean()
    elbo = -vae.evaluate(x, batch_size=50, verbose=0, return_dict=True)["loss"]
    assert k1 <= k8 + 0.05 and k8 <= k64 + 0.05
    assert k64 >= elbo - 0.05
    assert k64 > k1  # the k=1 ELBO leaves a gap


def test_iwae_recovers_the_exact_log_likelihood_of_a_linear_gaussian_model():
    # x = W z + b + sigma eps, z ~ N(0, I): p(x) = N(b, W W^T + sigma^2 I).
    rng = np.random.default_rng(3)
    weight = rng.normal(size=(3, 2))
    bias = rng.normal(size=3)
    sigma = 0.5
    # The exact posterior's mean map; its covariance (not diagonal) is replaced by an inflated
    # diagonal, so the proposal is imperfect and k matters.
    precision = np.eye(2) + weight.T @ weight / sigma**2
    covariance = np.linalg.inv(precision)
    mean_map = covariance @ weight.T / sigma**2  # [2, 3]
    scales = 1.5 * np.sqrt(np.diag(covariance))
    kernel = np.concatenate([mean_map.T, np.zeros((3, 2))], axis=1)
    encoder_bias = np.concatenate([-mean_map @ bias, inverse_softplus(scales - 1e-4)])
    vae = linear_vae(weight, bias, sigma, kernel, encoder_bias)
    x = rng.multivariate_normal(bias, weight @ weight.T + sigma**2 * np.eye(3), size=20)
    marginal = weight @ weight.T + sigma**2 * np.eye(3)
    exact = np.asarray(tfd.MultivariateNormalTriL(bias, np.linalg.cholesky(marginal)).log_prob(x))
    estimate = vae.log_likelihood(x.astype("float32"), num_samples=20000, seed=0)
    one_sample = vae.log_likelihood(x.astype("float32"), num_samples=1, seed=0)
    np.testing.assert_allclose(estimate, exact, atol=0.05)
    assert abs(np.mean(estimate - exact)) < 0.01
    assert np.mean(exact - one_sample) > 0.5


# Mixture prior ----------------------------------------------------------------------------


def identity_mixture_vae(num_components=2):
    kernel = np.concatenate([np.eye(2), np.zeros((2, 2))], axis=1)
    encoder_bias = np.concatenate([np.zeros(2), inverse_softplus(np.full(2, 0.1))])
    return linear_vae(
        np.eye(2),
        np.zeros(2),
        0.1,
        kernel,
        encoder_bias,
        prior="mixture",
        num_components=num_components,
    )


def two_clusters(n=100, seed=0):
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 2, n)
    centers = np.array([[-5.0, 0.0], [5.0, 1.0]])
    return (centers[truth] + rng.normal(size=(n, 2))).astype("float32"), truth


def test_set_prior_then_cluster_probabilities_separate_two_clusters():
    vae = identity_mixture_vae()
    x, truth = two_clusters()
    vae.set_prior([0.3, 0.7], [[-5.0, 0.0], [5.0, 1.0]], [[1.0, 1.0], [1.0, 1.0]])
    probabilities = vae.cluster_probabilities(x)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(vae.predict_clusters(x), truth)
    np.testing.assert_array_equal(vae.cluster(x), truth)
    assert probabilities.max(axis=1).min() > 0.99
    prior = vae.prior_distribution()
    np.testing.assert_allclose(prior.mixture_distribution.probs_parameter(), [0.3, 0.7], rtol=1e-5)
    np.testing.assert_allclose(prior.components_distribution.stddev(), 1.0, rtol=1e-4)
    # Samples of the prior come from both components, by weight.
    samples = vae.generate(2000, seed=0)
    assert 0.6 < np.mean(samples[:, 0] > 0) < 0.8


def test_set_prior_takes_a_fitted_diagonal_gaussian_mixture():
    vae = identity_mixture_vae()
    x, truth = two_clusters(200)
    gmm = kgan.mixture.GaussianMixture(2, covariance_type="diag", random_state=0)
    gmm.fit(vae.encode(x))
    vae.set_prior(gmm.weights_, gmm.means_, gmm.covariances_)
    clusters = vae.predict_clusters(x)
    agreement = max(np.mean(clusters == truth), np.mean(clusters != truth))
    assert agreement == 1.0
    with pytest.raises(ValueError, match="covariance_type='diag'"):
        vae.set_prior(gmm.weights_, gmm.means_, np.stack([np.eye(2)] * 2))


def test_normal_prior_has_no_clusters():
    vae = mlp_vae()
    x = np.zeros((2, 2), "float32")
    for call in (
        lambda: vae.set_prior([1.0], [[0.0, 0.0]], [[1.0, 1.0]]),
        lambda: vae.cluster_probabilities(x),
        lambda: vae.predict_clusters(x),
    ):
        with pytest.raises(ValueError, match="prior='mixture'"):
            call()
    assert isinstance(vae.prior_distribution(), tfd.MultivariateNormalDiag)


# Serialization and export -----------------------------------------------------------------


def test_config_round_trip_rebuilds_the_same_model():
    vae = mlp_vae(likelihood="laplace", scale=0.3, prior="mixture", num_components=4, beta=2.0)
    clone = VAE.from_config(vae.get_config())
    assert clone.get_config() == vae.get_config()
    clone.set_weights(vae.get_weights())
    x = np.random.default_rng(0).normal(size=(5, 2)).astype("float32")
    np.testing.assert_allclose(clone.encode(x), vae.encode(x), rtol=1e-6)
    np.testing.assert_allclose(clone.reconstruct(x), vae.reconstruct(x), rtol=1e-6)


def test_keras_file_round_trip_keeps_weights_prior_seed_and_compilation(tmp_path):
    vae = mlp_vae(prior="mixture", num_components=3)
    vae.compile(optimizer=keras.optimizers.Adam(5e-3), jit_compile=False)
    x = np.random.default_rng(0).normal(size=(64, 2)).astype("float32")
    vae.fit(x, batch_size=32, epochs=1, verbose=0)
    path = str(tmp_path / "vae.keras")
    vae.save(path)
    loaded = keras.saving.load_model(path)
    assert isinstance(loaded, VAE) and loaded.compiled
    assert loaded.optimizer.learning_rate.numpy() == pytest.approx(5e-3)
    assert loaded.optimizer.iterations.numpy() == vae.optimizer.iterations.numpy()
    np.testing.assert_array_equal(loaded.seed_generator.state.numpy(), vae.seed_generator.state)
    for name in ("prior_logits", "prior_means", "prior_raw_scales", "log_scale"):
        np.testing.assert_array_equal(getattr(loaded, name).numpy(), getattr(vae, name).numpy())
    np.testing.assert_allclose(loaded.encode(x), vae.encode(x), rtol=1e-6)
    np.testing.assert_allclose(loaded.decode(x), vae.decode(x), rtol=1e-6)
    np.testing.assert_allclose(
        loaded.log_likelihood(x, num_samples=4, seed=0),
        vae.log_likelihood(x, num_samples=4, seed=0),
        rtol=1e-6,
    )
    loaded.fit(x, batch_size=32, epochs=1, verbose=0)


def test_inference_functions_have_fixed_signatures_and_export(tmp_path):
    vae = build_vae(SHAPE, latent_dim=3, width=4, seed=0)
    functions = vae.inference_functions()
    assert set(functions) == {"encode", "decode", "generate"}
    x = patterns(5)
    z = functions["encode"](x)
    assert z.shape == (5, 3)
    np.testing.assert_allclose(z, vae.encode(x), rtol=1e-5, atol=1e-6)
    images = functions["decode"](z)
    assert images.shape == (5, *SHAPE)
    np.testing.assert_allclose(images, vae.decode(z), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(functions["generate"](z), images)
    assert functions["encode"].input_signature[0].shape.as_list() == [None, *SHAPE]
    module = vae.inference_module()
    tf.saved_model.save(module, str(tmp_path / "saved"), signatures=module.signatures())
    restored = tf.saved_model.load(str(tmp_path / "saved"))
    decoded = restored.signatures["decode"](z=tf.constant(z))
    np.testing.assert_allclose(next(iter(decoded.values())), images, rtol=1e-5, atol=1e-6)


# Errors at the public boundary ------------------------------------------------------------


def test_construction_errors_say_what_is_wrong():
    encoder = networks.vae_encoder((4,), latent_dim=2, hidden_units=(8,))
    decoder = networks.vae_decoder((4,), latent_dim=2, hidden_units=(8,))
    cases = [
        ({"likelihood": "poisson"}, "likelihood must be"),
        ({"prior": "vamp"}, "prior must be"),
        ({"kl": "exact"}, "kl must be"),
        ({"prior": "mixture", "kl": "analytic"}, "closed form"),
        ({"beta": -1.0}, "beta"),
        ({"scale": 0.0, "likelihood": "gaussian"}, "scale"),
        ({"scale": 0.5}, "bernoulli likelihood has none"),
        ({"num_components": 0, "prior": "mixture"}, "num_components"),
    ]
    for kwargs, message in cases:
        with pytest.raises(ValueError, match=message):
            VAE(encoder, decoder, **kwargs)
    with pytest.raises(ValueError, match="latent_dim=2"):
        VAE(networks.vae_encoder((4,), latent_dim=3, hidden_units=(8,)), decoder)
    with pytest.raises(ValueError, match=r"decoder must return \(batch, 4\)"):
        VAE(encoder, networks.vae_decoder((5,), latent_dim=2, hidden_units=(8,)))
    two = networks.vae_decoder((4,), latent_dim=2, hidden_units=(8,), outputs_per_pixel=2)
    with pytest.raises(ValueError, match="outputs_per_pixel=1"):
        VAE(encoder, two, likelihood="bernoulli")
    with pytest.raises(ValueError, match="keras.Model"):
        VAE(encoder, "decoder")


def test_data_errors_say_what_is_wrong():
    vae = mlp_vae()
    vae.compile(jit_compile=False)
    with pytest.raises(ValueError, match=r"built for data of shape \(2,\)"):
        vae.fit(np.zeros((8, 3), "float32"), epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"x must have shape \(n, 2\)"):
        vae.encode(np.zeros((2,), "float32"))
    with pytest.raises(ValueError, match="must be float samples"):
        vae.log_likelihood(np.zeros((2, 2), "uint8"))
    with pytest.raises(ValueError, match=r"latents must have shape \(n, 2\)"):
        vae.decode(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="num_samples"):
        vae.generate()
    with pytest.raises(ValueError, match="num_samples"):
        vae.log_likelihood(np.zeros((2, 2), "float32"), num_samples=0)
    with pytest.raises(ValueError, match="optimizer"):
        vae.compile(optimizer=3)


def test_bernoulli_outputs_are_in_the_data_range():
    vae = build_vae(SHAPE, latent_dim=2, width=4, seed=0)
    samples = vae.generate(8, seed=0)
    assert samples.shape == (8, *SHAPE)
    assert samples.min() >= -1.0 and samples.max() <= 1.0
    np.testing.assert_array_equal(vae.generate(8, seed=0), samples)
    z = vae.encode(patterns(4), sample=True, seed=0)
    assert z.shape == (4, 2)
    assert not np.allclose(z, vae.encode(patterns(4)))
    assert vae.posterior(patterns(4)).batch_shape == (4,)
