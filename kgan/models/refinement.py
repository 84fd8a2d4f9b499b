"""Discriminator-driven latent refinement: a trained GAN's discriminator moves its latents.

A logistic discriminator's logit `D(x)` estimates `log p_data(x) / p_model(x)` up to a constant,
so the latent energy `E(z) = |z|^2 / 2 - D(G(z))` is low where the prior is dense and the
generated sample is realistic (Che et al. 2020, "Your GAN is Secretly an Energy-based Model and
You Should Use Discriminator Driven Latent Sampling", NeurIPS). This module takes a few gradient
steps down that energy from each latent, `z <- z - (step_size / 2) * grad E(z)`: the drift of
their Langevin sampler without its noise, which is also the latent-space form of discriminator
optimal transport (Tanaka 2019, "Discriminator optimal transport", NeurIPS), moving each sample a
short way towards higher discriminator scores.

Where the generator maps a connected latent space onto separate modes, it must place some
samples between them; there the generator is steep, so `grad E` is large and the refinement
moves those latents out of the gap, while latents inside a mode barely move. On the 25-Gaussian
grid this is what `benchmarks/mode_coverage.py` measures.
"""

import weakref

import numpy as np
import tensorflow as tf

from kgan.models.rejection import check_discriminator_model


def discriminator_latent_refinement(
    model,
    num_samples=None,
    latents=None,
    labels=None,
    seed=None,
    steps=10,
    step_size=0.01,
    batch_size=2048,
    return_latents=False,
):
    """Generates samples from latents refined by gradient steps on the discriminator's energy.

    Args:
        model: a kgan `GAN` or `ConditionalGAN` trained with a logistic loss
            (`"non_saturating"` or `"minimax"`) and `pack=1`.
        num_samples: how many samples; inferred from `latents` or `labels` when omitted.
        latents: `[n, latent_dim]` starting latents; drawn from N(0, I) (with `seed`, as
            `model.generate` draws them) when omitted.
        labels: for a conditional model: one int class for every sample, or `[n]` ints; when
            omitted, the classes are cycled as `model.generate` does. Labels are not refined.
        seed: int seed of the drawn latents.
        steps: gradient steps per latent (0 returns `model.generate`'s samples).
        step_size: `epsilon` of the update `z <- z - (epsilon / 2) * grad E(z)`.
        batch_size: latents refined per traced call.
        return_latents: also return the refined latents.

    Returns:
        A numpy array `[n, *sample_shape]` (and the refined `[n, latent_dim]` latents when
        asked), drawn by the generator `generate` uses (the moving average when there is one).

    Example:
        >>> points = kgan.models.discriminator_latent_refinement(gan, 2500, seed=0)
    """
    check_discriminator_model(model, "discriminator latent refinement")
    if isinstance(steps, bool) or not isinstance(steps, int | np.integer) or steps < 0:
        raise ValueError(f"steps must be an int >= 0; got {steps!r}")
    if (
        isinstance(step_size, bool)
        or not isinstance(step_size, int | float | np.floating)
        or not 0 < step_size < np.inf
    ):
        raise ValueError(f"step_size must be a positive, finite number; got {step_size!r}")
    if not isinstance(batch_size, int | np.integer) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int; got {batch_size!r}")
    latents, labels = model.generation_inputs(num_samples, latents, labels, seed)
    refine = _TRACED.get(model)
    if refine is None:  # traced once per model: later calls reuse the graph
        refine = _TRACED[model] = tf.function(_refine_fn(model), reduce_retracing=True)
    refined = []
    for start in range(0, latents.shape[0], batch_size):
        z = tf.constant(latents[start : start + batch_size])
        y = None if labels is None else tf.constant(labels[start : start + batch_size])
        refined.append(
            np.asarray(refine(z, y, tf.constant(steps), tf.constant(step_size, "float32")))
        )
    refined = np.concatenate(refined, axis=0)
    samples = model.generate(latents=refined, labels=labels, batch_size=batch_size)
    return (samples, refined) if return_latents else samples


_TRACED = weakref.WeakKeyDictionary()


def _refine_fn(model):
    def energy(z, y):
        x = model._generate_batch(z, y)
        logits = model.discriminator(x if y is None else [x, y], training=False)
        return 0.5 * tf.reduce_sum(tf.square(z), axis=-1) - tf.reshape(logits, [-1])

    def refine(z, y, steps, step_size):
        for _ in tf.range(steps):
            with tf.GradientTape() as tape:
                tape.watch(z)
                total = tf.reduce_sum(energy(z, y))
            z = z - 0.5 * step_size * tape.gradient(total, z)
        return z

    return refine
