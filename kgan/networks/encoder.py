"""Encoders from data to a code vector, for trainers that learn an inverse of their generator."""

import re

import keras
from keras import layers

from kgan.networks.common import check_hidden_units
from kgan.networks.vae import check_data_shape
from kgan.sampling import check_positive_int


def code_encoder(
    input_shape=(28, 28, 1),
    code_dim=40,
    width=64,
    hidden_units=(1024,),
    name="encoder",
):
    """Builds an encoder from data to an unbounded code vector.

    Images get the DCGAN discriminator's body (two stride-2 4x4 convolutions with leaky ReLUs,
    `width` and `2 * width` channels), then dense leaky-ReLU layers; vectors get the dense layers
    alone. This is the encoder of ClusterGAN (Mukherjee et al. 2019) for MNIST with `width=64`,
    `hidden_units=(1024,)`.

    With `code_dim` a sequence of sizes, the encoder is that many such bodies side by side, none
    sharing a weight with another, each returning one part of the code; the parts are
    concatenated in order (`code_features` gives their last hidden layers side by side). Heads
    read this way are independent starts of one objective.

    Args:
        input_shape: `(height, width, channels)` with sides divisible by 4, or `(dim,)`.
        code_dim: size of the output code, or one size per independent body.
        width: images only: channels of the first convolution (of each body).
        hidden_units: widths of the dense hidden layers (of each body).
        name: the model's name.

    Returns:
        A functional `keras.Model` from `[batch, *input_shape]` to `[batch, sum(code_dim)]`
        (float32, no activation).

    Example:
        >>> encoder = kgan.networks.code_encoder((28, 28, 1), code_dim=40)
        >>> encoder(np.zeros((2, 28, 28, 1))).shape
        TensorShape([2, 40])
        >>> kgan.networks.code_encoder((28, 28, 1), code_dim=(10, 12), width=8).output.shape
        (None, 22)
    """
    shape = check_data_shape(input_shape, "input_shape")
    sizes = code_dim if isinstance(code_dim, (list, tuple)) else (code_dim,)
    if not sizes:
        raise ValueError(
            f"code_dim must be an int or a non-empty sequence of ints; got {code_dim!r}"
        )
    sizes = [check_positive_int("code_dim", size) for size in sizes]
    bodies = len(sizes) > 1
    width = check_positive_int("width", width)
    hidden_units = check_hidden_units(hidden_units, allow_empty=True)
    inputs = keras.Input(shape=shape, name="data")
    if not bodies:
        code = _encoder_body(inputs, shape, sizes[0], width, hidden_units, prefix="")
    else:
        codes = [
            _encoder_body(inputs, shape, size, width, hidden_units, prefix=f"body{i + 1}_")
            for i, size in enumerate(sizes)
        ]
        code = layers.Concatenate(dtype="float32", name="code")(codes)
    return keras.Model(inputs, code, name=name)


def code_features(encoder):
    """The features an encoder's code is read from, as a symbolic tensor of `encoder`'s graph:
    for `code_encoder`'s independent bodies, their last hidden layers side by side; for any
    other model, what its last layer reads.

    Args:
        encoder: a functional `keras.Model` (e.g. from `code_encoder`).

    Returns:
        A `[batch, d]` symbolic tensor computed from `encoder.inputs[0]`.
    """
    bodies = [layer for layer in encoder.layers if re.fullmatch(r"body\d+_code", layer.name)]
    if len(bodies) < 2:
        return encoder.layers[-1].input
    return layers.Concatenate(name="code_features")([layer.input for layer in bodies])


def _encoder_body(inputs, shape, code_dim, width, hidden_units, prefix):
    """One encoder body on `inputs`; returns its code."""
    x = inputs
    if len(shape) == 3:
        for i, filters in enumerate((width, 2 * width)):
            x = layers.Conv2D(filters, 4, strides=2, padding="same", name=f"{prefix}down{i + 1}")(x)
            x = layers.LeakyReLU(0.2, name=f"{prefix}down{i + 1}_lrelu")(x)
        x = layers.Flatten(name=f"{prefix}features")(x)  # [batch, h/4 * w/4 * 2 width]
    for i, units in enumerate(hidden_units):
        x = layers.Dense(units, name=f"{prefix}hidden{i + 1}")(x)
        x = layers.LeakyReLU(0.2, name=f"{prefix}hidden{i + 1}_lrelu")(x)
    return layers.Dense(code_dim, dtype="float32", name=f"{prefix}code")(x)


def code_head(feature_dim, code_dim, hidden_units=128, name="code_head"):
    """Builds a head that reads codes from another network's flat features: one dense
    leaky-ReLU layer, then `code_dim` linear outputs (InfoGAN's Q on the discriminator's body,
    Chen et al. 2016).

    Args:
        feature_dim: size of the features it reads.
        code_dim: size of its output (e.g. a categorical code's logits, then continuous codes).
        hidden_units: width of the hidden layer.
        name: the model's name.

    Returns:
        A functional `keras.Model` from `[batch, feature_dim]` to `[batch, code_dim]` (float32).

    Example:
        >>> head = kgan.networks.code_head(3136, code_dim=12)
    """
    feature_dim = check_positive_int("feature_dim", feature_dim)
    code_dim = check_positive_int("code_dim", code_dim)
    hidden_units = check_positive_int("hidden_units", hidden_units)
    features = keras.Input((feature_dim,), name="features")
    x = layers.Dense(hidden_units, name="hidden")(features)
    x = layers.LeakyReLU(0.2, name="hidden_lrelu")(x)
    codes = layers.Dense(code_dim, dtype="float32", name="codes")(x)
    return keras.Model(features, codes, name=name)
