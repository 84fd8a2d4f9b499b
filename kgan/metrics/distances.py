"""Distances between feature sets: FID, KID, Inception Score, precision/recall, density/coverage.

Every function takes plain arrays of features (`[n, d]`, from any `kgan.metrics` feature
extractor) and returns Python floats, so the same code scores samples after training, during
training (`kgan.callbacks.MetricsCallback`) and from the shell (`kgan evaluate`).
"""

import numpy as np
from sklearn.metrics import pairwise_distances_chunked

from kgan.sampling import check_positive_int


def _features(name, features, min_samples=2):
    features = np.asarray(features, dtype="float64")
    if features.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array [n, d] of features; got {features.shape}")
    if features.shape[0] < min_samples:
        raise ValueError(f"{name} needs at least {min_samples} samples; got {features.shape[0]}")
    if not np.isfinite(features).all():
        raise ValueError(f"{name} holds NaN or infinite values")
    return features


def _pair(features_a, features_b, min_samples=2, names=("features_a", "features_b")):
    a = _features(names[0], features_a, min_samples)
    b = _features(names[1], features_b, min_samples)
    if a.shape[1] != b.shape[1]:
        raise ValueError(
            f"{names[0]} and {names[1]} must have the same feature size; got {a.shape[1]} and "
            f"{b.shape[1]}"
        )
    return a, b


def feature_statistics(features):
    """Mean and covariance of a set of features, the statistics FID compares.

    Args:
        features: `[n, d]` features, n >= 2.

    Returns:
        `(mean, covariance)`: float64 arrays `[d]` and `[d, d]` (unbiased covariance).

    Example:
        >>> mu, cov = kgan.metrics.feature_statistics(np.random.randn(100, 8))
    """
    features = _features("features", features)
    return features.mean(axis=0), np.cov(features, rowvar=False).reshape(
        features.shape[1], features.shape[1]
    )


def _psd_sqrt(matrix):
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
    return (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T


def frechet_distance(mu1, cov1, mu2, cov2, eps=1e-6):
    """Fréchet distance between the Gaussians N(mu1, cov1) and N(mu2, cov2).

    `||mu1 - mu2||^2 + tr(cov1 + cov2 - 2 (cov1 cov2)^(1/2))` (Dowson and Landau 1982; the FID of
    Heusel et al. 2017). The trace of the matrix square root is computed as the sum of the square
    roots of the eigenvalues of the symmetric `cov1^(1/2) cov2 cov1^(1/2)`, which has the same
    spectrum as `cov1 cov2`; this stays real where `scipy.linalg.sqrtm` of the non-symmetric
    product can return small imaginary parts. Tiny negative eigenvalues from rounding are
    clipped to 0; if the result is not finite the covariances are offset by `eps * I` and the
    computation repeated.

    Args:
        mu1: `[d]` mean of the first Gaussian.
        cov1: `[d, d]` covariance of the first Gaussian.
        mu2: `[d]` mean of the second Gaussian.
        cov2: `[d, d]` covariance of the second Gaussian.
        eps: the diagonal offset used when the plain computation is not finite.

    Returns:
        The distance, a float >= 0.

    Example:
        >>> kgan.metrics.frechet_distance(np.zeros(2), np.eye(2), np.ones(2), np.eye(2))
        2.0
    """
    mu1, mu2 = np.asarray(mu1, "float64"), np.asarray(mu2, "float64")
    cov1, cov2 = np.asarray(cov1, "float64"), np.asarray(cov2, "float64")
    if mu1.ndim != 1 or mu1.shape != mu2.shape:
        raise ValueError(f"mu1 and mu2 must be vectors of one size; got {mu1.shape}, {mu2.shape}")
    d = mu1.shape[0]
    if cov1.shape != (d, d) or cov2.shape != (d, d):
        raise ValueError(
            f"cov1 and cov2 must have shape ({d}, {d}); got {cov1.shape} and {cov2.shape}"
        )

    def trace_sqrt(c1, c2):
        root = _psd_sqrt(c1)
        values = np.linalg.eigvalsh(root @ c2 @ root)
        return np.sum(np.sqrt(np.clip(values, 0, None)))

    trace = trace_sqrt(cov1, cov2)
    if not np.isfinite(trace):
        offset = eps * np.eye(d)
        trace = trace_sqrt(cov1 + offset, cov2 + offset)
    diff = mu1 - mu2
    distance = diff @ diff + np.trace(cov1) + np.trace(cov2) - 2 * trace
    return float(max(distance, 0.0))


def fid(features_a, features_b):
    """Fréchet Inception Distance between two sets of features (Heusel et al. 2017).

    The Fréchet distance between Gaussians fitted to each set. With Inception features this is
    the FID of the literature; with `kgan.metrics.domain_extractor` features it is a domain FID
    (values are not comparable across extractors).

    Args:
        features_a: `[n, d]` features, e.g. of real images.
        features_b: `[m, d]` features, e.g. of generated images.

    Returns:
        A float >= 0; 0 when the two sets have the same mean and covariance.

    Example:
        >>> extractor = kgan.metrics.domain_extractor("mnist_5k")
        >>> kgan.metrics.fid(extractor(real_images), extractor(cgan.generate(1000, seed=0)))
    """
    a, b = _pair(features_a, features_b)
    return frechet_distance(*feature_statistics(a), *feature_statistics(b))


def _polynomial_mmd2(x, y):
    d = x.shape[1]
    k_xx = (x @ x.T / d + 1) ** 3  # [m, m]
    k_yy = (y @ y.T / d + 1) ** 3  # [m, m]
    k_xy = (x @ y.T / d + 1) ** 3  # [m, m]
    m = x.shape[0]
    within = (k_xx.sum() - np.trace(k_xx) + k_yy.sum() - np.trace(k_yy)) / (m * (m - 1))
    return within - 2 * k_xy.mean()


def kid(features_a, features_b, num_subsets=100, subset_size=1000, seed=0):
    """Kernel Inception Distance (Binkowski et al. 2018).

    The unbiased estimate of the squared MMD with the cubic polynomial kernel
    `k(x, y) = (x . y / d + 1)^3`, averaged over `num_subsets` random subsets of `subset_size`
    samples from each set (drawn without replacement within a subset). Unlike FID, the
    estimate is unbiased, so it is comparable across sample sizes and can be slightly negative.

    Args:
        features_a: `[n, d]` features.
        features_b: `[m, d]` features.
        num_subsets: number of subsets averaged.
        subset_size: samples per subset; lowered to `min(n, m)` when the sets are smaller.
        seed: seed of the subset draws.

    Returns:
        `(mean, standard_error)`: the mean of the subset estimates and its standard error (their
        standard deviation over `sqrt(num_subsets)`). The error reflects only the choice of
        subsets: when a set is no larger than `subset_size`, every subset holds all of it and
        the error leaves out that set's own sampling noise.

    Example:
        >>> value, error = kgan.metrics.kid(real_features, fake_features)
    """
    a, b = _pair(features_a, features_b)
    if num_subsets < 1 or subset_size < 2:
        raise ValueError(
            f"num_subsets must be >= 1 and subset_size >= 2; got {num_subsets}, {subset_size}"
        )
    size = min(subset_size, len(a), len(b))
    rng = np.random.default_rng(seed)
    estimates = np.array(
        [
            _polynomial_mmd2(
                a[rng.choice(len(a), size, replace=False)],
                b[rng.choice(len(b), size, replace=False)],
            )
            for _ in range(num_subsets)
        ]
    )
    error = estimates.std(ddof=1) / np.sqrt(num_subsets) if num_subsets > 1 else float("nan")
    return float(estimates.mean()), float(error)


def inception_score(logits, splits=10):
    """Inception Score of class logits (Salimans et al. 2016).

    `exp(E_x KL(p(y|x) || p(y)))`, computed on each of `splits` equal parts of the samples. It is
    1 when every sample has the same class distribution and at most the number of classes,
    reached when each sample is confidently one class and the classes are balanced.

    Args:
        logits: `[n, num_classes]` unnormalized class scores, e.g. from
            `kgan.metrics.domain_extractor(...).logits(images)`.
        splits: number of parts the score is computed on.

    Returns:
        `(mean, std)` over the splits.

    Example:
        >>> extractor = kgan.metrics.domain_extractor("mnist_5k")
        >>> kgan.metrics.inception_score(extractor.logits(cgan.generate(1000, seed=0)))
    """
    logits = _features("logits", logits, min_samples=1)
    if splits < 1 or splits > len(logits):
        raise ValueError(f"splits must be in [1, {len(logits)}] (the samples); got {splits}")
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))  # [n, c]
    scores = []
    for part in np.array_split(log_p, splits):
        log_marginal = np.log(np.exp(part).mean(axis=0))  # [c]
        kl = np.sum(np.exp(part) * (part - log_marginal), axis=1)  # [n_part]
        scores.append(np.exp(kl.mean()))
    return float(np.mean(scores)), float(np.std(scores))


def _kth_neighbour_distances(features, k):
    """Distance of every point to its k-th nearest other point of the same set."""

    def reduce(chunk, start):
        # Column 0 of the sorted row is the point itself (distance 0).
        return np.partition(chunk, k, axis=1)[:, k]

    return np.concatenate(list(pairwise_distances_chunked(features, reduce_func=reduce)))


def _ball_counts(centres, radii, points):
    """For each point, how many balls `B(centres[i], radii[i])` contain it: `[len(points)]`."""

    def reduce(chunk, start):
        return (chunk <= radii[None, :]).sum(axis=1)

    return np.concatenate(list(pairwise_distances_chunked(points, centres, reduce_func=reduce)))


def _check_k(k, **sets):
    check_positive_int("k", k)
    for name, features in sets.items():
        if len(features) <= k:
            raise ValueError(
                f"{name} needs more than k={k} samples for its k-nearest-neighbour radii; got "
                f"{len(features)}"
            )


def precision_recall(real, fake, k=3):
    """Improved precision and recall (Kynkäänniemi et al. 2019).

    Each set's manifold is the union of balls around its points reaching their k-th nearest
    neighbour. Precision is the share of fake samples inside the real manifold (quality);
    recall is the share of real samples inside the fake manifold (diversity).

    Args:
        real: `[n, d]` features of real samples.
        fake: `[m, d]` features of generated samples.
        k: the neighbour that sets the radii (3 in the paper).

    Returns:
        A dict with `precision` and `recall`, floats in [0, 1].

    Example:
        >>> kgan.metrics.precision_recall(real_features, fake_features, k=3)
    """
    real, fake = _pair(real, fake, names=("real", "fake"))
    _check_k(k, real=real, fake=fake)
    real_radii = _kth_neighbour_distances(real, k)
    fake_radii = _kth_neighbour_distances(fake, k)
    precision = np.mean(_ball_counts(real, real_radii, fake) > 0)
    recall = np.mean(_ball_counts(fake, fake_radii, real) > 0)
    return {"precision": float(precision), "recall": float(recall)}


def density_coverage(real, fake, k=5):
    """Density and coverage (Naeem et al. 2020).

    With balls around the real points reaching their k-th nearest real neighbour, density is
    the mean number of balls holding a fake sample, divided by k (about 1 when the fake samples
    follow the real distribution; above 1 when they crowd dense regions), and coverage is the
    share of real balls holding at least one fake sample. Both use only the real manifold, so
    they are robust to fake outliers.

    Args:
        real: `[n, d]` features of real samples.
        fake: `[m, d]` features of generated samples.
        k: the neighbour that sets the radii (5 in the paper).

    Returns:
        A dict with `density` (float >= 0) and `coverage` (float in [0, 1]).

    Example:
        >>> kgan.metrics.density_coverage(real_features, fake_features, k=5)
    """
    real, fake = _pair(real, fake, names=("real", "fake"))
    _check_k(k, real=real)
    radii = _kth_neighbour_distances(real, k)
    density = _ball_counts(real, radii, fake).sum() / (k * len(fake))

    def reduce(chunk, start):
        return chunk.min(axis=1)

    nearest_fake = np.concatenate(list(pairwise_distances_chunked(real, fake, reduce_func=reduce)))
    coverage = np.mean(nearest_fake <= radii)
    return {"density": float(density), "coverage": float(coverage)}
