"""Ex-post density estimation (Ghosh et al. 2020, "From variational to deterministic
autoencoders"): a Gaussian mixture fitted on an encoder's codes of the training data, kept in
the model's weights, from which `generate` can draw its latents instead of the prior.

A model with an encoder (VAE, VAE-GAN, BiGAN) mixes in `ExPostDensityMixin`. Its decoder (or
generator) was trained on latents near the encoder's codes; where the aggregate posterior
differs from the prior, latents drawn from the prior land where the decoder saw little, and
a mixture of the codes samples where it learned. BiGAN's clusters are the same mixture's
components.
"""

import numbers

import numpy as np
import tensorflow as tf
from keras import ops

from kgan import sampling

# How `generate` draws latents when none are given.
SAMPLINGS = ("prior", "ex_post")


class ExPostDensityMixin:
    """A Gaussian mixture of the encoder's codes in the model's weights, and sampling from it.

    The host sets `latent_dim`, has `encode(x, batch_size=...)` and calls
    `_init_ex_post(components, sampling)` in `__init__` after its own weights;
    `_ex_post_config()` goes into its config. `fit_ex_post(x)` fits and keeps the mixture;
    `sampling="ex_post"` (saved with the model) makes `generate` draw its latents from it.
    """

    def _init_ex_post(self, components=None, sampling="prior"):
        if sampling not in SAMPLINGS:
            raise ValueError(f"sampling must be one of {SAMPLINGS}; got {sampling!r}")
        self.ex_post_components = None
        if components is not None:
            self._add_ex_post_weights(components)
        if sampling == "ex_post" and components is None:
            raise ValueError(
                "sampling='ex_post' draws from a mixture of the encoder's codes: fit one with "
                "model.fit_ex_post(x) (or pass ex_post_components)"
            )
        self.sampling = sampling

    def _add_ex_post_weights(self, components):
        if (
            isinstance(components, bool)
            or not isinstance(components, numbers.Integral)
            or components < 1
        ):
            raise ValueError(f"the mixture needs an int >= 1 of components; got {components!r}")
        k, d = int(components), self.latent_dim
        self.ex_post_components = k
        # sklearn's parameterization: the precisions' Cholesky factors.
        self.ex_post_log_weights = self.add_weight(
            shape=(k,), initializer="zeros", trainable=False, name="ex_post_log_weights"
        )
        self.ex_post_means = self.add_weight(
            shape=(k, d), initializer="zeros", trainable=False, name="ex_post_means"
        )
        self.ex_post_precisions_cholesky = self.add_weight(
            shape=(k, d, d),
            initializer=lambda shape, dtype=None: ops.broadcast_to(ops.eye(d), shape),
            trainable=False,
            name="ex_post_precisions_cholesky",
        )
        self.ex_post_fitted = self.add_weight(
            shape=(), initializer="zeros", trainable=False, name="ex_post_fitted"
        )

    def _ex_post_config(self):
        return {"ex_post_components": self.ex_post_components, "sampling": self.sampling}

    @property
    def ex_post_is_fitted(self):
        """Whether `fit_ex_post` has fitted the mixture."""
        return self.ex_post_components is not None and float(self.ex_post_fitted.numpy()) > 0.5

    def _require_ex_post(self, method):
        if not self.ex_post_is_fitted:
            raise ValueError(
                f"{method} needs the mixture of the encoder's codes: call "
                f"model.{self._ex_post_fit_name}(x) on the training data first"
            )

    # The name of the method that fits the mixture, for messages (BiGAN: fit_clusters).
    _ex_post_fit_name = "fit_ex_post"

    def _ex_post_active(self):
        return getattr(self, "sampling", "prior") == "ex_post"

    @property
    def latent_distribution(self):
        """`"mixture"` while `generate` samples ex post (export then asks for latents), else
        the host's."""
        return "mixture" if self._ex_post_active() else super().latent_distribution

    def fit_ex_post(self, x, n_components=None, sampling="ex_post", batch_size=256, **options):
        """Fits a Gaussian mixture on the encoder's codes of `x` and keeps it in the weights.

        Args:
            x: `[n, *shape]` float data (images in [-1, 1]), typically the training data.
            n_components: the mixture's components; the model's (`ex_post_components`) when it
                has one, else 10. A model's mixture keeps its size once it has one.
            sampling: what `generate` draws from afterwards: `"ex_post"` (the default) or
                `"prior"` (fit only). Saved with the model.
            batch_size: examples per encoder call.
            **options: passed to `kgan.mixture.GaussianMixture` (defaults: full covariance,
                `reg_covar=1e-4`, `n_init=3`, `random_state` the model's seed).

        Returns:
            self.

        Example:
            >>> vae.fit_ex_post(x_train, n_components=10)
            >>> images = vae.generate(64, seed=0)      # latents from the mixture
        """
        from kgan.mixture import GaussianMixture

        if sampling not in SAMPLINGS:
            raise ValueError(f"sampling must be one of {SAMPLINGS}; got {sampling!r}")
        held = self.ex_post_components
        if n_components is None:
            n_components = held or 10
        if held is not None and n_components != held:
            raise ValueError(
                f"this model keeps a mixture of {held} components; n_components="
                f"{n_components} would change its weights: build the model with "
                f"ex_post_components={n_components} instead"
            )
        features = np.asarray(self.encode(x, batch_size=batch_size), "float32")
        if len(features) < n_components:
            raise ValueError(
                f"x has {len(features)} examples, fewer than the mixture's {n_components} "
                "components"
            )
        options = {
            "covariance_type": "full",
            "reg_covar": 1e-4,
            "n_init": 3,
            "random_state": getattr(self, "seed", None),
            **options,
        }
        if options["covariance_type"] != "full":
            raise ValueError("the model keeps a full-covariance mixture: drop covariance_type")
        mixture = GaussianMixture(n_components, **options).fit(features)
        if held is None:
            self._add_ex_post_weights(n_components)
        self.ex_post_log_weights.assign(np.log(mixture.weights_).astype("float32"))
        self.ex_post_means.assign(np.asarray(mixture.means_, "float32"))
        self.ex_post_precisions_cholesky.assign(np.asarray(mixture.precisions_cholesky_, "float32"))
        self.ex_post_fitted.assign(1.0)
        self.sampling = sampling
        return self

    def set_sampling(self, sampling):
        """Sets what `generate` draws latents from: `"prior"` or `"ex_post"` (needs the fitted
        mixture). Saved with the model; returns self."""
        if sampling not in SAMPLINGS:
            raise ValueError(f"sampling must be one of {SAMPLINGS}; got {sampling!r}")
        if sampling == "ex_post":
            self._require_ex_post("sampling='ex_post'")
        self.sampling = sampling
        return self

    # Draws --------------------------------------------------------------------------------

    def _ex_post_arrays(self):
        """`(weights [k], means [k, d], square roots of the covariances [k, d, d])`, float64:
        `cov = A A^T` with `A = P^-T` for the precisions' Cholesky factors `P`."""
        logits = self.ex_post_log_weights.numpy().astype("float64")
        weights = np.exp(logits - logits.max())
        factors = self.ex_post_precisions_cholesky.numpy().astype("float64")
        roots = np.linalg.inv(np.swapaxes(factors, 1, 2))
        return weights / weights.sum(), self.ex_post_means.numpy().astype("float64"), roots

    def _ex_post_transform(self, noise, components, arrays=None):
        """Latents of mixture components from N(0, I) noise: `mean_c + A_c noise`; `arrays`
        are `_ex_post_arrays()` when the caller has them already."""
        _, means, roots = self._ex_post_arrays() if arrays is None else arrays
        latents = means[components] + np.einsum("nij,nj->ni", roots[components], noise)
        return latents.astype("float32")

    def ex_post_latents(self, num_samples, seed=None):
        """`[n, latent_dim]` latents drawn from the mixture: the N(0, I) noise by the sampling
        contract (`numpy.random.default_rng(seed)`), then each latent's component by weight
        from the same generator."""
        self._require_ex_post("ex_post_latents")
        rng = np.random.default_rng(seed)
        noise = sampling.draw_latents(num_samples, self.latent_dim, rng=rng)
        arrays = self._ex_post_arrays()
        components = rng.choice(self.ex_post_components, size=num_samples, p=arrays[0])
        return self._ex_post_transform(noise.astype("float64"), components, arrays)

    def _draw_latents(self, num_samples, seed):
        if self._ex_post_active():
            return self.ex_post_latents(num_samples, seed)
        return super()._draw_latents(num_samples, seed)

    def _ex_post_log_joint(self, features):
        """`[n, k]` log(weight_k N(features; mean_k, cov_k)) in the graph."""
        factors = self.ex_post_precisions_cholesky
        diff = features[:, None, :] - self.ex_post_means[None]  # [n, k, d]
        y = tf.einsum("nkd,kde->nke", diff, factors)
        log_det = ops.sum(ops.log(tf.linalg.diag_part(factors)), axis=-1)  # [k]
        log_normal = (
            -0.5 * ops.sum(ops.square(y), axis=-1)
            + log_det[None]
            - 0.5 * self.latent_dim * np.log(2.0 * np.pi)
        )
        return log_normal + ops.log_softmax(self.ex_post_log_weights)[None]


def stateless_ex_post_latents(num_samples, seed, log_weights, means, roots):
    """The graph-side draw of a `sample` signature: components from
    `tf.random.stateless_categorical` (seed `[seed, 1]`), noise from
    `kgan.sampling.stateless_latents` (seed `[seed, 0]`), `means[c] + roots[c] @ noise`."""
    noise = sampling.stateless_latents(num_samples, means.shape[-1], seed)
    components = tf.random.stateless_categorical(
        log_weights[None], num_samples, seed=tf.stack([seed, 1])
    )[0]
    return tf.gather(means, components) + tf.einsum(
        "nij,nj->ni", tf.gather(roots, components), noise
    )
