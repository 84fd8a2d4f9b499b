import keras
import numpy as np
import pytest
import tensorflow as tf

import kgan
from kgan import networks

SHAPE = (8, 8, 1)


def toy_data(n=32, num_classes=3, seed=0):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, num_classes, n).astype("int32")
    images = np.tanh(rng.normal(size=(n, *SHAPE))).astype("float32")
    return images, labels


def toy_cgan(seed=0, **kwargs):
    keras.utils.set_random_seed(seed)
    g = networks.dcgan_generator(SHAPE, latent_dim=8, num_classes=3, width=4)
    d = networks.dcgan_discriminator(SHAPE, num_classes=3, width=4)
    return kgan.ConditionalGAN(g, d, seed=seed, **kwargs)


def toy_gan(seed=0, **kwargs):
    keras.utils.set_random_seed(seed)
    g = networks.dcgan_generator(SHAPE, latent_dim=8, width=4)
    d = networks.dcgan_discriminator(SHAPE, width=4)
    return kgan.GAN(g, d, seed=seed, **kwargs)


def weights_of(model):
    return [w.copy() for w in model.get_weights()]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"loss": "non_saturating"},
        {"loss": "minimax"},
        {"loss": "hinge", "r1": 1.0},
        {"loss": "least_squares"},
        {"loss": "wasserstein", "gradient_penalty": 10.0, "d_steps": 2},
    ],
)
@pytest.mark.parametrize("conditional", [True, False])
def test_a_step_updates_both_networks(kwargs, conditional):
    model = toy_cgan(**kwargs) if conditional else toy_gan(**kwargs)
    model.compile()
    g_before = weights_of(model.generator)
    d_before = weights_of(model.discriminator)
    images, labels = toy_data()
    history = model.fit(images, labels, batch_size=16, epochs=1, verbose=0)
    for name, values in history.history.items():
        assert np.all(np.isfinite(values)), name
    if "gradient_penalty" in kwargs or "r1" in kwargs:
        assert history.history["penalty"][0] > 0
    for before, net in ((g_before, model.generator), (d_before, model.discriminator)):
        changed = [not np.allclose(a, b) for a, b in zip(before, net.get_weights())]
        assert any(changed), net.name
    # two batches per epoch, d_steps discriminator updates per batch
    assert int(model.d_optimizer.iterations) == 2 * kwargs.get("d_steps", 1)
    assert int(model.g_optimizer.iterations) == 2


def test_gan_learns_a_shifted_gaussian():
    keras.utils.set_random_seed(1)
    g = networks.mlp_generator(data_dim=2, latent_dim=2, hidden_units=(32, 32))
    d = networks.mlp_discriminator(data_dim=2, hidden_units=(32, 32))
    model = kgan.GAN(g, d, seed=1)
    model.compile(
        d_optimizer=keras.optimizers.Adam(2e-3, beta_1=0.5),
        g_optimizer=keras.optimizers.Adam(2e-3, beta_1=0.5),
    )
    target = np.array([3.0, -2.0], "float32")
    data = (np.random.default_rng(0).normal(size=(4096, 2)) * 0.3 + target).astype("float32")
    before = model.generate(1000, seed=0).mean(axis=0)
    model.fit(data, batch_size=128, epochs=15, verbose=0)
    after = model.generate(1000, seed=0).mean(axis=0)
    assert np.linalg.norm(before - target) > 2.0
    assert np.linalg.norm(after - target) < 0.5


def test_generate_is_reproducible_and_follows_the_labels():
    model = toy_cgan()
    a = model.generate(labels=[0, 1, 2, 2], seed=3)
    b = model.generate(labels=[0, 1, 2, 2], seed=3)
    c = model.generate(labels=[0, 1, 2, 2], seed=4)
    assert a.shape == (4, *SHAPE)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    z = np.random.normal(size=(2, 8)).astype("float32")
    out = model.generate(latents=z[[0, 0, 0, 1]], labels=[0, 0, 1, 0])
    np.testing.assert_allclose(out[0], out[1], atol=1e-6)
    assert not np.allclose(out[0], out[2], atol=1e-4)  # same latent, other label
    assert not np.allclose(out[0], out[3], atol=1e-4)  # same label, other latent
    cycled = model.generate(6, seed=0)
    assert cycled.shape == (6, *SHAPE)


def test_generate_refuses_bad_arguments():
    model = toy_cgan()
    with pytest.raises(ValueError, match=r"labels must be in \[0, 3\)"):
        model.generate(labels=[0, 3])
    with pytest.raises(ValueError, match="latents must have shape"):
        model.generate(latents=np.zeros((2, 5)))
    with pytest.raises(ValueError, match="num_samples"):
        model.generate()
    with pytest.raises(ValueError, match="unconditional"):
        toy_gan().generate(labels=[1])


def test_misuse_in_fit_gets_clear_errors():
    images, labels = toy_data()
    cgan = toy_cgan()
    cgan.compile()
    with pytest.raises(ValueError, match="needs labels"):
        cgan.fit(images, batch_size=16, epochs=1, verbose=0)
    with pytest.raises(tf.errors.InvalidArgumentError, match="num_classes=3"):
        cgan.fit(images, labels + 3, batch_size=16, epochs=1, verbose=0)
    wrong = np.zeros((16, 12, 12, 1), "float32")
    with pytest.raises(ValueError, match=r"built for samples of shape \(8, 8, 1\)"):
        cgan.fit(wrong, labels[:16], batch_size=16, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="use kgan.ConditionalGAN"):
        kgan.GAN(cgan.generator, cgan.discriminator)
    with pytest.raises(ValueError, match="needs networks that take labels"):
        kgan.ConditionalGAN(toy_gan().generator, toy_gan().discriminator)
    with pytest.raises(ValueError, match="unknown loss"):
        toy_cgan(loss="nonsaturating")
    with pytest.raises(ValueError, match="d_steps"):
        toy_cgan(d_steps=0)


def test_config_round_trip():
    model = toy_cgan(loss="hinge", d_steps=2, r1=0.5)
    clone = kgan.ConditionalGAN.from_config(model.get_config())
    assert (clone.loss_name, clone.d_steps, clone.r1, clone.num_classes) == ("hinge", 2, 0.5, 3)
    clone.generator.set_weights(model.generator.get_weights())
    np.testing.assert_allclose(
        clone.generate(labels=[0, 1], seed=0), model.generate(labels=[0, 1], seed=0), atol=1e-6
    )


def test_saved_file_loads_compiled_and_resumes_exactly(tmp_path):
    images, labels = toy_data(n=48)
    data = tf.data.Dataset.from_tensor_slices((images, labels)).batch(16)

    straight = toy_cgan()
    straight.compile(d_optimizer=keras.optimizers.Adam(1e-3), g_optimizer="adam")
    straight.fit(data, epochs=4, verbose=0)

    interrupted = toy_cgan()
    interrupted.compile(d_optimizer=keras.optimizers.Adam(1e-3), g_optimizer="adam")
    interrupted.fit(data, epochs=2, verbose=0)
    path = tmp_path / "cgan.keras"
    interrupted.save(path)
    resumed = keras.saving.load_model(path)
    assert isinstance(resumed, kgan.ConditionalGAN)
    assert resumed.compiled
    assert float(resumed.d_optimizer.learning_rate) == pytest.approx(1e-3)
    assert int(resumed.d_optimizer.iterations) == 6
    for a, b in zip(interrupted.get_weights(), resumed.get_weights()):
        np.testing.assert_array_equal(a, b)
    resumed.fit(data, epochs=4, initial_epoch=2, verbose=0)

    for a, b in zip(straight.get_weights(), resumed.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    for a, b in zip(straight.d_optimizer.variables, resumed.d_optimizer.variables):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6)
    # and the two runs did train: the weights moved away from the 2-epoch state
    assert not all(
        np.allclose(a, b) for a, b in zip(interrupted.get_weights(), resumed.get_weights())
    )


def test_auto_jit_compiles_the_step_and_keeps_the_checks():
    # XLA and graph steps draw their latents with different RNG kernels, so they are compared
    # on the discriminator loss of fixed weights rather than after training.
    model = toy_cgan()
    model.compile()
    assert model._step_jit and not model.jit_compile
    graph = toy_cgan()
    graph.compile(jit_compile=False)
    assert not graph._step_jit
    with pytest.raises(ValueError, match="jit_compile"):
        graph.compile(jit_compile="yes")


def test_build_trainer_picks_networks_by_shape():
    cgan = kgan.models.build_trainer("cgan", (8, 8, 1), num_classes=3, width=4, latent_dim=8)
    assert isinstance(cgan, kgan.ConditionalGAN) and cgan.sample_shape == (8, 8, 1)
    gan = kgan.models.build_trainer("gan", (2,), width=16)
    assert gan.sample_shape == (2,) and gan.latent_dim == 2
    assert gan.generator.get_layer("hidden1").units == 16
    assert gan.discriminator.get_layer("hidden1").units == 32  # twice as wide by default
    gan = kgan.models.build_trainer("gan", (2,), width=16, d_width=8)
    assert gan.discriminator.get_layer("hidden1").units == 8
    cgan = kgan.models.build_trainer("cgan", (8, 8, 1), num_classes=3, width=4, d_width=6)
    filters = [layer.filters for layer in cgan.discriminator.layers if hasattr(layer, "filters")]
    assert max(filters) == 12
    with pytest.raises(ValueError, match="pass num_classes"):
        kgan.models.build_trainer("cgan", (8, 8, 1))
    with pytest.raises(ValueError, match="unknown model"):
        kgan.models.build_trainer("dcgan", (8, 8, 1))


def test_num_classes_is_read_from_the_label_layer_or_given():
    assert toy_cgan().num_classes == 3
    latents = keras.Input((4,))
    labels = keras.Input((), dtype="int32")
    one_hot = keras.layers.CategoryEncoding(num_tokens=5, output_mode="one_hot")(labels)
    x = keras.layers.Dense(64, activation="tanh")(keras.layers.Concatenate()([latents, one_hot]))
    g = keras.Model([latents, labels], keras.layers.Reshape(SHAPE)(x))
    d = networks.dcgan_discriminator(SHAPE, num_classes=5, width=4)
    assert kgan.ConditionalGAN(g, d).num_classes == 5
    assert kgan.ConditionalGAN(g, d, num_classes=7).num_classes == 7
    # a generator that reads the labels some other way needs num_classes
    cast = keras.layers.Dense(4)(keras.layers.Reshape((1,))(keras.ops.cast(labels, "float32")))
    other = keras.Model(
        [latents, labels],
        keras.layers.Reshape(SHAPE)(
            keras.layers.Dense(64)(keras.layers.Concatenate()([latents, cast]))
        ),
    )
    with pytest.raises(ValueError, match="pass num_classes"):
        kgan.ConditionalGAN(other, d)
    with pytest.raises(ValueError, match="unconditional"):
        toy_gan(num_classes=3)


def test_one_discriminator_call_on_real_and_fake_equals_two():
    model = toy_cgan()
    assert not model._batch_dependent_discriminator
    images, labels = toy_data(n=6)
    fake = model.generate(labels=labels, seed=0)
    joint = [t.numpy() for t in model._discriminate_pair(images, fake, labels)]
    apart = [model._discriminate(x, labels).numpy() for x in (images, fake)]
    for a, b in zip(joint, apart):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    # a discriminator with batch statistics must see real and fake apart
    inputs = keras.Input(SHAPE)
    x = keras.layers.BatchNormalization()(keras.layers.Flatten()(inputs))
    d = keras.Model(inputs, keras.layers.Dense(1)(x))
    assert kgan.GAN(toy_gan().generator, d)._batch_dependent_discriminator


def test_wgan_gp_has_the_papers_defaults_and_round_trips(tmp_path):
    keras.utils.set_random_seed(0)
    g = networks.mlp_generator(data_dim=2, latent_dim=2, hidden_units=(16,))
    d = networks.mlp_discriminator(data_dim=2, hidden_units=(16,))
    model = kgan.WGANGP(g, d, seed=0)
    model.compile()
    assert (model.loss_name, model.d_steps, model.gradient_penalty) == ("wasserstein", 5, 10.0)
    optimizer = model.d_optimizer
    assert float(optimizer.learning_rate) == pytest.approx(1e-4)
    assert (optimizer.beta_1, optimizer.beta_2) == (0.0, 0.9)
    points = np.random.default_rng(0).normal(size=(64, 2)).astype("float32")
    history = model.fit(points, batch_size=32, epochs=1, verbose=0)
    assert np.isfinite(history.history["penalty"][0]) and history.history["penalty"][0] > 0
    assert int(model.d_optimizer.iterations) == 10 and int(model.g_optimizer.iterations) == 2
    model.save(tmp_path / "wgan.keras")
    loaded = keras.saving.load_model(tmp_path / "wgan.keras")
    assert isinstance(loaded, kgan.WGANGP) and loaded.d_steps == 5
    assert loaded.d_optimizer.beta_2 == 0.9


def test_generator_ema_follows_its_formula_and_is_saved(tmp_path):
    images, labels = toy_data(n=16)
    # The n-th update uses d = min(ema_decay, (1 + n) / (10 + n)): 2/11 at the first.
    for decay, first in ((0.999, 2 / 11), (0.1, 0.1)):
        model = toy_cgan(ema_decay=decay)
        model.compile()
        start = weights_of(model.generator)
        model.fit(images, labels, batch_size=16, epochs=1, verbose=0)  # one generator update
        now, ema = model.generator.get_weights(), model.ema_generator.get_weights()
        assert not all(np.allclose(a, b) for a, b in zip(start, now))
        for s, w, e in zip(start, now, ema):
            np.testing.assert_allclose(e, first * s + (1 - first) * w, rtol=1e-5, atol=1e-6)
        # the second update: 3/12 (or ema_decay when lower)
        previous = ema
        model.fit(images, labels, batch_size=16, epochs=1, verbose=0)
        second = min(decay, 3 / 12)
        now, ema = model.generator.get_weights(), model.ema_generator.get_weights()
        for p, w, e in zip(previous, now, ema):
            np.testing.assert_allclose(e, second * p + (1 - second) * w, rtol=1e-5, atol=1e-6)
    assert not model.ema_generator.trainable_weights

    # generate() draws from the average, and the average survives a save and load
    z = np.random.default_rng(1).normal(size=(2, 8)).astype("float32")
    expected = model.ema_generator([z, np.array([0, 1], "int32")], training=False).numpy()
    np.testing.assert_allclose(model.generate(latents=z, labels=[0, 1]), expected, atol=1e-6)
    model.save(tmp_path / "ema.keras")
    loaded = keras.saving.load_model(tmp_path / "ema.keras")
    assert loaded.ema_decay == 0.1
    np.testing.assert_allclose(loaded.generate(latents=z, labels=[0, 1]), expected, atol=1e-6)
    with pytest.raises(ValueError, match="ema_decay"):
        toy_cgan(ema_decay=1.5)


def test_pack_puts_consecutive_samples_side_by_side():
    gan = kgan.models.build_trainer("gan", (3,), pack=2, seed=0)
    assert gan.discriminator.inputs[0].shape[1:] == (6,)
    vectors = np.arange(12, dtype="float32").reshape(4, 3)
    np.testing.assert_array_equal(np.asarray(gan._pack(vectors)), vectors.reshape(2, 6))
    image_gan = kgan.models.build_trainer("gan", SHAPE, pack=3, width=4, seed=0)
    assert image_gan.discriminator.inputs[0].shape[1:] == (8, 8, 3)
    images = np.random.default_rng(0).normal(size=(6, 8, 8, 1)).astype("float32")
    packed = np.asarray(image_gan._pack(images))  # [2, 8, 8, 3]
    for group in range(2):
        for member in range(3):
            expected = images[3 * group + member, ..., 0]
            np.testing.assert_array_equal(packed[group, ..., member], expected)


def test_packed_gan_trains_round_trips_and_checks_its_arguments(tmp_path):
    gan = kgan.models.build_trainer("gan", (2,), pack=4, r1=1.0, seed=0)
    gan.compile()
    points = np.random.default_rng(0).normal(size=(64, 2)).astype("float32")
    d_before = weights_of(gan.discriminator)
    history = gan.fit(points, batch_size=16, epochs=1, verbose=0)
    assert all(np.isfinite(v[0]) for v in history.history.values())
    assert any(not np.allclose(a, b) for a, b in zip(d_before, gan.discriminator.get_weights()))
    path = str(tmp_path / "packed.keras")
    gan.save(path)
    assert keras.saving.load_model(path).pack == 4
    with pytest.raises((ValueError, tf.errors.InvalidArgumentError), match="multiple of 4"):
        gan.fit(points[:30], batch_size=30, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="packed 2 at a time"):
        kgan.GAN(networks.mlp_generator(), networks.mlp_discriminator(2), pack=2)
    with pytest.raises(ValueError, match="unconditional"):
        kgan.models.build_trainer("cgan", SHAPE, num_classes=3, width=4, pack=2)
    with pytest.raises(ValueError, match="pack must be"):
        kgan.GAN(networks.mlp_generator(), networks.mlp_discriminator(), pack=0)


def test_top_k_moves_the_generator_with_its_best_scored_samples_only(tmp_path):
    gan = kgan.models.build_trainer("gan", (2,), top_k=0.25, top_k_decay=0.5, seed=0)
    gan.compile()
    logits = tf.Variable([[3.0], [-1.0], [0.5], [2.0], [-4.0], [1.0], [0.0], [-2.0]])

    def gradient_at(step):
        gan.g_optimizer.iterations.assign(step)
        with tf.GradientTape() as tape:
            objective = gan._top_k_objective(logits)
        return tape.gradient(objective, logits).numpy()[:, 0]

    def gradient_of_mean_loss_over(kept):
        with tf.GradientTape() as tape:
            loss = gan.g_loss_fn(tf.gather(logits, kept))
        return tf.convert_to_tensor(tape.gradient(loss, logits)).numpy()[:, 0]

    # Step 0 keeps every sample: the plain loss. 0.5 ** 1 keeps the 4 highest logits, and
    # from step 2 on the fraction stops at top_k: the 2 highest.
    for step, kept in ((0, np.arange(8)), (1, [0, 2, 3, 5]), (10, [0, 3])):
        gradient = gradient_at(step)
        np.testing.assert_allclose(gradient, gradient_of_mean_loss_over(kept), rtol=1e-6)
        assert set(np.flatnonzero(gradient)) == set(kept)
    points = np.random.default_rng(0).normal(size=(64, 2)).astype("float32")
    history = gan.fit(points, batch_size=16, epochs=1, verbose=0)
    assert all(np.isfinite(v[0]) for v in history.history.values())
    path = str(tmp_path / "top_k.keras")
    gan.save(path)
    loaded = keras.saving.load_model(path)
    assert (loaded.top_k, loaded.top_k_decay) == (0.25, 0.5)
    for bad in ({"top_k": 0.0}, {"top_k": 1.5}, {"top_k": 0.5, "top_k_decay": 0.0}):
        with pytest.raises(ValueError, match="top_k"):
            kgan.GAN(networks.mlp_generator(), networks.mlp_discriminator(), **bad)


def test_lazy_r1_takes_the_weighted_penalty_every_nth_update_only():
    images, _ = toy_data(n=16)
    real = tf.constant(images)
    lazy = toy_gan(r1=1.0, r1_interval=3)
    lazy.compile()
    eager = toy_gan(r1=1.0)
    eager.compile()
    full = float(eager._d_penalty(real, real, None, None))
    assert full > 0
    taken = []
    for iteration in range(5):
        lazy.d_optimizer.iterations.assign(iteration)
        taken.append(float(lazy._d_penalty(real, real, None, None)))
    np.testing.assert_allclose(taken, [3 * full, 0, 0, 3 * full, 0], rtol=1e-5)
    # In fit: the first update (iteration 0) is that of R1 three times as strong, every time.
    lazy, strong = toy_gan(r1=1.0, r1_interval=3), toy_gan(r1=3.0)
    for model in (lazy, strong):
        model.compile(d_optimizer=keras.optimizers.SGD(0.5), g_optimizer=keras.optimizers.SGD(0.5))
        model.fit(images, batch_size=16, epochs=1, verbose=0)
    for a, b in zip(lazy.discriminator.get_weights(), strong.discriminator.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-6)
    assert kgan.GAN.from_config(lazy.get_config()).r1_interval == 3
    with pytest.raises(ValueError, match="r1_interval"):
        toy_gan(r1=1.0, r1_interval=0)
