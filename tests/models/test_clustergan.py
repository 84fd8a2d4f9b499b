import keras
import numpy as np
import pytest
import tensorflow as tf

import kgan
from kgan import distribute


def small(num_clusters=3, **options):
    return kgan.models.build_trainer(
        "clustergan", (2,), num_clusters=num_clusters, noise_dim=2, width=16, seed=0, **options
    )


def test_the_step_draws_one_hot_codes_uniformly_and_scaled_noise():
    model = small(num_clusters=4, sigma=0.5)
    latents = np.asarray(model._step_latents(distribute.ReplicaBatch(tf.constant(20000))))
    noise, codes = latents[:, :2], latents[:, 2:]
    assert latents.shape == (20000, 6)
    np.testing.assert_array_equal(codes.sum(axis=1), 1.0)
    assert set(np.unique(codes)) == {0.0, 1.0}
    np.testing.assert_allclose(codes.mean(axis=0), 0.25, atol=0.015)
    np.testing.assert_allclose(noise.std(axis=0), 0.5, rtol=0.03)


def test_cluster_latents_follow_the_sampling_contract():
    model = small(num_clusters=3, sigma=0.1)
    latents = model.cluster_latents(5, seed=7)
    noise = kgan.sampling.draw_latents(5, 2, seed=7)
    np.testing.assert_allclose(latents[:, :2], 0.1 * noise, rtol=1e-6)
    np.testing.assert_array_equal(latents[:, 2:].argmax(axis=1), [0, 1, 2, 0, 1])
    np.testing.assert_array_equal(model.cluster_latents(clusters=[2, 2])[:, 2:].argmax(1), [2, 2])
    np.testing.assert_array_equal(
        model.generate(clusters=[1, 0, 2], seed=3),
        model.generate(latents=model.cluster_latents(clusters=[1, 0, 2], seed=3)),
    )
    np.testing.assert_array_equal(model.generate(4, seed=1), model.generate(4, seed=1))


def test_the_generator_update_trains_the_encoder_with_the_latent_loss():
    model = small()
    model.compile(jit_compile=False)
    encoder_before = [w.copy() for w in model.encoder.get_weights()]
    discriminator_encoder = {id(v) for v in model.encoder.trainable_variables}
    assert not discriminator_encoder & {id(v) for v in model.discriminator.trainable_variables}
    x = np.random.default_rng(0).standard_normal((64, 2)).astype("float32")
    logs = model.fit(x, batch_size=32, epochs=1, verbose=0).history
    assert set(logs) == {"d_loss", "g_loss", "latent_loss"}
    assert np.isfinite(logs["latent_loss"][-1]) and logs["latent_loss"][-1] > 0
    moved = [not np.array_equal(a, b) for a, b in zip(encoder_before, model.encoder.get_weights())]
    assert all(moved)


def test_it_finds_the_modes_of_ring8_without_labels():
    x, y = kgan.data.load_arrays("ring8")
    keras.utils.set_random_seed(0)
    model = kgan.models.build_trainer("clustergan", (2,), num_clusters=8, seed=0)
    optimizer = {"learning_rate": 1e-3, "beta_1": 0.5}
    model.compile(
        d_optimizer=keras.optimizers.Adam(**optimizer),
        g_optimizer=keras.optimizers.Adam(**optimizer),
    )
    data = kgan.data.load("ring8", batch_size=256, seed=0).repeat()
    model.fit(data, epochs=1, steps_per_epoch=300, verbose=0)
    assert kgan.cluster.clustering_accuracy(y, model.cluster(x)) >= 0.95
    probabilities = model.cluster_probabilities(x[:100])
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(probabilities.argmax(axis=1), model.cluster(x[:100]))
    # The category a cluster code draws is the category the encoder gives back.
    drawn = model.generate(clusters=np.repeat(np.arange(8), 50), seed=0)
    assert np.mean(model.cluster(drawn) == np.repeat(np.arange(8), 50)) >= 0.95


def test_bad_arguments_get_clear_errors():
    with pytest.raises(ValueError, match="num_clusters must be >= 2"):
        small(num_clusters=1)
    with pytest.raises(ValueError, match="sigma must be a float >= 0"):
        small(sigma=-1.0)
    model = small()
    with pytest.raises(ValueError, match="encoder must be a keras.Model"):
        kgan.models.ClusterGAN(model.generator, model.discriminator, "encoder")
    wrong = kgan.networks.code_encoder((2,), code_dim=7, hidden_units=(8,))
    with pytest.raises(ValueError, match=r"codes of the generator's latent size, \(batch, 5\)"):
        kgan.models.ClusterGAN(model.generator, model.discriminator, wrong, num_clusters=3)
    with pytest.raises(ValueError, match="or latents, not both"):
        model.generate(latents=model.cluster_latents(2), clusters=[0, 1])
    with pytest.raises(ValueError, match=r"clusters must be in \[0, 3\)"):
        model.generate(clusters=[3])
    with pytest.raises(ValueError, match="unconditional: do not pass labels"):
        model.generate(2, labels=[0, 1])
    with pytest.raises(ValueError, match=r"x must have shape \(n, 2\)"):
        model.cluster(np.zeros((3, 3), "float32"))
    with pytest.raises(ValueError, match="finite floats"):
        model.encode(np.full((3, 2), np.nan, "float32"))
    with pytest.raises(ValueError, match="latent_dim: not options of clustergan"):
        kgan.models.build_trainer("clustergan", (2,), latent_dim=4)


def test_generate_can_draw_clusters_in_the_proportions_found_in_the_data(tmp_path):
    model = small(num_clusters=3)
    with pytest.raises(ValueError, match=r"call model.fit_cluster_proportions\(x\) first"):
        model.set_sampling("proportional")
    x = np.random.default_rng(0).standard_normal((300, 2)).astype("float32")
    found = np.bincount(model.cluster(x), minlength=3) / 300
    uniform = model.generate(6, seed=2)
    uniform_300 = model.generate(300, seed=4)
    model.fit_cluster_proportions(x)
    assert model.sampling == "proportional"
    np.testing.assert_allclose(model.cluster_proportions, found)
    drawn = model._draw_latents(30000, seed=1)[:, 2:].argmax(axis=1)
    np.testing.assert_allclose(np.bincount(drawn, minlength=3) / 30000, found, atol=0.01)
    np.testing.assert_array_equal(
        model.generate(5, seed=4), model.generate(latents=model._draw_latents(5, seed=4))
    )
    assert not np.array_equal(model.generate(300, seed=4), uniform_300)
    # The noise is the uniform draw's; only the clusters change.
    np.testing.assert_array_equal(
        model._draw_latents(6, seed=2)[:, :2], model.cluster_latents(6, seed=2)[:, :2]
    )
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert loaded.sampling == "proportional"
    np.testing.assert_array_equal(loaded.generate(6, seed=2), model.generate(6, seed=2))
    model.set_sampling("uniform")
    np.testing.assert_array_equal(model.generate(6, seed=2), uniform)
    with pytest.raises(ValueError, match="sampling must be one of"):
        model.fit_cluster_proportions(x, sampling="ex_post")
    with pytest.raises(ValueError, match="needs the clusters' proportions"):
        kgan.models.ClusterGAN(
            model.generator,
            model.discriminator,
            model.encoder,
            num_clusters=3,
            sampling="proportional",
        )
    with pytest.raises(ValueError, match="3 non-negative numbers"):
        kgan.models.ClusterGAN(
            model.generator,
            model.discriminator,
            model.encoder,
            num_clusters=3,
            cluster_proportions=[1.0, -1.0, 1.0],
        )
