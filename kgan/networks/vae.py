"""Encoders and decoders of variational autoencoders, for images and for vectors.

Images `(height, width, channels)` with sides divisible by 4 get convolutional networks: two
stride-2 convolutions down to a `side/4` map in the encoder, a dense projection and two stride-2
transposed convolutions back up in the decoder. Vectors `(dim,)` get MLPs. Both networks end in
a linear layer: the encoder returns the posterior's raw parameters and the decoder the
likelihood's, which `kgan.models.VAE` turns into distributions.
"""

import keras
from keras import layers

from kgan.networks.common import check_hidden_units
from kgan.sampling import check_positive_int


def check_data_shape(shape, argument):
    shape = tuple(shape)
    ok_vector = len(shape) == 1 and isinstance(shape[0], int) and shape[0] > 0
    ok_image = (
        len(shape) == 3
        and all(isinstance(s, int) and s > 0 for s in shape)
        and shape[0] % 4 == 0
        and shape[1] % 4 == 0
    )
    if not (ok_vector or ok_image):
        raise ValueError(
            f"{argument} must be (height, width, channels) with height and width divisible by 4, "
            f"e.g. (28, 28, 1), or (dim,) for vectors, e.g. (2,); got {shape!r}"
        )
    return shape


def _check_sizes(latent_dim, width, hidden_units):
    latent_dim = check_positive_int("latent_dim", latent_dim)
    width = check_positive_int("width", width)
    return latent_dim, width, check_hidden_units(hidden_units)


def vae_encoder(
    input_shape=(28, 28, 1),
    latent_dim=16,
    width=32,
    hidden_units=(256, 256),
    name="encoder",
):
    """Builds the encoder of a VAE: data to the parameters of a diagonal Gaussian posterior.

    Args:
        input_shape: `(height, width, channels)` for images (sides divisible by 4) or `(dim,)`
            for vectors.
        latent_dim: size of the latent vector.
        width: images only: channels of the first stride-2 convolution; the second has
            `2 * width`.
        hidden_units: vectors only: widths of the hidden ReLU layers.
        name: the model's name.

    Returns:
        A functional `keras.Model` from `[batch, *input_shape]` to `[batch, 2 * latent_dim]`:
        the posterior's location, then its scale before the softplus.

    Example:
        >>> encoder = kgan.networks.vae_encoder((28, 28, 1), latent_dim=16)
        >>> encoder(np.zeros((2, 28, 28, 1))).shape
        TensorShape([2, 32])
    """
    shape = check_data_shape(input_shape, "input_shape")
    latent_dim, width, hidden_units = _check_sizes(latent_dim, width, hidden_units)
    inputs = keras.Input(shape=shape, name="data")
    x = inputs
    if len(shape) == 3:
        for i, filters in enumerate((width, 2 * width)):
            x = layers.Conv2D(
                filters, 4, strides=2, padding="same", activation="relu", name=f"down{i + 1}"
            )(x)
        x = layers.Flatten(name="features")(x)  # [batch, h/4 * w/4 * 2 width]
    else:
        for i, units in enumerate(hidden_units):
            x = layers.Dense(units, activation="relu", name=f"hidden{i + 1}")(x)
    params = layers.Dense(2 * latent_dim, dtype="float32", name="posterior_params")(x)
    return keras.Model(inputs, params, name=name)


def vae_decoder(
    output_shape=(28, 28, 1),
    latent_dim=16,
    width=32,
    hidden_units=(256, 256),
    outputs_per_pixel=1,
    name="decoder",
):
    """Builds the decoder of a VAE: latents to the raw parameters of the data's likelihood.

    Args:
        output_shape: `(height, width, channels)` for images (sides divisible by 4) or `(dim,)`
            for vectors.
        latent_dim: size of the latent vector.
        width: images only: channels of the last hidden feature map; the `side/4` and `side/2`
            maps have `2 * width`.
        hidden_units: vectors only: widths of the hidden ReLU layers.
        outputs_per_pixel: 1 for one parameter per value (Bernoulli logits, or the location of
            a Gaussian or Laplace likelihood), 2 for a location and a scale per value (the last
            axis then holds the `channels` locations, then the `channels` raw scales).
        name: the model's name.

    Returns:
        A functional `keras.Model` from latents `[batch, latent_dim]` to
        `[batch, *output_shape]`, or `[batch, *output_shape[:-1], 2 * channels]` with
        `outputs_per_pixel=2`. The outputs are unbounded (no activation).

    Example:
        >>> decoder = kgan.networks.vae_decoder((28, 28, 1), latent_dim=16)
        >>> decoder(np.zeros((2, 16))).shape
        TensorShape([2, 28, 28, 1])
    """
    shape = check_data_shape(output_shape, "output_shape")
    latent_dim, width, hidden_units = _check_sizes(latent_dim, width, hidden_units)
    if outputs_per_pixel not in (1, 2):
        raise ValueError(f"outputs_per_pixel must be 1 or 2; got {outputs_per_pixel!r}")
    latents = keras.Input(shape=(latent_dim,), name="latents")
    x = latents
    if len(shape) == 3:
        height, image_width, channels = shape
        h, w = height // 4, image_width // 4
        x = layers.Dense(h * w * 2 * width, activation="relu", name="project")(x)
        x = layers.Reshape((h, w, 2 * width), name="to_map")(x)  # [batch, h/4, w/4, 2 width]
        for i, filters in enumerate((2 * width, width)):
            x = layers.Conv2DTranspose(
                filters, 4, strides=2, padding="same", activation="relu", name=f"up{i + 1}"
            )(x)
        outputs = layers.Conv2D(
            channels * outputs_per_pixel, 3, padding="same", dtype="float32", name="likelihood"
        )(x)
    else:
        for i, units in enumerate(hidden_units):
            x = layers.Dense(units, activation="relu", name=f"hidden{i + 1}")(x)
        outputs = layers.Dense(shape[0] * outputs_per_pixel, dtype="float32", name="likelihood")(x)
    return keras.Model(latents, outputs, name=name)
