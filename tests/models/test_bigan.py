import keras
import numpy as np
import pytest
import tensorflow as tf

import kgan
from kgan import distribute


def small(num_clusters=3, **options):
    return kgan.models.build_trainer(
        "bigan", (2,), num_clusters=num_clusters, latent_dim=2, width=16, seed=0, **options
    )


def blobs(n=240, seed=0):
    """Three tight 2-D blobs, `n` points, and their labels."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 3
    centres = np.array([[-0.6, -0.4], [0.6, -0.4], [0.0, 0.6]])
    return (centres[labels] + 0.03 * rng.standard_normal((n, 2))).astype("float32"), labels


def test_the_discriminator_judges_data_with_codes_against_samples_with_latents():
    model = small(dropout=0.0)
    model.compile(jit_compile=False)
    real = tf.constant(blobs(8)[0])
    latents = model._step_latents(distribute.ReplicaBatch(tf.constant(8)))
    d_loss, penalty, grads = model._d_gradients(real, None, latents, None, 1.0)
    assert penalty is None
    codes = model.encoder(real)
    fake = model.generator(latents)
    real_logits = model.discriminator([real, codes])
    fake_logits = model.discriminator([fake, latents])
    np.testing.assert_allclose(d_loss, model.d_loss_fn(real_logits, fake_logits), rtol=1e-5)
    # The generator and the encoder train on the same loss with the pairs' roles swapped.
    g_loss, g_grads, extra = model._g_gradients(real, None, latents, 1.0)
    np.testing.assert_allclose(g_loss, model.d_loss_fn(fake_logits, real_logits), rtol=1e-5)
    assert extra == []
    assert len(g_grads) == len(model.generator.trainable_variables) + len(
        model.encoder.trainable_variables
    )
    assert all(g is not None for g in g_grads) and all(g is not None for g in grads)


def test_each_update_moves_its_own_networks():
    model = small()
    model.compile(jit_compile=False)
    before = {
        name: [w.copy() for w in getattr(model, name).get_weights()]
        for name in ("generator", "encoder", "discriminator")
    }
    encoder_ids = {id(v) for v in model.encoder.trainable_variables}
    assert not encoder_ids & {id(v) for v in model._discriminator_variables()}
    assert encoder_ids <= {id(v) for v in model._generator_variables()}
    x, _ = blobs(64)
    logs = model.fit(x, batch_size=32, epochs=1, verbose=0).history
    assert set(logs) == {"d_loss", "g_loss"}
    for name, weights in before.items():
        after = getattr(model, name).get_weights()
        assert all(not np.array_equal(a, b) for a, b in zip(weights, after)), name


def test_fit_clusters_keeps_the_mixture_of_the_features_in_the_weights(tmp_path):
    model = small()
    x, _ = blobs()
    features = model.encode(x)
    assert features.shape == (len(x), 2)
    mixture = kgan.mixture.GaussianMixture(
        3, covariance_type="full", reg_covar=1e-4, n_init=3, random_state=0
    ).fit(features)
    clusters = model.fit_clusters(x).cluster(x)
    np.testing.assert_array_equal(clusters, mixture.predict(features))
    probabilities = model.cluster_probabilities(x)
    np.testing.assert_allclose(probabilities, mixture.predict_proba(features), atol=1e-4)
    path = tmp_path / "model.keras"
    model.save(path)
    np.testing.assert_array_equal(keras.saving.load_model(path).cluster(x), clusters)


def test_cluster_latents_draw_from_the_chosen_components():
    model = small(num_clusters=3)
    x, _ = blobs()
    model.fit_clusters(x)
    latents = model.cluster_latents(clusters=np.repeat(np.arange(3), 4000), seed=0)
    covariances = model.ex_post_precisions_cholesky.numpy().astype("float64")
    for k in range(3):
        drawn = latents[k * 4000 : (k + 1) * 4000]
        np.testing.assert_allclose(drawn.mean(axis=0), model.ex_post_means.numpy()[k], atol=0.01)
        precision = covariances[k] @ covariances[k].T
        np.testing.assert_allclose(np.cov(drawn.T), np.linalg.inv(precision), rtol=0.1, atol=1e-4)
    np.testing.assert_array_equal(
        model.generate(clusters=[2, 0], seed=3),
        model.generate(latents=model.cluster_latents(clusters=[2, 0], seed=3)),
    )
    # Without clusters the latents are N(0, I) by the sampling contract.
    np.testing.assert_array_equal(
        model.generate(3, seed=1),
        model.generate(latents=kgan.sampling.draw_latents(3, 2, seed=1)),
    )


def test_the_exported_cluster_signature_follows_the_mixture():
    model = small()
    x, _ = blobs(30)
    module = model.inference_module()
    np.testing.assert_array_equal(module.cluster(x).numpy(), -1)
    np.testing.assert_allclose(module.encode(x).numpy(), model.encode(x), rtol=1e-6)
    model.fit_clusters(x)
    np.testing.assert_array_equal(module.cluster(x).numpy(), model.cluster(x))


def test_bad_arguments_get_clear_errors():
    with pytest.raises(ValueError, match="gradient_penalty is not supported"):
        kgan.models.BiGAN(*networks(), gradient_penalty=10.0)
    with pytest.raises(ValueError, match="gradient_penalty: not options of bigan"):
        small(gradient_penalty=10.0)
    with pytest.raises(ValueError, match="num_clusters must be an int >= 2"):
        small(num_clusters=1)
    generator, discriminator, encoder = networks()
    with pytest.raises(ValueError, match="encoder must be a keras.Model"):
        kgan.models.BiGAN(generator, discriminator, "encoder")
    wrong = kgan.networks.code_encoder((2,), code_dim=5, hidden_units=(8,))
    with pytest.raises(ValueError, match=r"codes of the generator's latent size, \(batch, 2\)"):
        kgan.models.BiGAN(generator, discriminator, wrong)
    plain = kgan.networks.mlp_discriminator(2)
    with pytest.raises(ValueError, match="discriminator of two"):
        kgan.models.BiGAN(generator, plain, encoder)
    model = small()
    x, _ = blobs(30)
    with pytest.raises(ValueError, match=r"call model.fit_clusters\(x\)"):
        model.cluster(x)
    with pytest.raises(ValueError, match=r"call model.fit_clusters\(x\)"):
        model.generate(clusters=[0])
    with pytest.raises(ValueError, match="fewer than the mixture's 3 components"):
        model.fit_clusters(x[:2])
    with pytest.raises(ValueError, match=r"x must have shape \(n, 2\)"):
        model.encode(np.zeros((3, 3), "float32"))
    with pytest.raises(ValueError, match="finite floats"):
        model.fit_clusters(np.full((9, 2), np.nan, "float32"))
    model.fit_clusters(x)
    with pytest.raises(ValueError, match=r"clusters must be in \[0, 3\)"):
        model.generate(clusters=[3])
    with pytest.raises(ValueError, match="not both"):
        model.generate(latents=np.zeros((1, 2), "float32"), clusters=[0])


def networks():
    model = small()
    return model.generator, model.discriminator, model.encoder
