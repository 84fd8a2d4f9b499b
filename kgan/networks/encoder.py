"""Encoders from data to a code vector, for trainers that learn an inverse of their generator."""

import keras
from keras import layers

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

    Args:
        input_shape: `(height, width, channels)` with sides divisible by 4, or `(dim,)`.
        code_dim: size of the output code.
        width: images only: channels of the first convolution.
        hidden_units: widths of the dense hidden layers.
        name: the model's name.

    Returns:
        A functional `keras.Model` from `[batch, *input_shape]` to `[batch, code_dim]` (float32,
        no activation).

    Example:
        >>> encoder = kgan.networks.code_encoder((28, 28, 1), code_dim=40)
        >>> encoder(np.zeros((2, 28, 28, 1))).shape
        TensorShape([2, 40])
    """
    shape = check_data_shape(input_shape, "input_shape")
    code_dim = check_positive_int("code_dim", code_dim)
    width = check_positive_int("width", width)
    if any(not isinstance(u, int) or u < 1 for u in hidden_units):
        raise ValueError(f"hidden_units must be positive ints; got {hidden_units!r}")
    inputs = keras.Input(shape=shape, name="data")
    x = inputs
    if len(shape) == 3:
        for i, filters in enumerate((width, 2 * width)):
            x = layers.Conv2D(filters, 4, strides=2, padding="same", name=f"down{i + 1}")(x)
            x = layers.LeakyReLU(0.2, name=f"down{i + 1}_lrelu")(x)
        x = layers.Flatten(name="features")(x)  # [batch, h/4 * w/4 * 2 width]
    for i, units in enumerate(hidden_units):
        x = layers.Dense(units, name=f"hidden{i + 1}")(x)
        x = layers.LeakyReLU(0.2, name=f"hidden{i + 1}_lrelu")(x)
    code = layers.Dense(code_dim, dtype="float32", name="code")(x)
    return keras.Model(inputs, code, name=name)


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
