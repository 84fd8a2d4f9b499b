import keras
import numpy as np
import pytest
import tensorflow as tf

from kgan import networks


@pytest.mark.parametrize("shape", [(28, 28, 1), (32, 32, 3), (8, 12, 1)])
@pytest.mark.parametrize("num_classes", [None, 10])
def test_dcgan_shapes_and_range(shape, num_classes):
    g = networks.dcgan_generator(shape, latent_dim=16, num_classes=num_classes, width=8)
    d = networks.dcgan_discriminator(shape, num_classes=num_classes, width=8)
    z = np.random.normal(size=(3, 16)).astype("float32")
    labels = np.array([0, 4, 9], "int32")
    images = g(z if num_classes is None else [z, labels]).numpy()
    assert images.shape == (3, *shape)
    assert images.min() >= -1.0 and images.max() <= 1.0
    logits = d(images if num_classes is None else [images, labels])
    assert logits.shape == (3, 1)


@pytest.mark.parametrize("bad", [(30, 30, 1), (28, 28, 0), (28, 28), (0, 28, 1)])
def test_dcgan_refuses_bad_image_shapes(bad):
    with pytest.raises(ValueError, match="divisible by 4"):
        networks.dcgan_generator(bad)
    with pytest.raises(ValueError, match="divisible by 4"):
        networks.dcgan_discriminator(bad)


def test_num_classes_must_be_an_int_of_at_least_two():
    with pytest.raises(ValueError, match="num_classes"):
        networks.dcgan_generator(num_classes=1)
    with pytest.raises(ValueError, match="num_classes"):
        networks.mlp_discriminator(num_classes=2.5)


def test_projection_discriminator_depends_on_the_label():
    d = networks.dcgan_discriminator((8, 8, 1), num_classes=3, width=4)
    # Give the projection embedding distinct rows so the label must change the logit.
    embedding = d.get_layer("head_projection")
    embedding.set_weights([np.eye(3, embedding.output_dim, dtype="float32")])
    images = np.random.uniform(-1, 1, size=(1, 8, 8, 1)).astype("float32")
    outputs = [float(d([images, np.array([k], "int32")])[0, 0]) for k in range(3)]
    assert len(set(np.round(outputs, 5))) == 3


def test_spectral_normalization_wraps_the_discriminator_layers():
    d = networks.dcgan_discriminator((8, 8, 1), width=4, spectral_norm=True)
    wrapped = [la for la in d.layers if isinstance(la, keras.layers.SpectralNormalization)]
    assert len(wrapped) == 3  # two convolutions and the dense head
    plain = networks.dcgan_discriminator((8, 8, 1), width=4)
    assert not any(isinstance(la, keras.layers.SpectralNormalization) for la in plain.layers)


def test_mlp_shapes():
    g = networks.mlp_generator(data_dim=3, latent_dim=4, num_classes=5, hidden_units=(16,))
    d = networks.mlp_discriminator(data_dim=3, num_classes=5, hidden_units=(16,))
    z = np.zeros((2, 4), "float32")
    x = g([z, np.array([1, 2], "int32")]).numpy()
    assert x.shape == (2, 3)
    assert d([x, np.array([1, 2], "int32")]).shape == (2, 1)
    with pytest.raises(ValueError, match="hidden_units"):
        networks.mlp_generator(hidden_units=())


@pytest.mark.parametrize(
    "build",
    [
        lambda: networks.dcgan_generator((8, 8, 1), latent_dim=8, num_classes=3, width=4),
        lambda: networks.dcgan_discriminator((8, 8, 1), num_classes=3, width=4, spectral_norm=True),
        lambda: networks.mlp_generator(2, 2, hidden_units=(8,)),
        lambda: networks.mlp_discriminator(2, num_classes=3, hidden_units=(8,)),
        lambda: networks.code_encoder((8, 8, 1), code_dim=(3, 5), width=2, hidden_units=(4,)),
    ],
)
def test_networks_round_trip_through_config_and_keras_files(build, tmp_path):
    model = build()
    inputs = []
    for spec in model.inputs:
        if spec.dtype == "int32":
            inputs.append(np.array([0, 2], "int32"))
        else:
            inputs.append(np.random.normal(size=(2, *spec.shape[1:])).astype("float32"))
    inputs = inputs if len(inputs) > 1 else inputs[0]
    expected = model(inputs, training=False).numpy()
    clone = model.__class__.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(clone(inputs, training=False).numpy(), expected, atol=1e-6)
    path = tmp_path / "net.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_allclose(loaded(inputs, training=False).numpy(), expected, atol=1e-6)


@pytest.mark.parametrize(
    "build, argument, value",
    [
        (lambda v: networks.vae_encoder((8, 8, 1), latent_dim=v), "latent_dim", True),
        (lambda v: networks.vae_decoder((8, 8, 1), width=v), "width", 0),
        (lambda v: networks.code_encoder((8, 8, 1), code_dim=v), "code_dim", 2.0),
        (lambda v: networks.code_encoder((8, 8, 1), code_dim=(3, v)), "code_dim", 0),
        (lambda v: networks.code_head(16, code_dim=v), "code_dim", -1),
        (lambda v: networks.joint_discriminator((8, 8, 1), latent_dim=v), "latent_dim", False),
    ],
)
def test_sizes_must_be_ints_of_at_least_one(build, argument, value):
    # A bool is not a size, though Python counts it as an int.
    with pytest.raises(ValueError, match=f"{argument} must be an int >= 1; got {value!r}"):
        build(value)
    assert build(np.int64(2)).count_params() > 0  # a numpy integer is one


def test_code_encoder_bodies_share_nothing_and_concatenate_their_codes():
    encoder = networks.code_encoder((8, 8, 1), code_dim=(3, 3, 5), width=2, hidden_units=(4,))
    x = tf.constant(np.random.default_rng(0).normal(size=(5, 8, 8, 1)), "float32")
    with tf.GradientTape(persistent=True) as tape:
        code = encoder(x)
        parts = code[:, :3], code[:, 3:6], code[:, 6:]
    assert code.shape == (5, 11)
    for i, part in enumerate(parts):
        grads = tape.gradient(part, encoder.trainable_weights)
        # Each part of the code depends on its own body's weights and on no other's.
        for weight, grad in zip(encoder.trainable_weights, grads):
            moves = grad is not None and bool(np.any(grad.numpy() != 0))
            assert moves == weight.path.startswith(f"body{i + 1}_"), weight.path
    # The features: the bodies' last hidden layers side by side.
    features = keras.Model(encoder.inputs, networks.code_features(encoder))(x)
    hidden = [encoder.get_layer(f"body{i}_hidden1_lrelu").output for i in (1, 2, 3)]
    expected = np.concatenate(keras.Model(encoder.inputs, hidden)(x), axis=1)
    np.testing.assert_allclose(features, expected, rtol=1e-6)
    # One body keeps the single encoder's layout, and its features are what the code reads.
    single = networks.code_encoder((8, 8, 1), code_dim=(3,), width=2, hidden_units=(4,))
    assert [layer.name for layer in single.layers][-1] == "code"
    assert networks.code_features(single).shape == (None, 4)
    with pytest.raises(ValueError, match="non-empty sequence"):
        networks.code_encoder((8, 8, 1), code_dim=())


@pytest.mark.parametrize(
    "build",
    [
        lambda units: networks.mlp_generator(2, 2, hidden_units=units),
        lambda units: networks.mlp_discriminator(2, hidden_units=units),
        lambda units: networks.vae_encoder((8, 8, 1), latent_dim=2, hidden_units=units),
        lambda units: networks.vae_decoder((8, 8, 1), latent_dim=2, hidden_units=units),
        lambda units: networks.code_encoder((8, 8, 1), code_dim=2, hidden_units=units),
    ],
)
def test_hidden_units_must_be_ints_of_at_least_one(build):
    for bad in ((8, True), (8, 0), (8, 2.0), 8):
        with pytest.raises(ValueError, match=r"hidden_units must be .*of ints >= 1; got"):
            build(bad)
    assert build((np.int64(4),)).count_params() > 0
