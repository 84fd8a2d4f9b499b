import keras
import numpy as np
import pytest
import tensorflow as tf

from kgan import networks
from kgan.models import VAEGAN, build_vaegan

SHAPE = (8, 8, 1)
LATENT = 3


def patterns(n=256, seed=0):
    """Four fixed binary 8x8 images in {-1, 1}, repeated."""
    rng = np.random.default_rng(seed)
    fixed = np.where(rng.random((4, *SHAPE)) > 0.5, 1.0, -1.0).astype("float32")
    return fixed[rng.integers(0, 4, n)]


def tiny_networks(latent_dim=LATENT, width=4):
    keras.utils.set_random_seed(0)
    encoder = networks.vae_encoder(SHAPE, latent_dim, width=4)
    decoder = networks.dcgan_generator(SHAPE, latent_dim, width=4, name="decoder")
    discriminator = networks.dcgan_discriminator(SHAPE, width=width)
    return encoder, decoder, discriminator


def tiny_vaegan(**kwargs):
    kwargs.setdefault("seed", 0)
    return VAEGAN(*tiny_networks(), **kwargs)


def softplus(x):
    return np.logaddexp(0.0, x)


# The step against a computation by hand ----------------------------------------------------


@pytest.mark.parametrize(
    "feature_layer, gamma, beta", [(None, 1e-2, 1.0), ("down1_lrelu", 0.3, 0.7)]
)
def test_step_reports_and_applies_each_networks_own_loss(feature_layer, gamma, beta):
    model = tiny_vaegan(feature_layer=feature_layer, gamma=gamma, beta=beta)
    lr = 0.05
    model.compile(
        e_optimizer=keras.optimizers.SGD(lr),
        g_optimizer=keras.optimizers.SGD(lr),
        d_optimizer=keras.optimizers.SGD(lr),
        jit_compile=False,
    )
    x = patterns(16)
    state = model.seed_generator.state.numpy()
    noise = keras.random.normal((16, LATENT), seed=model.seed_generator)
    prior_latents = keras.random.normal((16, LATENT), seed=model.seed_generator)
    model.seed_generator.state.assign(state)
    name = feature_layer or "features"
    d = model.discriminator
    features = keras.Model(d.inputs[0], d.get_layer(name).output)
    nets = (model.encoder, model.decoder, d)
    before = [[v.numpy() for v in net.trainable_variables] for net in nets]

    with tf.GradientTape(persistent=True) as tape:
        params = model.encoder(x, training=True)
        loc, scale = params[:, :LATENT], tf.nn.softplus(params[:, LATENT:]) + 1e-4
        z = loc + scale * noise
        # Closed form of KL(N(loc, scale^2) || N(0, I)), summed over the latents.
        kl = tf.reduce_mean(
            0.5 * tf.reduce_sum(loc**2 + scale**2 - 1.0 - 2.0 * tf.math.log(scale), axis=1)
        )
        fakes = model.decoder(tf.concat([z, prior_latents], 0), training=True)
        recon_error = features(fakes[:16]) - features(x)
        llike = tf.reduce_mean(0.5 * tf.reduce_sum(tf.reshape(recon_error**2, (16, -1)), 1))
        real_logits, fake_logits = d(x), d(fakes)
        d_loss = tf.reduce_mean(tf.nn.softplus(-real_logits)) + tf.reduce_mean(
            tf.nn.softplus(fake_logits)
        )
        g_loss = tf.reduce_mean(tf.nn.softplus(-fake_logits))
        objectives = (beta * kl + llike, gamma * llike + g_loss, d_loss)
    expected_grads = [tape.gradient(o, n.trainable_variables) for o, n in zip(objectives, nets)]
    pixel_mse = float(np.mean((fakes[:16].numpy() - x) ** 2))

    logs = model.train_on_batch(x, return_dict=True)

    hand = {
        "kl": kl,
        "reconstruction": llike,
        "d_loss": d_loss,
        "g_loss": g_loss,
        "pixel_mse": pixel_mse,
    }
    for key, value in hand.items():
        np.testing.assert_allclose(logs[key], float(value), rtol=1e-4, atol=1e-6, err_msg=key)
    assert logs["reconstruction"] > 0 and logs["kl"] > 0
    for net, old, grads in zip(nets, before, expected_grads):
        moved = 0.0
        for variable, start, grad in zip(net.trainable_variables, old, grads):
            delta = variable.numpy() - start
            np.testing.assert_allclose(delta, -lr * grad.numpy(), rtol=1e-3, atol=1e-6)
            moved += float(np.abs(delta).sum())
        assert moved > 0, f"the {net.name} did not move"


def test_kl_term_uses_tfp_and_matches_closed_form():
    model = tiny_vaegan()
    loc = np.array([[0.5, -1.0, 0.0]], "float32")
    scale = np.array([[0.3, 1.0, 2.0]], "float32")
    kl = float(
        tf.reduce_sum(model._posterior(loc, scale).kl_divergence(model.prior_distribution()))
    )
    closed = 0.5 * np.sum(loc**2 + scale**2 - 1.0 - 2.0 * np.log(scale))
    np.testing.assert_allclose(kl, closed, rtol=1e-5)


def test_default_feature_layer_is_the_input_of_the_logit_head():
    encoder, decoder, _ = tiny_networks()
    for kwargs in ({}, {"dropout": 0.3}, {"spectral_norm": True}):
        d = networks.dcgan_discriminator(SHAPE, width=4, **kwargs)
        assert VAEGAN(encoder, decoder, d).feature_layer == "features"
    inputs = keras.Input(SHAPE)
    hidden = keras.layers.Dense(5, name="hidden")(keras.layers.Flatten(name="flat")(inputs))
    custom = keras.Model(inputs, keras.layers.Dense(1, name="logit")(hidden))
    assert VAEGAN(encoder, decoder, custom).feature_layer == "hidden"


# Training -------------------------------------------------------------------------------------


def test_training_on_toy_images_keeps_losses_finite_and_learns_to_reconstruct():
    encoder, decoder, discriminator = tiny_networks(width=8)
    model = VAEGAN(encoder, decoder, discriminator, "down1_lrelu", beta=0.05, seed=0)
    model.compile(
        e_optimizer=keras.optimizers.Adam(3e-3),
        g_optimizer=keras.optimizers.Adam(3e-3),
        d_optimizer=keras.optimizers.Adam(3e-4),
    )
    assert model._step_jit
    x = patterns(256)
    start = np.mean((model.reconstruct(x) - x) ** 2)
    history = model.fit(x, batch_size=32, epochs=6, verbose=0).history
    for key in ("d_loss", "g_loss", "kl", "reconstruction", "pixel_mse"):
        assert np.all(np.isfinite(history[key])), key
    assert history["reconstruction"][-1] < 0.7 * history["reconstruction"][0]
    assert history["pixel_mse"][-1] < 0.85 * history["pixel_mse"][0]
    assert np.mean((model.reconstruct(x) - x) ** 2) < 0.95 * start
    logs = model.evaluate(x, batch_size=64, verbose=0, return_dict=True)
    assert np.isfinite(logs["reconstruction"]) and np.isfinite(logs["d_loss"])


# Serialization ----------------------------------------------------------------------------------


def test_config_round_trip_and_keras_file_keep_the_model(tmp_path):
    model = tiny_vaegan(feature_layer="down2_lrelu", loss="hinge", gamma=0.2, beta=0.5)
    model.compile(jit_compile=False)
    x = patterns(32)
    model.fit(x, batch_size=16, epochs=1, verbose=0)

    clone = VAEGAN.from_config(model.get_config())
    assert clone.get_config() == model.get_config()
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(clone.encode(x), model.encode(x), atol=1e-6)

    path = str(tmp_path / "vaegan.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert isinstance(loaded, VAEGAN) and loaded.feature_layer == "down2_lrelu"
    assert (loaded.loss_name, loaded.gamma, loaded.beta) == ("hinge", 0.2, 0.5)
    np.testing.assert_array_equal(loaded.encode(x), model.encode(x))
    z = np.random.default_rng(1).standard_normal((5, LATENT)).astype("float32")
    np.testing.assert_array_equal(loaded.decode(z), model.decode(z))
    np.testing.assert_array_equal(loaded.generate(6, seed=3), model.generate(6, seed=3))
    np.testing.assert_array_equal(
        loaded.seed_generator.state.numpy(), model.seed_generator.state.numpy()
    )
    assert loaded.compiled
    assert int(loaded.d_optimizer.iterations) == int(model.d_optimizer.iterations) == 2
    assert isinstance(loaded.e_optimizer, keras.optimizers.RMSprop)
    # The discriminator's weights are saved once, not again under the feature sub-model.
    assert (
        len(loaded.weights)
        == len(model.weights)
        == sum(len(n.weights) for n in (model.encoder, model.decoder, model.discriminator))
    )


def test_inference_functions_have_fixed_signatures():
    model = tiny_vaegan()
    functions = model.inference_functions()
    assert sorted(functions) == ["decode", "encode", "generate"]
    x = patterns(5)
    z = functions["encode"](tf.constant(x))
    assert z.shape == (5, LATENT)
    np.testing.assert_allclose(z.numpy(), model.encode(x), atol=1e-6)
    images = functions["generate"](z)
    assert images.shape == (5, *SHAPE)
    assert np.all(np.abs(images.numpy()) <= 1.0)
    np.testing.assert_allclose(functions["decode"](z).numpy(), model.decode(z.numpy()), atol=1e-6)
    spec = functions["encode"].input_signature[0]
    assert tuple(spec.shape) == (None, *SHAPE)
    assert tuple(functions["decode"].input_signature[0].shape) == (None, LATENT)
    np.testing.assert_allclose(model.generate(latents=z.numpy()), model.decode(z.numpy()))
    assert model.reconstruct(x).shape == (5, *SHAPE)
    assert model.encode(x, sample=True, seed=0).shape == (5, LATENT)


def test_build_vaegan_builds_matching_networks():
    model = build_vaegan(SHAPE, latent_dim=4, width=4, seed=0)
    assert model.latent_dim == 4 and model.feature_layer == "features"
    assert model.generate(3, seed=0).shape == (3, *SHAPE)
    with pytest.raises(ValueError, match="VAEGAN works on images"):
        build_vaegan((2,))


# Errors -----------------------------------------------------------------------------------------


def test_bad_arguments_raise_clear_errors():
    encoder, decoder, discriminator = tiny_networks()
    with pytest.raises(ValueError, match=r"feature_layer 'nope' .* choose one of \['down1'"):
        VAEGAN(encoder, decoder, discriminator, feature_layer="nope")
    with pytest.raises(ValueError, match="feature_layer 'logits'"):
        VAEGAN(encoder, decoder, discriminator, feature_layer="logits")
    for bad in (-1.0, float("nan"), float("inf"), True, "big"):
        with pytest.raises(ValueError, match="gamma must be a finite float >= 0"):
            VAEGAN(encoder, decoder, discriminator, gamma=bad)
    with pytest.raises(ValueError, match="beta must be a finite float >= 0"):
        VAEGAN(encoder, decoder, discriminator, beta=-0.1)
    with pytest.raises(ValueError, match="unknown loss"):
        VAEGAN(encoder, decoder, discriminator, loss="nope")
    with pytest.raises(ValueError, match="encoder must be a keras.Model"):
        VAEGAN("encoder", decoder, discriminator)


def test_mismatched_or_conditional_networks_raise():
    encoder, decoder, discriminator = tiny_networks()
    wide_encoder = networks.vae_encoder(SHAPE, LATENT + 1, width=4)
    with pytest.raises(ValueError, match=r"encoder must return \(batch, 6\)"):
        VAEGAN(wide_encoder, decoder, discriminator)
    big_d = networks.dcgan_discriminator((12, 12, 1), width=4)
    with pytest.raises(ValueError, match=r"discriminator takes \(12, 12, 1\)"):
        VAEGAN(encoder, decoder, big_d)
    big_decoder = networks.dcgan_generator((12, 12, 1), LATENT, width=4)
    with pytest.raises(ValueError, match=r"decoder makes \(12, 12, 1\)"):
        VAEGAN(encoder, big_decoder, discriminator)
    conditional_g = networks.dcgan_generator(SHAPE, LATENT, num_classes=10, width=4)
    with pytest.raises(ValueError, match="unconditional networks"):
        VAEGAN(encoder, conditional_g, discriminator)
    conditional_d = networks.dcgan_discriminator(SHAPE, num_classes=10, width=4)
    with pytest.raises(ValueError, match="unconditional networks"):
        VAEGAN(encoder, decoder, conditional_d)


def test_bad_compile_data_and_inference_inputs_raise():
    model = tiny_vaegan()
    shared = keras.optimizers.Adam()
    with pytest.raises(ValueError, match="three distinct optimizers"):
        model.compile(e_optimizer=shared, g_optimizer=shared)
    with pytest.raises(ValueError, match="e_optimizer must be 'auto'"):
        model.compile(e_optimizer=3)
    model.compile(jit_compile=False)
    with pytest.raises(ValueError, match=r"built for images of shape \(8, 8, 1\)"):
        model.fit(np.zeros((4, 12, 12, 1), "float32"), verbose=0)
    with pytest.raises(ValueError, match=r"latents must have shape \(n, 3\)"):
        model.decode(np.zeros((2, 5)))
    with pytest.raises(ValueError, match=r"x must have shape \(n, 8, 8, 1\)"):
        model.encode(np.zeros((2, 8, 8)))
    with pytest.raises(ValueError, match="pass num_samples or latents"):
        model.generate()
