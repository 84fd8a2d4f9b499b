import keras
import numpy as np
import pytest
import tensorflow as tf

import kgan
from kgan import distribute


def small(num_clusters=3, num_continuous=2, **options):
    return kgan.models.build_trainer(
        "infogan",
        (2,),
        num_clusters=num_clusters,
        num_continuous=num_continuous,
        noise_dim=2,
        width=16,
        seed=0,
        **options,
    )


def test_the_step_draws_noise_a_uniform_category_and_uniform_continuous_codes():
    model = small(num_clusters=4, num_continuous=2)
    latents = np.asarray(model._step_latents(distribute.ReplicaBatch(tf.constant(20000))))
    noise, onehot, continuous = (np.asarray(p) for p in model._split_latents(latents))
    assert latents.shape == (20000, 8)
    np.testing.assert_allclose(noise.std(axis=0), 1.0, rtol=0.03)
    np.testing.assert_array_equal(onehot.sum(axis=1), 1.0)
    np.testing.assert_allclose(onehot.mean(axis=0), 0.25, atol=0.015)
    assert continuous.min() >= -1.0 and continuous.max() < 1.0
    np.testing.assert_allclose(continuous.mean(axis=0), 0.0, atol=0.02)
    np.testing.assert_allclose(continuous.var(axis=0), 1 / 3, rtol=0.05)


def test_the_information_loss_is_cross_entropy_plus_half_the_squared_error():
    model = small()
    latents = model.cluster_latents(6, seed=1)
    x = model.generate(latents=latents)
    logits, predicted, features = (np.asarray(v, "float64") for v in model._read_codes(x))
    np.testing.assert_allclose(features, np.concatenate([logits, predicted], axis=1), rtol=1e-6)
    log_softmax = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    onehot, continuous = latents[:, 2:5], latents[:, 5:]
    expected = -np.mean(np.sum(onehot * log_softmax, axis=1)) + 0.5 * np.mean(
        np.sum((predicted - continuous) ** 2, axis=1)
    )
    got = float(model._information_loss(tf.constant(latents), tf.constant(x)))
    assert got == pytest.approx(expected, rel=1e-5)


def test_the_real_information_term_is_conditional_minus_marginal_entropy():
    model = small(im_weight=0.5)
    x = np.random.default_rng(0).standard_normal((8, 2)).astype("float32")
    logits = np.asarray(model._read_codes(x)[0], "float64")
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    conditional = -np.mean(np.sum(p * np.log(p), axis=1))
    marginal = -np.sum(p.mean(axis=0) * np.log(p.mean(axis=0)))
    got = float(model._real_information_loss(tf.constant(x)))
    assert got == pytest.approx(conditional - marginal, rel=1e-4, abs=1e-6)
    latents = model.cluster_latents(8, seed=0)
    generated = model.generate(latents=latents)
    # Added to the discriminator's objective with its weight; absent at the default 0.
    with_im = float(model._extra_discriminator_loss(x, latents, generated))
    model.im_weight = 0.0
    without = float(model._extra_discriminator_loss(x, latents, generated))
    model.im_weight = 0.5
    assert with_im == pytest.approx(without + 0.5 * got, rel=1e-5)
    assert type(model).from_config(model.get_config()).im_weight == 0.5


def test_codes_pick_what_is_generated_and_q_reads_them_back_after_training():
    model = small(num_clusters=4, num_continuous=1)
    optimizer = {"learning_rate": 1e-3, "beta_1": 0.5}
    model.compile(
        d_optimizer=keras.optimizers.Adam(**optimizer),
        g_optimizer=keras.optimizers.Adam(**optimizer),
        jit_compile=False,
    )
    q_before = [w.copy() for w in model.q_head.get_weights()]
    x, _ = kgan.data.load_arrays("ring8", num_examples=8192)
    logs = model.fit(x, batch_size=256, epochs=6, verbose=0).history
    assert set(logs) == {"d_loss", "g_loss", "info_loss"}
    assert logs["info_loss"][-1] < logs["info_loss"][0]
    assert not all(np.array_equal(a, b) for a, b in zip(q_before, model.q_head.get_weights()))
    # The mutual information is learned: Q gives back the category a sample was drawn with.
    clusters = np.repeat(np.arange(4), 100)
    drawn = model.generate(clusters=clusters, seed=0)
    assert np.mean(model.cluster(drawn) == clusters) >= 0.9
    same = model.generate(clusters=[1, 1], codes=[[0.5], [0.5]], seed=3)
    np.testing.assert_array_equal(
        same, model.generate(clusters=1, codes=[0.5], num_samples=2, seed=3)
    )


def test_bad_arguments_get_clear_errors():
    with pytest.raises(ValueError, match="im_weight must be a float >= 0"):
        small(im_weight=-1.0)
    with pytest.raises(ValueError, match="drop pack"):
        small(pack=2)
    with pytest.raises(ValueError, match="noise_dim must be an int >= 1; got 0"):
        kgan.models.build_trainer("infogan", (2,), noise_dim=0)
    with pytest.raises(ValueError, match="info_weight must be a float >= 0"):
        small(info_weight=-1.0)
    model = small()
    wrong = kgan.networks.code_head(int(model.q_head.inputs[0].shape[-1]), 4)
    with pytest.raises(ValueError, match="num_clusters \\+ num_continuous = 5"):
        kgan.models.InfoGAN(model.generator, model.discriminator, wrong, num_clusters=3)
    with pytest.raises(ValueError, match="is not a layer of the discriminator"):
        kgan.models.InfoGAN(
            model.generator, model.discriminator, model.q_head, num_clusters=3, feature_layer="x"
        )
    clustergan = kgan.models.build_trainer("clustergan", (2,), num_clusters=3, width=8)
    with pytest.raises(ValueError, match="has no continuous codes"):
        clustergan.generate(clusters=[0], codes=[[0.0]])
