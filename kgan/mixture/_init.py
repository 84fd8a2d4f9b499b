"""Checks of GaussianMixture's arguments and its initial parameters (numpy, float64)."""

import numbers

import numpy as np
from scipy.linalg import solve_triangular
from sklearn.cluster import KMeans, kmeans_plusplus

from kgan.mixture.em import COVARIANCE_TYPES

INIT_PARAMS = ("kmeans", "k-means++", "random", "random_from_data")
ILL_DEFINED = (
    "Fitting the mixture model failed because some components have ill-defined empirical "
    "covariance (for instance caused by singleton or collapsed samples). Try to decrease the "
    "number of components, or increase reg_covar, or scale the input data."
)


def _require(condition, message):
    if not condition:
        raise ValueError(message)


def _is_int(value, low):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool) and value >= low


def _is_real(value, low):
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and value >= low


def check_arguments(model, num_features):
    """Validates the constructor arguments of `model` once, at fit (as scikit-learn does).

    Returns:
        `(weights_init, means_init, precisions_init)` as float64 arrays or None.
    """
    k, d = model.n_components, num_features
    _require(_is_int(k, 1), f"n_components must be an int >= 1; got {k!r}")
    _require(
        model.covariance_type in COVARIANCE_TYPES,
        f"covariance_type must be one of {COVARIANCE_TYPES}; got {model.covariance_type!r}",
    )
    _require(_is_real(model.tol, 0), f"tol must be a number >= 0; got {model.tol!r}")
    _require(_is_real(model.reg_covar, 0), f"reg_covar must be >= 0; got {model.reg_covar!r}")
    _require(_is_int(model.max_iter, 0), f"max_iter must be an int >= 0; got {model.max_iter!r}")
    _require(_is_int(model.n_init, 1), f"n_init must be an int >= 1; got {model.n_init!r}")
    _require(
        model.init_params in INIT_PARAMS,
        f"init_params must be one of {INIT_PARAMS}; got {model.init_params!r}",
    )
    _require(
        _is_int(model.verbose_interval, 1),
        f"verbose_interval must be an int >= 1; got {model.verbose_interval!r}",
    )
    _require(
        model._dtype() is not None, f"dtype must be 'float32' or 'float64'; got {model.dtype!r}"
    )
    _require(
        _is_int(model.stream_init_size, 1),
        f"stream_init_size must be an int >= 1; got {model.stream_init_size!r}",
    )
    weights = means = precisions = None
    if model.weights_init is not None:
        weights = np.asarray(model.weights_init, dtype="float64")
        _require(weights.shape == (k,), f"weights_init must have shape ({k},); got {weights.shape}")
        _require(
            np.all((weights >= 0) & (weights <= 1)) and abs(weights.sum() - 1) < 1e-6,
            f"weights_init must lie in [0, 1] and sum to 1; got sum {weights.sum():.6f}, "
            f"min {weights.min():.6f}, max {weights.max():.6f}",
        )
    if model.means_init is not None:
        means = np.asarray(model.means_init, dtype="float64")
        _require(means.shape == (k, d), f"means_init must have shape ({k}, {d}); got {means.shape}")
    if model.precisions_init is not None:
        precisions = np.asarray(model.precisions_init, dtype="float64")
        shape = {"full": (k, d, d), "tied": (d, d), "diag": (k, d), "spherical": (k,)}
        expected = shape[model.covariance_type]
        _require(
            precisions.shape == expected,
            f"precisions_init for covariance_type={model.covariance_type!r} must have shape "
            f"{expected}; got {precisions.shape}",
        )
        if model.covariance_type in ("full", "tied"):
            matrices = precisions.reshape(-1, d, d)
            symmetric = np.allclose(matrices, np.swapaxes(matrices, 1, 2))
            _require(
                symmetric and np.all(np.linalg.eigvalsh(matrices) > 0),
                "precisions_init must hold symmetric positive-definite matrices",
            )
        else:
            _require(np.all(precisions > 0), "precisions_init must be positive")
    return weights, means, precisions


def initial_responsibilities(X, num_components, init_params, random_state):
    """`[n, k]` responsibilities to start EM from, as scikit-learn's `init_params` define."""
    n = len(X)
    resp = np.zeros((n, num_components))
    if init_params == "kmeans":
        kmeans = KMeans(n_clusters=num_components, n_init=1, random_state=random_state)
        resp[np.arange(n), kmeans.fit(X).labels_] = 1
    elif init_params == "random":
        resp = random_state.uniform(size=(n, num_components))
        resp /= resp.sum(axis=1, keepdims=True)
    elif init_params == "random_from_data":
        resp[
            random_state.choice(n, size=num_components, replace=False), np.arange(num_components)
        ] = 1
    else:
        _, indices = kmeans_plusplus(X, num_components, random_state=random_state)
        resp[indices, np.arange(num_components)] = 1
    return resp


def estimate_parameters(X, resp, reg_covar, covariance_type):
    """`(counts [k], means [k, d], covariances)` from responsibilities, in float64."""
    X = np.asarray(X, dtype="float64")
    counts = resp.sum(axis=0) + 10 * np.finfo("float64").eps  # [k]
    means = resp.T @ X / counts[:, None]  # [k, d]
    d = X.shape[1]
    if covariance_type == "full":
        covariances = np.empty((len(counts), d, d))
        for j in range(len(counts)):  # once per fit, not per iteration
            # Only the rows with a share in component j: with k-means' hard assignments, each
            # row is read once over all components instead of k times.
            rows = np.flatnonzero(resp[:, j])
            diff = X[rows] - means[j]
            covariances[j] = (resp[rows, j] * diff.T) @ diff / counts[j] + reg_covar * np.eye(d)
    elif covariance_type == "tied":
        covariances = (X.T @ X - (counts * means.T) @ means) / counts.sum() + reg_covar * np.eye(d)
    else:
        diagonal = resp.T @ (X * X) / counts[:, None] - means**2 + reg_covar  # [k, d]
        covariances = diagonal if covariance_type == "diag" else diagonal.mean(axis=1)
    return counts, means, covariances


def precisions_cholesky_from_covariances(covariances, covariance_type):
    """Upper-triangular `U` with `U U^T = inverse(covariance)` (float64 numpy)."""
    if covariance_type in ("full", "tied"):
        matrices = covariances.reshape((-1,) + covariances.shape[-2:])
        factors = []
        for matrix in matrices:
            try:
                lower = np.linalg.cholesky(matrix)
            except np.linalg.LinAlgError:
                raise ValueError(ILL_DEFINED) from None
            factors.append(solve_triangular(lower, np.eye(len(matrix)), lower=True).T)
        return np.stack(factors).reshape(covariances.shape)
    if np.any(covariances <= 0):
        raise ValueError(ILL_DEFINED)
    return 1.0 / np.sqrt(covariances)


def precisions_cholesky_from_precisions(precisions, covariance_type):
    """Upper-triangular `U` with `U U^T = precision`, and the covariances (float64 numpy).

    The upper factor is the flipped Cholesky factor of the flipped matrix.
    """
    if covariance_type in ("full", "tied"):
        flipped = precisions[..., ::-1, ::-1]
        upper = np.linalg.cholesky(flipped)[..., ::-1, ::-1]
        eye = np.eye(precisions.shape[-1])
        inverse = np.stack(
            [solve_triangular(u, eye, lower=False) for u in upper.reshape((-1,) + eye.shape)]
        )  # U^-1
        covariances = np.swapaxes(inverse, 1, 2) @ inverse  # U^-T U^-1
        return np.ascontiguousarray(upper), covariances.reshape(precisions.shape)
    return np.sqrt(precisions), 1.0 / precisions


def initial_parameters(model, X, checked, random_state):
    """`(weights, means, covariances, precisions_cholesky)` to start one EM run from.

    Args:
        model: the GaussianMixture (for n_components, init_params, reg_covar, covariance_type).
        X: `[n, d]` data (may be None when all three `*_init` are given).
        checked: `(weights_init, means_init, precisions_init)` from `check_arguments`.
        random_state: a `numpy.random.RandomState`.
    """
    weights_init, means_init, precisions_init = checked
    covariance_type = model.covariance_type
    weights = means = covariances = None
    if weights_init is None or means_init is None or precisions_init is None:
        resp = initial_responsibilities(X, model.n_components, model.init_params, random_state)
        weights, means, covariances = estimate_parameters(X, resp, model.reg_covar, covariance_type)
        weights = weights / len(X)
    weights = weights if weights_init is None else weights_init
    means = means if means_init is None else means_init
    if precisions_init is None:
        prec_chol = precisions_cholesky_from_covariances(covariances, covariance_type)
    else:
        prec_chol, covariances = precisions_cholesky_from_precisions(
            precisions_init, covariance_type
        )
    return weights, means, covariances, prec_chol
