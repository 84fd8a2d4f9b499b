"""Mode coverage of samples from a known Gaussian mixture (the 2-D ring and grid benchmarks)."""

import numpy as np


def mode_coverage(samples, means, std, num_std=3.0):
    """Scores samples against the modes of a mixture, as in VEEGAN, PacGAN and GDPP.

    A sample is *high quality* when it lies within `num_std` standard deviations of its nearest
    mode; a mode is *captured* when it is the nearest mode of at least one high-quality sample.
    The reverse KL is `KL(p || uniform)` between the histogram `p` of the samples' nearest
    modes and the uniform histogram over the modes (0 for a perfectly balanced model, `log K`
    when every sample falls to one mode). The papers score 2,500 samples.

    Args:
        samples: `[n, d]` generated points.
        means: `[k, d]` mode centres, e.g. `kgan.data.mixture_spec("ring8").means`.
        std: the modes' standard deviation.
        num_std: the high-quality radius in standard deviations (3 in the papers).

    Returns:
        A dict with `modes_captured` (int), `num_modes` (int), `high_quality` (fraction in
        [0, 1]) and `reverse_kl` (float, nats).

    Example:
        >>> spec = kgan.data.mixture_spec("ring8")
        >>> kgan.metrics.mode_coverage(gan.generate(2500, seed=0), spec.means, spec.std)
    """
    samples = np.asarray(samples, dtype="float64")
    means = np.asarray(means, dtype="float64")
    if samples.ndim != 2 or means.ndim != 2 or samples.shape[1] != means.shape[1]:
        raise ValueError(
            f"samples [n, d] and means [k, d] must share d; got {samples.shape} and {means.shape}"
        )
    if len(samples) == 0 or not np.isfinite(samples).all():
        raise ValueError("samples must be a non-empty array of finite values")
    if std <= 0:
        raise ValueError(f"std must be > 0; got {std}")
    distances = np.linalg.norm(samples[:, None, :] - means[None, :, :], axis=-1)  # [n, k]
    nearest = distances.argmin(axis=1)  # [n]
    high_quality = distances[np.arange(len(samples)), nearest] <= num_std * std  # [n]
    num_modes = len(means)
    histogram = np.bincount(nearest, minlength=num_modes) / len(samples)  # [k]
    present = histogram > 0
    reverse_kl = float(np.sum(histogram[present] * np.log(histogram[present] * num_modes)))
    return {
        "modes_captured": int(np.unique(nearest[high_quality]).size),
        "num_modes": num_modes,
        "high_quality": float(high_quality.mean()),
        "reverse_kl": reverse_kl,
    }
