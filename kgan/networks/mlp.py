"""Multilayer perceptrons for vector data such as the 2-D Gaussian mixtures."""

import keras
from keras import layers

from kgan.networks.common import (
    check_hidden_units,
    check_num_classes,
    concat_label_embedding,
    label_input,
    maybe_spectral_norm,
    projection,
)
from kgan.sampling import check_positive_int


def _check_units(data_dim, hidden_units):
    """`(data_dim, hidden_units)` checked."""
    return check_positive_int("data_dim", data_dim), check_hidden_units(hidden_units)


def mlp_generator(
    data_dim=2,
    latent_dim=2,
    num_classes=None,
    hidden_units=(128, 128, 128),
    embedding_dim=8,
    name="generator",
):
    """Builds an MLP generator from latents (and labels) to unbounded vectors.

    Args:
        data_dim: size of the generated vectors.
        latent_dim: size of the latent vector.
        num_classes: number of classes for a conditional generator, or None.
        hidden_units: widths of the hidden ReLU layers.
        embedding_dim: size of the label embedding concatenated to the latents.
        name: the model's name.

    Returns:
        A functional `keras.Model` from `latents` `[batch, latent_dim]` (and `labels`) to
        `[batch, data_dim]`.

    Example:
        >>> g = kgan.networks.mlp_generator(data_dim=2, latent_dim=2)
    """
    data_dim, hidden_units = _check_units(data_dim, hidden_units)
    check_num_classes(num_classes)
    latents = keras.Input(shape=(latent_dim,), name="latents")
    inputs = [latents]
    x = latents
    if num_classes is not None:
        labels = label_input()
        inputs.append(labels)
        x = concat_label_embedding(latents, labels, num_classes, embedding_dim, name)
    for i, units in enumerate(hidden_units):
        x = layers.Dense(units, activation="relu", name=f"hidden{i + 1}")(x)
    outputs = layers.Dense(data_dim, dtype="float32", name="samples")(x)
    return keras.Model(inputs if len(inputs) > 1 else latents, outputs, name=name)


def mlp_discriminator(
    data_dim=2,
    num_classes=None,
    hidden_units=(128, 128, 128),
    spectral_norm=False,
    name="discriminator",
):
    """Builds an MLP discriminator returning one logit per vector.

    Args:
        data_dim: size of the input vectors.
        num_classes: number of classes for a projection head, or None.
        hidden_units: widths of the hidden LeakyReLU(0.2) layers.
        spectral_norm: wrap every dense layer in `keras.layers.SpectralNormalization`.
        name: the model's name.

    Returns:
        A functional `keras.Model` from `samples` `[batch, data_dim]` (and `labels`) to logits
        `[batch, 1]`.

    Example:
        >>> d = kgan.networks.mlp_discriminator(data_dim=2)
    """
    data_dim, hidden_units = _check_units(data_dim, hidden_units)
    check_num_classes(num_classes)
    samples = keras.Input(shape=(data_dim,), name="samples")
    inputs = [samples]
    labels = None
    if num_classes is not None:
        labels = label_input()
        inputs.append(labels)
    x = samples
    for i, units in enumerate(hidden_units):
        x = maybe_spectral_norm(layers.Dense(units, name=f"hidden{i + 1}"), spectral_norm)(x)
        x = layers.LeakyReLU(0.2, name=f"hidden{i + 1}_lrelu")(x)
    logits = projection(x, labels, num_classes, spectral_norm, "head")
    logits = layers.Activation("linear", dtype="float32", name="logits")(logits)
    return keras.Model(inputs if len(inputs) > 1 else samples, logits, name=name)
