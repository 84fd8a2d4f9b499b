"""The fitted mixture as a `tf.Module` with traced inference functions, for SavedModel export."""

import tensorflow as tf

from kgan.mixture import em


class GaussianMixtureModule(tf.Module):
    """Fitted mixture parameters as constants and the functions that serve them.

    `score_samples(x)` gives `[n]` log-likelihoods, `predict_proba(x)` `[n, k]` posteriors and
    `predict(x)` `[n]` int64 components, for `x` of shape `[None, d]` float32 (computed in the
    parameters' dtype, returned in it).

    Args:
        weights, means, covariances, precisions_cholesky: the fitted arrays of a
            `kgan.mixture.GaussianMixture`.
        covariance_type: "full", "tied", "diag" or "spherical".

    Example:
        >>> module = kgan.mixture.GaussianMixture(2).fit(x).inference_module()
        >>> tf.saved_model.save(module, "gmm_model", signatures=module.signatures())
    """

    def __init__(self, weights, means, covariances, precisions_cholesky, covariance_type):
        super().__init__(name="gaussian_mixture")
        self.covariance_type = covariance_type
        # Constants, not variables: the traced functions then carry the parameters with them
        # and can be saved under any root object, not only this module.
        self.weights = tf.constant(weights, name="weights")
        self.means = tf.constant(means, name="means")
        self.covariances = tf.constant(covariances, name="covariances")
        self.precisions_cholesky = tf.constant(precisions_cholesky, name="precisions_cholesky")
        spec = [tf.TensorSpec([None, means.shape[1]], tf.float32, name="x")]
        self.score_samples = tf.function(self._score_samples, input_signature=spec)
        self.predict_proba = tf.function(self._predict_proba, input_signature=spec)
        self.predict = tf.function(self._predict, input_signature=spec)

    def _log_prob(self, x):
        params = (self.weights, self.means, self.covariances, self.precisions_cholesky)
        center = tf.linalg.matvec(params[1], params[0], transpose_a=True)  # [d]
        x = tf.cast(x, params[1].dtype)
        return em.weighted_log_prob(x, params, self.covariance_type, center)  # [n, k]

    def _score_samples(self, x):
        return tf.reduce_logsumexp(self._log_prob(x), axis=1)

    def _predict_proba(self, x):
        return tf.nn.softmax(self._log_prob(x), axis=1)

    def _predict(self, x):
        return tf.argmax(self._log_prob(x), axis=1)

    def signatures(self):
        """`{"score_samples", "predict_proba", "predict"}` -> traced functions, ready for
        `tf.saved_model.save(self, path, signatures=...)`."""
        return {
            "score_samples": self.score_samples,
            "predict_proba": self.predict_proba,
            "predict": self.predict,
        }
