"""Discriminators of (data, latent) pairs, for trainers that learn an inverse of their generator
adversarially (BiGAN / ALI)."""

import keras
from keras import layers

from kgan.networks.common import maybe_spectral_norm
from kgan.networks.vae import check_data_shape
from kgan.sampling import check_positive_int


def joint_discriminator(
    data_shape=(28, 28, 1),
    latent_dim=50,
    width=32,
    hidden_units=512,
    spectral_norm=False,
    dropout=0.2,
    name="discriminator",
):
    """Builds a discriminator of pairs `(x, z)` returning one logit per pair.

    The data branch is the DCGAN discriminator's body for images (two stride-2 4x4 convolutions
    with leaky ReLUs, `width` and `2 * width` channels) or a dense layer for vectors; the latent
    branch is one dense leaky-ReLU layer; their features are concatenated and go through one
    more dense leaky-ReLU layer (and dropout) to the logit, as in the MNIST discriminator of
    BiGAN (Donahue et al. 2017) and ALI (Dumoulin et al. 2017).

    Args:
        data_shape: `(height, width, channels)` with sides divisible by 4, or `(dim,)`.
        latent_dim: size of the latent input.
        width: images only: channels of the first convolution.
        hidden_units: units of the latent branch and of the joint layer (and of the data branch
            for vectors).
        spectral_norm: wrap every convolution and dense layer in
            `keras.layers.SpectralNormalization`.
        dropout: dropout rate before the logit (0 disables it).
        name: the model's name.

    Returns:
        A functional `keras.Model` taking `[data, latents]` and returning logits `[batch, 1]`
        (float32).

    Example:
        >>> d = kgan.networks.joint_discriminator((28, 28, 1), latent_dim=50)
        >>> d([np.zeros((2, 28, 28, 1)), np.zeros((2, 50))]).shape
        TensorShape([2, 1])
    """
    shape = check_data_shape(data_shape, "data_shape")
    latent_dim = check_positive_int("latent_dim", latent_dim)
    width = check_positive_int("width", width)
    hidden_units = check_positive_int("hidden_units", hidden_units)
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1); got {dropout}")

    def dense(units, layer_name):
        return maybe_spectral_norm(layers.Dense(units, name=layer_name), spectral_norm)

    data = keras.Input(shape=shape, name="data")
    latents = keras.Input(shape=(latent_dim,), name="latents")
    x = data
    if len(shape) == 3:
        for i, filters in enumerate((width, 2 * width)):
            conv = layers.Conv2D(filters, 4, strides=2, padding="same", name=f"down{i + 1}")
            x = maybe_spectral_norm(conv, spectral_norm)(x)
            x = layers.LeakyReLU(0.2, name=f"down{i + 1}_lrelu")(x)
        x = layers.Flatten(name="data_features")(x)
    else:
        x = layers.LeakyReLU(0.2, name="data_lrelu")(dense(hidden_units, "data_hidden")(x))
    z = layers.LeakyReLU(0.2, name="latent_lrelu")(dense(hidden_units, "latent_hidden")(latents))
    joint = layers.Concatenate(name="joint")([x, z])
    joint = layers.LeakyReLU(0.2, name="joint_lrelu")(dense(hidden_units, "joint_hidden")(joint))
    if dropout:
        joint = layers.Dropout(dropout, name="joint_dropout")(joint)
    logits = dense(1, "head")(joint)
    logits = layers.Activation("linear", dtype="float32", name="logits")(logits)
    return keras.Model([data, latents], logits, name=name)
