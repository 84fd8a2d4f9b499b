"""Discriminator rejection sampling: a trained GAN's discriminator filters its generator's samples.

Azadi et al. 2019 ("Discriminator Rejection Sampling", ICLR): a logistic discriminator's logit
`D(x)` estimates `log p_data(x) / p_model(x)` up to a constant, so accepting a generated `x` with
probability `exp(D(x) - D*)` (`D*` the largest logit) draws from `p_data` when `D` is exact. As
discriminators are not, the paper accepts with `sigmoid(F(x) - gamma)`, where
`F(x) = D(x) - D* - log(1 - exp(D(x) - D* - eps))` and `gamma` is a percentile of `F` over a
burn-in draw: a lower percentile keeps more samples (the paper's 95th keeps few). `D*` is the
largest logit seen so far, starting with the burn-in's.
"""

import numpy as np

from kgan import sampling
from kgan.models.gan import GAN

LOGISTIC_LOSSES = ("non_saturating", "minimax")
_EPS = 1e-6


def check_discriminator_model(model, what="discriminator rejection sampling"):
    """Raises a `ValueError` unless `model` is a kgan GAN whose discriminator's logit is a log
    density ratio (a logistic loss) of single samples (`pack=1`)."""
    if not isinstance(model, GAN) or getattr(model, "discriminator", None) is None:
        raise ValueError(
            f"{what} needs a trained kgan GAN (with a discriminator); got {type(model).__name__}"
        )
    loss = getattr(model, "loss_name", None)
    if loss not in LOGISTIC_LOSSES:
        raise ValueError(
            f"{what} reads the discriminator's logit as a log density ratio, which only the "
            f"logistic losses {LOGISTIC_LOSSES} train; this model was trained with loss={loss!r}"
        )
    if getattr(model, "pack", 1) != 1:
        raise ValueError(
            f"this discriminator scores {model.pack} packed samples at a time, not one: "
            f"{what} needs an unpacked model (pack=1)"
        )


def _scores(logits, best):
    """`F`: `sigmoid(F)` is `exp(D - D*)`, the plain rejection sampling acceptance."""
    delta = np.minimum(logits - best, 0.0) - _EPS
    return delta - np.log1p(-np.exp(delta))


def discriminator_rejection_sample(
    model,
    num_samples,
    labels=None,
    seed=None,
    percentile=5.0,
    gamma=None,
    burn_in=10_000,
    batch_size=2048,
    max_draws=None,
    return_acceptance=False,
):
    """Draws samples from a GAN's generator, keeping those its discriminator accepts.

    Args:
        model: a kgan `GAN` or `ConditionalGAN` trained with a logistic loss
            (`"non_saturating"` or `"minimax"`) and `pack=1`.
        num_samples: how many samples to return.
        labels: for a conditional model: one int class for every sample, or `[num_samples]`
            ints; when omitted, the classes are cycled as `model.generate` does.
        seed: int seed of the latents and of the acceptance draws.
        percentile: `gamma` is this percentile of `F` over the burn-in draw; lower keeps more
            samples and filters less (0 < percentile < 100).
        gamma: a fixed `gamma` instead of the percentile's; 0 is plain rejection sampling
            (acceptance `exp(D(x) - D*)`, exact when the discriminator is).
        burn_in: generated samples that set the largest logit and `gamma`.
        batch_size: candidates drawn per round.
        max_draws: stop with an error after this many candidates (by default 100 times
            `num_samples` plus the burn-in).
        return_acceptance: also return the fraction of candidates accepted.

    Returns:
        A numpy array `[num_samples, *sample_shape]` (and the acceptance rate when asked).

    Example:
        >>> points = kgan.models.discriminator_rejection_sample(gan, 2500, seed=0)
    """
    check_discriminator_model(model)
    num_samples = sampling.check_positive_int("num_samples", num_samples)
    if gamma is None and not 0.0 < percentile < 100.0:
        raise ValueError(f"percentile must be in (0, 100); got {percentile!r}")
    if not isinstance(burn_in, int | np.integer) or burn_in < 100:
        raise ValueError(f"burn_in must be an int >= 100; got {burn_in!r}")
    if model.conditional:
        if labels is None:
            labels = sampling.cycled_labels(num_samples, model.num_classes)
        labels = np.broadcast_to(np.asarray(labels), (num_samples,)).astype("int32")
    elif labels is not None:
        raise ValueError(f"{type(model).__name__} is unconditional: do not pass labels")
    max_draws = max_draws or 100 * num_samples + burn_in
    rng = np.random.default_rng(seed)

    def candidates(n, wanted=None):
        z = sampling.draw_latents(n, model.latent_dim, rng=rng)
        if not model.conditional:
            x = model.generate(latents=z)
            return x, np.asarray(model.discriminator(x, training=False)).reshape(-1), None
        y = sampling.cycled_labels(n, model.num_classes) if wanted is None else wanted
        y = y.astype("int32")
        x = model.generate(latents=z, labels=y)
        logits = model.discriminator([x, y], training=False)
        return x, np.asarray(logits).reshape(-1), y

    _, logits, _ = candidates(burn_in)
    best = float(logits.max())
    if gamma is None:
        gamma = float(np.percentile(_scores(logits, best), percentile))
    classes = [None] if labels is None else list(range(model.num_classes))
    needed = (
        {None: num_samples}
        if labels is None
        else dict(enumerate(np.bincount(labels, minlength=model.num_classes)))
    )
    pools = {c: [] for c in classes}
    draws = candidates_accepted = 0
    while any(n > 0 for n in needed.values()):
        if draws >= max_draws:
            missing = sum(max(n, 0) for n in needed.values())
            raise ValueError(
                f"{missing} of {num_samples} samples still missing after {draws} candidates "
                f"(acceptance {candidates_accepted / max(draws, 1):.3f}); lower percentile or "
                "raise max_draws"
            )
        wanted = None
        if labels is not None:
            wanted = rng.choice([c for c, n in needed.items() if n > 0], size=batch_size)
        x, logits, y = candidates(batch_size, wanted)
        draws += batch_size
        best = max(best, float(logits.max()))
        accept = 1.0 / (1.0 + np.exp(gamma - _scores(logits, best)))
        keep = rng.uniform(size=logits.shape) < accept
        candidates_accepted += int(keep.sum())
        for c in classes:
            rows = np.flatnonzero(keep if c is None else keep & (y == c))[: max(needed[c], 0)]
            pools[c].append(x[rows])
            needed[c] -= rows.size
    if labels is None:
        samples = np.concatenate(pools[None])
    else:
        pools = {c: np.concatenate(pools[c]) for c in classes}
        rank = np.zeros(num_samples, dtype="int64")
        for c in classes:
            rank[labels == c] = np.arange(int((labels == c).sum()))
        samples = np.stack([pools[c][r] for c, r in zip(labels, rank, strict=True)])
    acceptance = candidates_accepted / draws
    return (samples, acceptance) if return_acceptance else samples
