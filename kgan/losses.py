"""Adversarial losses and discriminator regularizers as pure functions.

Every loss takes raw discriminator outputs (logits, or critic values for the Wasserstein loss)
of shape `[batch]` or `[batch, 1]` and returns the mean over the batch. Distribution scaling
is the trainer's job, not the loss's.

References:
    Goodfellow et al. 2014 (minimax and non-saturating), Mao et al. 2017 (least squares),
    Lim & Ye 2017 / Miyato et al. 2018 (hinge), Arjovsky et al. 2017 (Wasserstein),
    Gulrajani et al. 2017 (gradient penalty), Mescheder et al. 2018 (R1).
"""

import keras
import tensorflow as tf
from keras import ops


def _flat(logits):
    return ops.reshape(ops.cast(logits, "float32"), (-1,))


# Discriminator side: lower is better for the discriminator.


def minimax_d_loss(real_logits, fake_logits):
    """Binary cross-entropy of the discriminator: `-log D(x) - log(1 - D(G(z)))`.

    Args:
        real_logits: discriminator logits on real data, `[batch]` or `[batch, 1]`.
        fake_logits: discriminator logits on generated data.

    Returns:
        Scalar mean loss.
    """
    return ops.mean(ops.softplus(-_flat(real_logits))) + ops.mean(ops.softplus(_flat(fake_logits)))


def minimax_g_loss(fake_logits):
    """The original (saturating) generator loss: `log(1 - D(G(z)))`.

    Args:
        fake_logits: discriminator logits on generated data.

    Returns:
        Scalar mean loss.
    """
    return ops.mean(-ops.softplus(_flat(fake_logits)))


non_saturating_d_loss = minimax_d_loss


def non_saturating_g_loss(fake_logits):
    """The non-saturating generator loss: `-log D(G(z))`.

    Args:
        fake_logits: discriminator logits on generated data.

    Returns:
        Scalar mean loss.
    """
    return ops.mean(ops.softplus(-_flat(fake_logits)))


def hinge_d_loss(real_logits, fake_logits):
    """Hinge loss of the discriminator: `max(0, 1 - D(x)) + max(0, 1 + D(G(z)))`.

    Args:
        real_logits: discriminator outputs on real data.
        fake_logits: discriminator outputs on generated data.

    Returns:
        Scalar mean loss.
    """
    return ops.mean(ops.relu(1.0 - _flat(real_logits))) + ops.mean(
        ops.relu(1.0 + _flat(fake_logits))
    )


def hinge_g_loss(fake_logits):
    """Generator side of the hinge loss: `-D(G(z))`.

    Args:
        fake_logits: discriminator outputs on generated data.

    Returns:
        Scalar mean loss.
    """
    return -ops.mean(_flat(fake_logits))


def least_squares_d_loss(real_logits, fake_logits):
    """Least-squares discriminator loss: `0.5 (D(x) - 1)^2 + 0.5 D(G(z))^2`.

    Args:
        real_logits: discriminator outputs on real data.
        fake_logits: discriminator outputs on generated data.

    Returns:
        Scalar mean loss.
    """
    return 0.5 * ops.mean(ops.square(_flat(real_logits) - 1.0)) + 0.5 * ops.mean(
        ops.square(_flat(fake_logits))
    )


def least_squares_g_loss(fake_logits):
    """Least-squares generator loss: `0.5 (D(G(z)) - 1)^2`.

    Args:
        fake_logits: discriminator outputs on generated data.

    Returns:
        Scalar mean loss.
    """
    return 0.5 * ops.mean(ops.square(_flat(fake_logits) - 1.0))


def wasserstein_d_loss(real_logits, fake_logits):
    """Critic loss of the Wasserstein GAN: `D(G(z)) - D(x)`.

    Args:
        real_logits: critic values on real data.
        fake_logits: critic values on generated data.

    Returns:
        Scalar mean loss.
    """
    return ops.mean(_flat(fake_logits)) - ops.mean(_flat(real_logits))


def wasserstein_g_loss(fake_logits):
    """Generator side of the Wasserstein GAN: `-D(G(z))`.

    Args:
        fake_logits: critic values on generated data.

    Returns:
        Scalar mean loss.
    """
    return -ops.mean(_flat(fake_logits))


LOSSES = {
    "minimax": (minimax_d_loss, minimax_g_loss),
    "non_saturating": (non_saturating_d_loss, non_saturating_g_loss),
    "hinge": (hinge_d_loss, hinge_g_loss),
    "least_squares": (least_squares_d_loss, least_squares_g_loss),
    "wasserstein": (wasserstein_d_loss, wasserstein_g_loss),
}


def get(name):
    """Resolves a loss name to its `(d_loss, g_loss)` pair of functions.

    Args:
        name: one of `"minimax"`, `"non_saturating"`, `"hinge"`, `"least_squares"`,
            `"wasserstein"`.

    Returns:
        A tuple `(d_loss_fn, g_loss_fn)`.

    Example:
        >>> d_loss, g_loss = kgan.losses.get("hinge")
    """
    if name not in LOSSES:
        raise ValueError(f"unknown loss {name!r}; choose one of {sorted(LOSSES)}")
    return LOSSES[name]


# Regularizers of the discriminator. `critic` is a callable from a batch of inputs to logits.


def _squared_grad_norm(critic, inputs):
    with tf.GradientTape() as tape:
        tape.watch(inputs)
        total = ops.sum(critic(inputs))
    grads = tape.gradient(total, inputs)  # [batch, ...]
    grads = ops.reshape(grads, (ops.shape(grads)[0], -1))
    return ops.sum(ops.square(grads), axis=1)  # [batch]


def gradient_penalty(critic, real, fake, seed=None, alpha=None):
    """WGAN-GP penalty `E[(||grad D(x_hat)||_2 - 1)^2]` on random interpolates of real and fake.

    Args:
        critic: callable mapping a batch of inputs to outputs `[batch]` or `[batch, 1]`.
        real: real inputs, `[batch, ...]`.
        fake: generated inputs of the same shape.
        seed: a `keras.random.SeedGenerator` or int for the interpolation weights.
        alpha: the interpolation weights `[batch, 1, ...]` in [0, 1], drawn by the caller
            (e.g. for a whole global batch under `tf.distribute`); `seed` is then unused.

    Returns:
        Scalar penalty (multiply by the weight, 10 in Gulrajani et al. 2017).
    """
    real = ops.cast(real, "float32")
    fake = ops.cast(fake, "float32")
    if alpha is None:
        shape = (ops.shape(real)[0],) + (1,) * (len(real.shape) - 1)
        alpha = keras.random.uniform(shape, seed=seed)  # [batch, 1, ...]
    alpha = ops.cast(alpha, "float32")
    interpolates = real + alpha * (fake - real)
    norms = ops.sqrt(_squared_grad_norm(critic, interpolates) + 1e-12)
    return ops.mean(ops.square(norms - 1.0))


def r1_penalty(critic, real):
    """R1 penalty `E[||grad D(x)||_2^2]` on real data (Mescheder et al. 2018).

    Args:
        critic: callable mapping a batch of inputs to outputs `[batch]` or `[batch, 1]`.
        real: real inputs, `[batch, ...]`.

    Returns:
        Scalar penalty; the usual regularizer is `gamma / 2` times this.
    """
    return ops.mean(_squared_grad_norm(critic, ops.cast(real, "float32")))
