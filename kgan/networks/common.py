"""Pieces shared by the network builders."""

import keras
import numpy as np
from keras import layers


def maybe_spectral_norm(layer, spectral_norm):
    """Wraps `layer` in `keras.layers.SpectralNormalization` when asked to."""
    if spectral_norm:
        return layers.SpectralNormalization(layer, name=f"{layer.name}_sn")
    return layer


def check_hidden_units(hidden_units, allow_empty=False):
    """Raises a `ValueError` unless `hidden_units` is a sequence of ints >= 1 (a bool is not
    one), non-empty unless `allow_empty`; returns it as a tuple of ints."""
    units = tuple(hidden_units) if isinstance(hidden_units, (list, tuple)) else None
    if (
        units is None
        or (not units and not allow_empty)
        or any(isinstance(u, bool) or not isinstance(u, int | np.integer) or u < 1 for u in units)
    ):
        kind = "a sequence" if allow_empty else "a non-empty sequence"
        raise ValueError(f"hidden_units must be {kind} of ints >= 1; got {hidden_units!r}")
    return tuple(int(u) for u in units)


def check_num_classes(num_classes):
    if num_classes is not None and (not isinstance(num_classes, int) or num_classes < 2):
        raise ValueError(
            f"num_classes must be an int >= 2, or None for an unconditional network; "
            f"got {num_classes!r}"
        )


def label_input():
    return keras.Input(shape=(), dtype="int32", name="labels")


def projection(features, labels, num_classes, spectral_norm, name):
    """Unconditional logit plus the projection term `<embed(y), phi(x)>` (Miyato & Koyama 2018).

    Args:
        features: `[batch, f]` discriminator features.
        labels: `[batch]` int labels, or None for an unconditional head.
        num_classes: number of classes, or None.
        spectral_norm: whether the linear head is spectrally normalized.
        name: prefix of the layer names.

    Returns:
        `[batch, 1]` logits.
    """
    logits = maybe_spectral_norm(layers.Dense(1, name=f"{name}_logit"), spectral_norm)(features)
    if num_classes is None:
        return logits
    embedded = layers.Embedding(num_classes, features.shape[-1], name=f"{name}_projection")(labels)
    proj = layers.Dot(axes=1, name=f"{name}_project")([embedded, features])  # [batch, 1]
    return layers.Add(name=f"{name}_output")([logits, proj])


def concat_label_embedding(latents, labels, num_classes, embedding_dim, name):
    """Concatenates `[batch, latent_dim]` latents with a learned label embedding."""
    embedded = layers.Embedding(num_classes, embedding_dim, name=f"{name}_label_embedding")(labels)
    return layers.Concatenate(name=f"{name}_conditioned")([latents, embedded])
