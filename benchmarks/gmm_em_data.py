"""The synthetic Gaussian mixtures of `benchmarks/gmm_em.py` (numpy only, so that its
fresh-process rows import nothing else before they start timing)."""

import numpy as np


def mixture_spec(d, k, seed=0):
    """Means `[k, d]` and covariance Cholesky factors `[k, d, d]` of a random mixture."""
    rng = np.random.default_rng(seed)
    means = rng.normal(0.0, 3.0, (k, d))
    scales = np.tril(rng.normal(0.0, 0.3, (k, d, d)), -1) + np.eye(d) * rng.uniform(
        0.5, 1.5, (k, 1, d)
    )
    return means, scales


def sample_batch(spec, n, seed):
    """`[n, d]` float64 samples of the mixture, reproducible from `seed`."""
    means, scales = spec
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, len(means), n)
    noise = rng.standard_normal((n, means.shape[1]))
    return means[labels] + np.einsum("nd,ned->ne", noise, scales[labels])
