"""`GaussianMixture`: scikit-learn's estimator, fitted by EM in the TensorFlow graph."""

import math
import time
import warnings

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp
from sklearn.base import BaseEstimator, DensityMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from kgan.mixture import _data, _graph, _init, _persistence
from kgan.mixture.export import GaussianMixtureModule
from kgan.zoo.mixin import PresetMixin

tfd = tfp.distributions
PREDICT_BATCH = 16384
FITTED = ("weights_", "means_", "covariances_", "precisions_cholesky_")


class GaussianMixture(PresetMixin, DensityMixin, BaseEstimator):
    """A Gaussian mixture fitted by expectation-maximization in TensorFlow.

    The arguments, fitted attributes and methods are scikit-learn's
    (`sklearn.mixture.GaussianMixture`); from the same initial parameters both reach the same
    fit. The EM loop runs as one TensorFlow graph over fixed-size chunks of the data, in
    float32 by default (`dtype="float64"` on request), and `fit` also reads data that do not
    fit in memory: a `tf.data.Dataset` or any re-iterable of `[b, d]` batches.

    Args:
        n_components: number of mixture components.
        covariance_type: "full", "tied", "diag" or "spherical".
        tol: EM stops when the lower bound (mean log-likelihood) gains less than this.
        reg_covar: added to the diagonal of every covariance, keeping it positive definite.
        max_iter: EM iterations per initialization.
        n_init: initializations; the one with the highest lower bound is kept.
        init_params: "kmeans", "k-means++", "random" or "random_from_data".
        weights_init: optional `[k]` initial weights.
        means_init: optional `[k, d]` initial means.
        precisions_init: optional initial precisions, shaped like `covariances_`.
        random_state: seed or `numpy.random.RandomState` for initialization and `sample`.
        warm_start: start the next `fit` from this fit's parameters.
        verbose: 0, 1 (per initialization) or 2 (also the lower-bound change every
            `verbose_interval` iterations; for data in memory the iterations run inside one
            graph, so these lines come when the initialization ends, without per-step times).
        verbose_interval: iterations between progress lines.
        dtype: "float32" or "float64", the precision of EM and of the fitted attributes.
        stream_init_size: for streamed data, the number of leading rows used to initialize
            (k-means or the other `init_params`) unless all three `*_init` are given.

    Attributes:
        weights_, means_, covariances_, precisions_, precisions_cholesky_: the fit, shaped as
            in scikit-learn for each covariance type.
        converged_, n_iter_: whether the best initialization converged, and in how many steps.
        lower_bound_: mean log-likelihood of the best initialization (its last iteration).
        lower_bounds_: the lower bound after every iteration of the best initialization.
        n_features_in_: the number of features seen at fit.

    Example:
        >>> gmm = kgan.mixture.GaussianMixture(n_components=3, random_state=0).fit(x)
        >>> labels = gmm.predict(x)
        >>> gmm.distribution().log_prob(x)  # == gmm.score_samples(x)
    """

    def __init__(
        self,
        n_components=1,
        *,
        covariance_type="full",
        tol=1e-3,
        reg_covar=1e-6,
        max_iter=100,
        n_init=1,
        init_params="kmeans",
        weights_init=None,
        means_init=None,
        precisions_init=None,
        random_state=None,
        warm_start=False,
        verbose=0,
        verbose_interval=10,
        dtype="float32",
        stream_init_size=65536,
    ):
        self.n_components = n_components
        self.covariance_type = covariance_type
        self.tol = tol
        self.reg_covar = reg_covar
        self.max_iter = max_iter
        self.n_init = n_init
        self.init_params = init_params
        self.weights_init = weights_init
        self.means_init = means_init
        self.precisions_init = precisions_init
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose
        self.verbose_interval = verbose_interval
        self.dtype = dtype
        self.stream_init_size = stream_init_size

    # Fitting -----------------------------------------------------------------------------

    def fit(self, X, y=None):
        """Fits the mixture by EM.

        Args:
            X: `[n, d]` array, or streamed data: a `tf.data.Dataset` of `[b, d]` batches (or of
                `(x, y)` pairs), a list of batches, or a function returning an iterable of
                batches. A stream is read once per EM iteration.
            y: ignored.

        Returns:
            self.
        """
        self._fit(X, labels=False)
        return self

    def fit_predict(self, X, y=None):
        """Fits the mixture and returns the `[n]` component of each sample (of every batch, in
        order, for streamed data); equal to `fit(X).predict(X)`."""
        labels = self._fit(X)
        return self.predict(X) if labels is None else labels

    def _fit(self, X, labels=True):
        """The one loop over initializations: best run, warning, and (for `fit_predict`) the
        final E-step's labels."""
        dtype = self._dtype()
        stream = _data.is_stream(X)
        if stream:
            source = _data.BatchSource(X, dtype or "float64")
            head = source.head(self.stream_init_size)
            num_features = head.shape[1]
        else:
            # The initialization reads the data in float64, as scikit-learn's does, so that
            # both start from the same k-means whatever precision EM runs in.
            head = _data.check_matrix(X, "float64")
            X = head if dtype is None or dtype == head.dtype else head.astype(dtype)
            num_features = X.shape[1]
            _init._require(len(X) >= 2, f"X needs at least 2 samples; got {len(X)}")
        checked = _init.check_arguments(self, num_features)
        if len(head) < self.n_components:
            raise ValueError(
                f"Expected n_samples >= n_components but got n_components = "
                f"{self.n_components}, n_samples = {len(head)}; lower n_components or pass "
                "more data" + (" (or raise stream_init_size)" if stream else "")
            )
        do_init = not (self.warm_start and hasattr(self, "converged_"))
        random_state = check_random_state(self.random_state)
        best, best_bound = None, -math.inf
        self.converged_ = False
        for init in range(self.n_init if do_init else 1):
            if self.verbose:
                print(f"Initialization {init}")
            started = time.perf_counter()
            if do_init:
                params = _init.initial_parameters(self, head, checked, random_state)
            else:
                params = tuple(getattr(self, name) for name in FITTED)
            params = tuple(tf.constant(p, dtype) for p in params)
            bound = -math.inf if do_init else self.lower_bound_
            if self.max_iter == 0:
                best, best_bound, self.converged_ = (params, 0, []), -math.inf, False
                continue
            center = tf.linalg.matvec(params[1], params[0], transpose_a=True)  # [d]
            run = self._run_streamed if stream else self._run_in_memory
            data = source if stream else X
            params, bound, n_iter, converged, history = run(data, params, center, bound)
            self._print_run(history, converged, bound, time.perf_counter() - started)
            if bound > best_bound or best_bound == -math.inf:
                best, best_bound, self.converged_ = (params, n_iter, history), bound, converged
        if not self.converged_ and self.max_iter > 0:
            warnings.warn(
                "Best performing initialization did not converge. Try different init "
                "parameters, or increase max_iter, tol, or check for degenerate data.",
                ConvergenceWarning,
                stacklevel=3,
            )
        params, self.n_iter_, self.lower_bounds_ = best
        self._set_fitted(params)
        self.n_features_in_ = num_features
        self.lower_bound_ = best_bound
        return self._weighted_log_prob(X).argmax(axis=1) if labels and not stream else None

    def _dtype(self):
        """The numpy dtype asked for, or None when `dtype` is not float32/float64."""
        try:
            dtype = np.dtype(self.dtype)
        except TypeError:
            return None
        return dtype if dtype.name in ("float32", "float64") else None

    def _functions(self):
        return _graph.compiled(self.covariance_type, self._dtype().name)

    def _run_in_memory(self, X, params, center, bound):
        functions = self._functions()
        k, d = params[1].shape
        key = (self.covariance_type, X.dtype.name, len(X), d, k)
        x = tf.constant(X)
        history = _graph.history_buffer(self.max_iter, X.dtype)
        tol, reg_covar = tf.constant(self.tol, X.dtype), tf.constant(self.reg_covar, X.dtype)
        n_iter, converged = 0, False
        for jit, until in _graph.stages(key, len(X), k, d, self.max_iter):
            params, bound, n_iter, converged, ok, history = functions.em_run[jit](
                x, params, center, history, tf.constant(n_iter), tf.constant(until), tol,
                reg_covar, tf.constant(bound, X.dtype),
            )  # fmt: skip
            if jit:
                _graph.compiled_with_xla(key)
            if not bool(ok):
                raise ValueError(_init.ILL_DEFINED)
            n_iter, converged, bound = int(n_iter), bool(converged), float(bound)
            if converged:
                break
        history = [float(b) for b in history.numpy()[:n_iter]]
        return params, bound, n_iter, converged, history

    def _run_streamed(self, source, params, center, bound):
        history, converged, n_iter = [], False, 0
        functions = self._functions()
        reg_covar = tf.constant(self.reg_covar, params[0].dtype)
        for n_iter in range(1, self.max_iter + 1):  # noqa: B007
            stats = None
            for batch in source:
                x, mask = _graph.bucket(batch)
                statistics = functions.batch_statistics[
                    _graph.use_xla(len(x), *params[1].shape, self.max_iter)
                ]
                part = statistics(x, mask, params, center)
                stats = part if stats is None else tuple(a + b for a, b in zip(stats, part))
            if float(stats[4]) < self.n_components:
                raise ValueError(
                    f"Expected n_samples >= n_components but got n_components = "
                    f"{self.n_components}, n_samples = {int(stats[4])}"
                )
            new_bound = float(stats[3] / stats[4])
            params, ok = functions.m_step(stats, params, center, reg_covar)
            if not bool(ok):
                raise ValueError(_init.ILL_DEFINED)
            history.append(new_bound)
            converged, bound = abs(new_bound - bound) < self.tol, new_bound
            if converged:
                break
        return params, bound, n_iter, converged, history

    def _print_run(self, history, converged, bound, seconds):
        if self.verbose >= 2:
            previous = -math.inf
            for n_iter, value in enumerate(history, start=1):
                if n_iter % self.verbose_interval == 0:
                    print(f"  Iteration {n_iter}\t ll change {value - previous:.5f}")
                previous = value
        if self.verbose:
            state = "converged" if converged else "did not converge"
            print(f"Initialization {state}. time lapse {seconds:.5f}s\t lower bound {bound:.5f}.")

    def _set_fitted(self, params):
        weights, means, covariances, prec_chol = (p.numpy() for p in params)
        self.weights_, self.means_, self.covariances_ = weights, means, covariances
        self.precisions_cholesky_ = prec_chol
        if self.covariance_type in ("full", "tied"):
            self.precisions_ = prec_chol @ np.swapaxes(prec_chol, -1, -2)
        else:
            self.precisions_ = prec_chol**2

    # Inference ---------------------------------------------------------------------------

    def _check_fitted_input(self, X):
        check_is_fitted(self, FITTED)
        return _data.check_matrix(X, self.means_.dtype, self.n_features_in_)

    def _weighted_log_prob(self, X):
        """`[n, k]` log w_k + log N(x | k), in batches of PREDICT_BATCH rows."""
        params = tuple(tf.constant(getattr(self, name)) for name in FITTED)
        center = tf.constant(self.weights_ @ self.means_)
        weighted_log_prob = _graph.compiled(
            self.covariance_type, self.means_.dtype.name
        ).weighted_log_prob
        parts = [
            weighted_log_prob(tf.constant(X[i : i + PREDICT_BATCH]), params, center).numpy()
            for i in range(0, len(X), PREDICT_BATCH)
        ]  # fmt: skip
        return np.concatenate(parts)

    def _per_batch(self, X, method):
        if _data.is_stream(X):
            source = _data.BatchSource(X, self.means_.dtype)
            return np.concatenate([method(batch) for batch in source])
        return method(X)

    def score_samples(self, X):
        """`[n]` log-likelihood of each sample under the mixture."""
        log_prob = self._weighted_log_prob(self._check_fitted_input(X))
        peak = log_prob.max(axis=1, keepdims=True)
        return (peak + np.log(np.exp(log_prob - peak).sum(axis=1, keepdims=True)))[:, 0]

    def score(self, X, y=None):
        """Mean log-likelihood of the samples (a float)."""
        return float(np.mean(self.score_samples(X)))

    def predict(self, X):
        """`[n]` index of each sample's most probable component (X may be a stream)."""
        return self._per_batch(
            X, lambda x: self._weighted_log_prob(self._check_fitted_input(x)).argmax(axis=1)
        )

    def predict_proba(self, X):
        """`[n, k]` posterior probability of each component for each sample."""
        log_prob = self._weighted_log_prob(self._check_fitted_input(X))
        probabilities = np.exp(log_prob - log_prob.max(axis=1, keepdims=True))
        return probabilities / probabilities.sum(axis=1, keepdims=True)

    def sample(self, n_samples=1):
        """Draws samples from the fitted mixture.

        Args:
            n_samples: number of samples (>= 1).

        Returns:
            `(X [n_samples, d], labels [n_samples])`, grouped by component as in scikit-learn.
        """
        check_is_fitted(self, FITTED)
        if not isinstance(n_samples, (int, np.integer)) or n_samples < 1:
            raise ValueError(f"n_samples must be an int >= 1; got {n_samples!r}")
        rng = check_random_state(self.random_state)
        weights = self.weights_.astype("float64")
        counts = rng.multinomial(n_samples, weights / weights.sum())  # [k]
        scales = self._scale_tril()  # [k, d, d]
        d = self.means_.shape[1]
        X = np.concatenate(
            [m + rng.standard_normal((c, d)) @ s.T for m, s, c in zip(self.means_, scales, counts)]
        )
        labels = np.repeat(np.arange(len(counts)), counts)
        return X.astype(self.means_.dtype), labels

    def parameter_count(self):
        """The number of free parameters of the fitted mixture (weights, means, covariances)."""
        k, d = self.means_.shape
        covariance = {"full": k * d * (d + 1) / 2, "tied": d * (d + 1) / 2, "diag": k * d,
                      "spherical": k}[self.covariance_type]  # fmt: skip
        return int(covariance + k * d + k - 1)

    def bic(self, X):
        """Bayesian information criterion on X (lower is better)."""
        return -2 * self.score(X) * len(X) + self.parameter_count() * math.log(len(X))

    def aic(self, X):
        """Akaike information criterion on X (lower is better)."""
        return -2 * self.score(X) * len(X) + 2 * self.parameter_count()

    # TFP, persistence, export ------------------------------------------------------------

    def _scale_tril(self):
        """`[k, d, d]` lower Cholesky factor of every component's covariance (float64)."""
        k, d = self.means_.shape
        covariances = self.covariances_.astype("float64")
        if self.covariance_type == "full":
            return np.linalg.cholesky(covariances)
        if self.covariance_type == "tied":
            return np.broadcast_to(np.linalg.cholesky(covariances), (k, d, d))
        if self.covariance_type == "diag":
            return np.sqrt(covariances)[:, :, None] * np.eye(d)
        return np.sqrt(covariances)[:, None, None] * np.eye(d)

    def distribution(self):
        """The fitted mixture as a TFP distribution, built on demand from the fitted arrays.

        Returns:
            `tfd.MixtureSameFamily` of `tfd.MultivariateNormalTriL` components ("full",
            "tied") or `tfd.MultivariateNormalDiag` ("diag", "spherical"); its `log_prob`
            equals `score_samples`.

        Example:
            >>> dist = kgan.mixture.GaussianMixture(3).fit(x).distribution()
            >>> dist.sample(10), dist.log_prob(x)
        """
        check_is_fitted(self, FITTED)
        dtype = self.means_.dtype
        mixture = tfd.Categorical(logits=np.log(self.weights_).astype(dtype))
        if self.covariance_type in ("full", "tied"):
            components = tfd.MultivariateNormalTriL(
                loc=self.means_, scale_tril=self._scale_tril().astype(dtype)
            )
        else:
            scale = np.sqrt(self.covariances_).astype(dtype)
            if self.covariance_type == "spherical":
                scale = np.repeat(scale[:, None], self.means_.shape[1], axis=1)
            components = tfd.MultivariateNormalDiag(loc=self.means_, scale_diag=scale)
        return tfd.MixtureSameFamily(mixture, components)

    def inference_module(self):
        """A `tf.Module` holding the fitted parameters as constants, with traced functions
        `score_samples`, `predict_proba` and `predict` on `[None, d]` float32 inputs.

        Example:
            >>> module = gmm.inference_module()
            >>> tf.saved_model.save(module, path, signatures=module.signatures())
        """
        check_is_fitted(self, FITTED)
        return GaussianMixtureModule(
            *(getattr(self, name) for name in FITTED), covariance_type=self.covariance_type
        )

    def inference_functions(self):
        """`{"score_samples", "predict_proba", "predict"}`: the traced functions of a fresh
        `inference_module()`, each with input signature `[None, d]` float32, for
        `tf.saved_model.save(obj, path, signatures=...)` under any root object `obj` (the
        parameters are constants inside the functions)."""
        return self.inference_module().signatures()

    def save(self, path):
        """Writes the configuration and the fitted arrays to one `.npz` file, atomically
        (nothing half-written is left if writing fails).

        Example:
            >>> gmm.save("gmm.npz")
            >>> gmm = kgan.mixture.GaussianMixture.load("gmm.npz")
        """
        return _persistence.save(self, path)

    @classmethod
    def load(cls, path):
        """Reads a model written by `save`."""
        return _persistence.load(cls, path)

    # Preset hooks (`kgan.zoo.save_to_preset` and `kgan.zoo.load` call them) -----------------

    def preset_config(self):
        """The `config.json` content of a preset: the arguments, the fitted scalars, and the
        module and class that `from_preset_config` rebuilds it with."""
        return {"module": "kgan.mixture", **_persistence.preset_config(self)}

    def save_preset_weights(self, path):
        """Writes the fitted arrays (and `*_init` arguments) to the preset's weights file."""
        _persistence.save_weights_h5(self, path)

    @classmethod
    def from_preset_config(cls, config, weights_path=None):
        """Rebuilds the model of `preset_config`; with `weights_path`, fitted as it was."""
        return _persistence.from_preset_files(cls, config, weights_path)
