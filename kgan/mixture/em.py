"""Expectation-maximization for Gaussian mixtures as pure TensorFlow functions.

The parameters travel as a tuple `(weights, means, covariances, precisions_cholesky)` with
scikit-learn's shapes for each covariance type (`k` components, `d` features):

    ==========  ===========  ==============  ================================
    type        covariances  precisions_chol  meaning
    ==========  ===========  ==============  ================================
    full        [k, d, d]    [k, d, d]       one matrix per component
    tied        [d, d]       [d, d]          one matrix shared by all
    diag        [k, d]       [k, d]          a diagonal per component
    spherical   [k]          [k]             one variance per component
    ==========  ===========  ==============  ================================

`precisions_cholesky` is `U` with `U @ U.T == inverse(covariance)`; for "full" and "tied" it is
upper triangular, `U = inverse(cholesky(covariance)).T`, found by a triangular solve.

Data are read in fixed-size chunks so that no `[n, k, d]` tensor is ever made and the same
code serves data in memory and data streamed batch by batch. One pass over the data
accumulates the E-step's *sufficient statistics*; the M-step turns them into new parameters:

- full: `N_k = sum_i r_ik`, `s_k = sum_i r_ik (x_i - mu_k)` and
  `S_k = sum_i r_ik (x_i - mu_k)(x_i - mu_k)^T`, centered on each component's mean at the
  start of the pass: statistics about the component's own mean do not cancel catastrophically
  in float32 the way raw moments `sum r x x^T - N mu mu^T` do, and the M-step needs no
  transform of them (the new mean is `mu_k + s_k / N_k`). The E-step's whitened
  `y_ik = U_k^T (x_i - mu_k)` gives the Mahalanobis term only.
- tied, diag, spherical: `N_k`, `sum_i r_ik (x_i - c)` and the second moments
  (`sum_i (x_i - c)(x_i - c)^T`, or `sum_i r_ik (x_i - c)^2` per feature) about a fixed center
  `c` (the weighted mean of the initial means), as scikit-learn's M-step does about 0.

The big products run over all components at once, with no Python loop over components: the
whitening `x @ U_k` is one matmul against the factors side by side (`[c, d] @ [d, k d]`, whose
`[c, k, d]` result reduces to the `[c, k]` Mahalanobis terms without a transpose), `S` one
batched matmul (`[k, d, c] @ [k, c, d]`), and `s` comes from `sum_i r_ik x_i` (`[k, c] @ [c, d]`)
instead of another pass over a `[k, c, d]` tensor: the E-step's arrays are written and read
once each (the passes over them, not the flops, were most of an iteration). Log-densities come
from the precision Cholesky factors; no matrix is inverted explicitly.
"""

import math

import tensorflow as tf

COVARIANCE_TYPES = ("full", "tied", "diag", "spherical")
CHUNK_SIZE = 4096


def _eps(dtype):
    return tf.constant(
        10 * (2.220446049250313e-16 if dtype == tf.float64 else 1.1920929e-07), dtype
    )


def chunk(x, weights=None, chunk_size=CHUNK_SIZE):
    """Pads `x` to a multiple of `chunk_size` rows and reshapes it into chunks.

    Args:
        x: `[n, d]` data.
        weights: optional `[n]` sample weights (1 for every row by default).
        chunk_size: rows per chunk.

    Returns:
        `(chunks, mask)`: `[m, chunk_size, d]` data and `[m, chunk_size]` row weights, 0 on the
        padding rows.
    """
    n = tf.shape(x)[0]
    d = tf.shape(x)[1]
    if weights is None:
        weights = tf.ones([n], x.dtype)
    num_chunks = (n + chunk_size - 1) // chunk_size
    pad = num_chunks * chunk_size - n
    chunks = tf.reshape(tf.pad(x, [[0, pad], [0, 0]]), [num_chunks, chunk_size, d])
    mask = tf.reshape(tf.pad(weights, [[0, pad]]), [num_chunks, chunk_size])
    return chunks, mask


def log_det_cholesky(precisions_cholesky, covariance_type, num_features):
    """`log det U` of each component: `[k]`, or a scalar for "tied"."""
    if covariance_type == "full":
        return tf.reduce_sum(tf.math.log(tf.linalg.diag_part(precisions_cholesky)), axis=-1)
    if covariance_type == "tied":
        return tf.reduce_sum(tf.math.log(tf.linalg.diag_part(precisions_cholesky)))
    if covariance_type == "diag":
        return tf.reduce_sum(tf.math.log(precisions_cholesky), axis=-1)
    return num_features * tf.math.log(precisions_cholesky)


def _whiten_full(x, means, precisions_cholesky):
    """`y[c, k, :] = (x_c - mu_k) @ U_k` for all components as one matmul: `[c, k, d]`."""
    k, d = tf.shape(means)[0], tf.shape(means)[1]
    side_by_side = tf.reshape(tf.transpose(precisions_cholesky, [1, 0, 2]), [d, k * d])
    offsets = tf.einsum("kd,kde->ke", means, precisions_cholesky)  # [k, d]
    return tf.reshape(tf.matmul(x, side_by_side), [-1, k, d]) - offsets  # [c, k, d]


def _log_gaussian(x, params, covariance_type, whitened=None):
    """`log N(x | mu_k, Sigma_k)`: `[c, k]`. `x` and the means share the same origin."""
    _, means, _, prec_chol = params
    d = tf.cast(tf.shape(x)[1], x.dtype)
    if covariance_type == "full":
        y = _whiten_full(x, means, prec_chol) if whitened is None else whitened
        mahalanobis = tf.reduce_sum(tf.square(y), axis=-1)  # [c, k]
    elif covariance_type == "tied":
        y = tf.matmul(x, prec_chol)[:, None, :] - tf.matmul(means, prec_chol)  # [c, k, d]
        mahalanobis = tf.reduce_sum(tf.square(y), axis=-1)
    elif covariance_type == "diag":
        precisions = tf.square(prec_chol)  # [k, d]
        mahalanobis = (
            tf.reduce_sum(tf.square(means) * precisions, axis=1)
            - 2.0 * tf.matmul(x, means * precisions, transpose_b=True)
            + tf.matmul(tf.square(x), precisions, transpose_b=True)
        )
    else:
        precisions = tf.square(prec_chol)  # [k]
        mahalanobis = (
            tf.reduce_sum(tf.square(means), axis=1) * precisions
            - 2.0 * tf.matmul(x, means, transpose_b=True) * precisions
            + tf.reduce_sum(tf.square(x), axis=1, keepdims=True) * precisions
        )
    log_det = log_det_cholesky(prec_chol, covariance_type, d)
    return -0.5 * (d * math.log(2 * math.pi) + mahalanobis) + log_det


def weighted_log_prob(x, params, covariance_type, center=None):
    """`log w_k + log N(x | mu_k, Sigma_k)` for a batch: `[n, k]`.

    Args:
        x: `[n, d]` data.
        params: `(weights, means, covariances, precisions_cholesky)`.
        covariance_type: one of `COVARIANCE_TYPES`.
        center: optional `[d]` origin subtracted from x and the means first (numerics only).
    """
    weights, means, covariances, prec_chol = params
    if center is not None:
        x = x - center
        means = means - center
    log_gauss = _log_gaussian(x, (weights, means, covariances, prec_chol), covariance_type)
    return log_gauss + tf.math.log(weights)


def zero_statistics(num_components, num_features, covariance_type, dtype):
    """The additive identity of `chunk_statistics`."""
    k, d = num_components, num_features
    second = {"full": [k, d, d], "tied": [d, d], "diag": [k, d], "spherical": [k, d]}
    return (
        tf.zeros([k], dtype),  # N_k
        tf.zeros([k, d], dtype),  # first moments
        tf.zeros(second[covariance_type], dtype),  # second moments
        tf.zeros([], dtype),  # sum of log-likelihoods
        tf.zeros([], dtype),  # number of samples
    )


def chunk_statistics(x, mask, params, covariance_type, center):
    """The E-step on one chunk, reduced to sufficient statistics (see the module docstring).

    Args:
        x: `[c, d]` data.
        mask: `[c]` row weights (0 for padding).
        params: `(weights, means, covariances, precisions_cholesky)`.
        covariance_type: one of `COVARIANCE_TYPES`.
        center: `[d]` origin for the raw moments.

    Returns:
        `(N [k], first [k, d], second, log_likelihood_sum, num_samples)`.
    """
    weights, means, covariances, prec_chol = params
    x = x - center
    means = means - center
    shifted = (weights, means, covariances, prec_chol)
    whitened = _whiten_full(x, means, prec_chol) if covariance_type == "full" else None
    log_prob = _log_gaussian(x, shifted, covariance_type, whitened) + tf.math.log(weights)
    log_norm = tf.reduce_logsumexp(log_prob, axis=1)  # [c]
    resp = tf.exp(log_prob - log_norm[:, None]) * mask[:, None]  # [c, k]
    counts = tf.reduce_sum(resp, axis=0)  # [k]
    first = tf.matmul(resp, x, transpose_a=True)  # [k, d]
    if covariance_type == "full":
        # sum_c r (x - mu) from sum_c r x, with no pass over a [k, c, d] tensor; the scatter
        # as (sqrt(r) (x - mu))^T (sqrt(r) (x - mu)): one scaled copy, one batched matmul.
        first = first - counts[:, None] * means
        scaled = tf.sqrt(tf.transpose(resp))[:, :, None] * (x[None] - means[:, None, :])
        second = tf.matmul(scaled, scaled, transpose_a=True)  # [k, d, d]
    elif covariance_type == "tied":
        second = tf.matmul(x * mask[:, None], x, transpose_a=True)  # [d, d]
    else:
        second = tf.matmul(resp, tf.square(x), transpose_a=True)  # [k, d]
    log_likelihood = tf.reduce_sum(log_norm * mask)
    return counts, first, second, log_likelihood, tf.reduce_sum(mask)


def accumulate_statistics(chunks, mask, params, covariance_type, center, statistics=None):
    """`chunk_statistics` summed over `[m, c, d]` chunks in a graph loop.

    `statistics` replaces `chunk_statistics` (e.g. by an XLA-compiled version of it).
    """
    statistics = statistics or chunk_statistics
    k, d = tf.shape(params[1])[0], tf.shape(params[1])[1]
    total = zero_statistics(k, d, covariance_type, chunks.dtype)

    def body(i, total):
        stats = statistics(chunks[i], mask[i], params, covariance_type, center)
        return i + 1, tuple(a + b for a, b in zip(total, stats))

    _, total = tf.while_loop(
        lambda i, _: i < tf.shape(chunks)[0], body, (tf.constant(0), total), parallel_iterations=1
    )
    return total


def precisions_cholesky_from_covariances(covariances, covariance_type):
    """`(U, ok)`: the precision Cholesky factor and whether every covariance was positive
    definite (a failed Cholesky gives NaN in TensorFlow, so `ok` is checked by the caller)."""
    if covariance_type in ("full", "tied"):
        cov_chol = tf.linalg.cholesky(covariances)  # lower
        diagonal = tf.linalg.diag_part(cov_chol)
        ok = tf.reduce_all(tf.math.is_finite(cov_chol)) & tf.reduce_all(diagonal > 0)
        eye = tf.eye(tf.shape(covariances)[-1], dtype=covariances.dtype)
        eye = tf.broadcast_to(eye, tf.shape(covariances))
        safe = tf.where(ok, cov_chol, eye)
        inverse_lower = tf.linalg.triangular_solve(safe, eye, lower=True)
        return tf.linalg.matrix_transpose(inverse_lower), ok
    ok = tf.reduce_all(covariances > 0) & tf.reduce_all(tf.math.is_finite(covariances))
    return tf.math.rsqrt(tf.where(ok, covariances, tf.ones_like(covariances))), ok


def m_step(stats, params, covariance_type, reg_covar, center):
    """New parameters from the sufficient statistics of one pass.

    Args:
        stats: the output of `accumulate_statistics` (summed over all data).
        params: the parameters the statistics were computed with.
        covariance_type: one of `COVARIANCE_TYPES`.
        reg_covar: added to the diagonal of every covariance.
        center: `[d]` origin of the raw moments.

    Returns:
        `(params, ok)`; `ok` is False when a covariance is not positive definite.
    """
    counts, first, second, _, num_samples = stats
    old_means = params[1]
    dtype = first.dtype
    d = tf.shape(first)[1]
    reg_covar = tf.cast(reg_covar, dtype)
    nk = counts + _eps(dtype)  # [k]
    weights = nk / tf.reduce_sum(nk)
    if covariance_type == "full":
        # About the new mean m = mu + shift: sum r (x - m)(x - m)^T = S - (2 - N / nk) s shift^T.
        shift = first / nk[:, None]  # [k, d]
        means = old_means + shift
        correction = (2.0 - counts / nk)[:, None, None] * (first[:, :, None] * shift[:, None, :])
        covariances = second - correction  # [k, d, d]
        covariances = 0.5 * (covariances + tf.linalg.matrix_transpose(covariances))
        covariances = covariances / nk[:, None, None] + reg_covar * tf.eye(d, dtype=dtype)
    else:
        shifted_means = first / nk[:, None]  # [k, d]
        means = shifted_means + center
        if covariance_type == "tied":
            between = tf.matmul(nk[:, None] * shifted_means, shifted_means, transpose_a=True)
            covariances = (second - between) / tf.reduce_sum(nk) + reg_covar * tf.eye(
                d, dtype=dtype
            )
        else:
            diagonal = second / nk[:, None] - tf.square(shifted_means) + reg_covar  # [k, d]
            covariances = (
                diagonal if covariance_type == "diag" else tf.reduce_mean(diagonal, axis=1)
            )
    del num_samples
    new_prec_chol, ok = precisions_cholesky_from_covariances(covariances, covariance_type)
    return (weights, means, covariances, new_prec_chol), ok


def em_iterations(
    chunks, mask, params, center, covariance_type, history, max_iter, tol, reg_covar, bound,
    statistics=None, start=0,
):  # fmt: skip
    """The EM loop of one initialization, in the graph.

    Iterates E-step, M-step, lower bound until `|bound - previous| < tol` or `max_iter`
    iterations, exactly as scikit-learn (the bound of iteration t is the mean log-likelihood
    under the parameters that iteration started from).

    Args:
        chunks, mask: the output of `chunk`.
        params: initial `(weights, means, covariances, precisions_cholesky)`.
        center: `[d]` origin for the raw moments.
        covariance_type: one of `COVARIANCE_TYPES` (a Python string).
        history: a buffer of at least `max_iter` zeros for the lower bounds (a static shape
            that XLA can compile).
        max_iter: int tensor, the most iterations.
        tol: float tensor.
        reg_covar: float tensor.
        bound: the starting lower bound (-inf, or the previous fit's under warm start).
        statistics: optional replacement of `chunk_statistics`.
        start: iterations already done (a continued run: `bound` and `history` are its own).

    Returns:
        `(params, bound, n_iter, converged, ok, history)`; `history` is valid up to `n_iter`;
        `ok` is False when a covariance stopped being positive definite.
    """
    dtype = chunks.dtype

    def cond(n_iter, bound, params, converged, ok, history):
        return (n_iter < max_iter) & tf.logical_not(converged) & ok

    def body(n_iter, bound, params, converged, ok, history):
        stats = accumulate_statistics(chunks, mask, params, covariance_type, center, statistics)
        new_bound = stats[3] / stats[4]
        new_params, ok = m_step(stats, params, covariance_type, reg_covar, center)
        converged = tf.abs(new_bound - bound) < tol
        history = tf.tensor_scatter_nd_update(history, [[n_iter]], [new_bound])
        return n_iter + 1, new_bound, new_params, converged, ok, history

    n_iter, bound, params, converged, ok, history = tf.while_loop(
        cond,
        body,
        (
            tf.cast(start, tf.int32),
            tf.cast(bound, dtype),
            params,
            tf.constant(False),
            tf.constant(True),
            history,
        ),
        parallel_iterations=1,
    )
    return params, bound, n_iter, converged, ok, history
