"""The sampling contract: how every `generate` path turns a seed into latents and labels.

One rule, used by the trainers' `generate`, the exported runners, the parity and golden checks,
the callbacks and the metrics, so that one seed gives the same samples on every path:

- latents are `numpy.random.default_rng(seed).standard_normal((n, latent_dim))` in float32;
- labels of a conditional model, when not given, cycle `0, 1, ..., num_classes - 1, 0, ...`;
  one int gives every sample that class;
- graph-side sampling (an exported `sample(num_samples, seed)` signature) draws
  `tf.random.stateless_normal((n, latent_dim), seed=[seed, 0])`.

Example:
    >>> latents, labels = kgan.sampling.generation_inputs(
    ...     num_samples=4, latent_dim=2, num_classes=10, seed=0)
    >>> labels
    array([0, 1, 2, 3], dtype=int32)
"""

import numpy as np


def check_positive_int(name, value):
    """Raises a `ValueError` naming `name` unless `value` is an int >= 1 (a numpy integer
    counts, a bool does not); returns it as an int. kgan's one check of counts and sizes."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{name} must be an int >= 1; got {value!r}")
    return int(value)


def draw_latents(num_samples, latent_dim, seed=None, rng=None):
    """N(0, I) latents `[num_samples, latent_dim]` float32 from `default_rng(seed)`.

    Args:
        num_samples: rows.
        latent_dim: columns.
        seed: int seed (None draws fresh entropy).
        rng: a `numpy.random.Generator` to draw from instead of a new one from `seed`.

    Returns:
        A float32 numpy array.
    """
    rng = np.random.default_rng(seed) if rng is None else rng
    return rng.standard_normal((num_samples, latent_dim)).astype("float32")


def cycled_labels(num_samples, num_classes):
    """`[num_samples]` int32 labels `0, 1, ..., num_classes - 1, 0, ...`."""
    return (np.arange(num_samples) % num_classes).astype("int32")


def grid_labels(num_classes, columns):
    """`[num_classes * columns]` int32 labels, one row of `columns` per class (sample grids)."""
    return np.repeat(np.arange(num_classes), columns).astype("int32")


def check_latents(latents, latent_dim):
    """`latents` as float32 `[n, latent_dim]`, or a `ValueError` that says the shape wanted."""
    latents = np.asarray(latents, dtype="float32")
    if latents.ndim != 2 or latents.shape[1] != latent_dim:
        raise ValueError(f"latents must have shape (n, {latent_dim}); got {latents.shape}")
    return latents


def generation_inputs(
    num_samples=None,
    latents=None,
    labels=None,
    seed=None,
    latent_dim=None,
    num_classes=None,
    conditional=None,
    draw=None,
    who="this model",
    labels_name="labels",
):
    """Checks and completes the arguments of a `generate` call.

    Args:
        num_samples: how many samples; inferred from `latents` or `labels` when None.
        latents: `[n, latent_dim]` latents; drawn when None.
        labels: `[n]` int labels, one int for every sample, or None (cycled when conditional).
        seed: int seed of the drawn latents.
        latent_dim: the latent size.
        num_classes: the number of classes of a conditional model (None: unknown, then labels
            must be given and are not range-checked).
        conditional: whether the model takes labels; by default whether `num_classes` is set.
        draw: `draw(num_samples, seed) -> [n, latent_dim]` for latents that are not N(0, I)
            (a learned prior); `draw_latents` by default.
        who: the model's name for error messages.
        labels_name: what error messages call the labels (e.g. `"clusters"`).

    Returns:
        `(latents, labels)`: float32 `[n, latent_dim]` and int32 `[n]` (None when
        unconditional).
    """
    conditional = num_classes is not None if conditional is None else bool(conditional)
    if labels is not None and not conditional:
        raise ValueError(f"{who} is unconditional: do not pass labels")
    if labels is not None and not np.isscalar(labels):
        labels = np.asarray(labels)
        if labels.ndim != 1:
            raise ValueError(f"{labels_name} must be a 1-D array of ints; got shape {labels.shape}")
        if num_samples is None:
            num_samples = labels.shape[0]
    if latents is not None:
        latents = check_latents(latents, latent_dim)
        if num_samples is None:
            num_samples = latents.shape[0]
    if num_samples is None:
        what = f"num_samples, latents or {labels_name}" if conditional else "num_samples or latents"
        raise ValueError(f"pass {what} to say how many samples")
    num_samples = check_positive_int("num_samples", num_samples)
    if latents is None:
        if draw is None:
            latents = draw_latents(num_samples, latent_dim, seed)
        else:
            latents = check_latents(draw(num_samples, seed), latent_dim)
    elif latents.shape[0] != num_samples:
        raise ValueError(f"got {latents.shape[0]} latents for num_samples={num_samples}")
    if not conditional:
        return latents, None
    if labels is None:
        if num_classes is None:
            raise ValueError(f"{who} does not say its number of classes: pass labels")
        return latents, cycled_labels(num_samples, num_classes)
    if np.isscalar(labels):
        labels = np.full((num_samples,), labels)
    if labels.shape[0] != num_samples:
        raise ValueError(f"got {labels.shape[0]} {labels_name} for num_samples={num_samples}")
    if not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"{labels_name} must be integers; got dtype {labels.dtype}")
    if num_classes is not None and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(
            f"{labels_name} must be in [0, {num_classes}); got values from {labels.min()} to "
            f"{labels.max()}"
        )
    return latents, labels.astype("int32")


def stateless_latents(num_samples, latent_dim, seed):
    """The graph-side rule: `tf.random.stateless_normal` latents from the seed `[seed, 0]`.

    Args:
        num_samples: int32 scalar tensor (or int).
        latent_dim: int.
        seed: int32 scalar tensor (or int).

    Returns:
        A float32 tensor `[num_samples, latent_dim]`.
    """
    import tensorflow as tf

    return tf.random.stateless_normal(tf.stack([num_samples, latent_dim]), seed=tf.stack([seed, 0]))


def cycled_labels_graph(num_samples, num_classes):
    """`cycled_labels` as int32 graph ops, for traced functions."""
    import tensorflow as tf

    return tf.range(num_samples, dtype=tf.int32) % num_classes
