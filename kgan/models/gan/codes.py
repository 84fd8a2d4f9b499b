"""GANs whose latent holds codes that a network reads back: the base of ClusterGAN and InfoGAN.

The latent is `[noise_scale * noise, onehot(cluster), continuous]`: `noise_dim` values from
N(0, I), a categorical code over `num_clusters` values (uniform), and `num_continuous` codes
uniform in [-1, 1]. With several independent categorical codes (`categorical_codes` F of K
values each), the one-hot part is F one-hots side by side and a cluster is a tuple of codes,
numbered `c_1 K^(F-1) + ... + c_F` (K^F clusters). A subclass has a network that reads the
codes back from samples (`_read_codes`); the cluster of a data point is the argmax of its
categorical logits (of each code's). What the subclasses share lives here: the step's latent
draws, `cluster_latents` (the sampling contract for the noise, clusters cycled),
`generate(clusters=..., codes=...)`, `encode`, `cluster`, `cluster_probabilities` and the
export of `encode` and `cluster`.
"""

import numbers

import numpy as np
import tensorflow as tf
from keras import ops

from kgan import sampling
from kgan.models.gan.inference import GANInferenceModule
from kgan.models.gan.trainers import GAN, default_networks


class CodeGAN(GAN):
    """A GAN with a categorical code (and optional continuous codes) in its latent.

    A subclass sets, after `GAN.__init__`, `self._set_codes(num_clusters, num_continuous,
    noise_scale, categorical_codes)` and implements `_read_codes(x, training)` -> `(categorical
    logits [n, F K], continuous codes [n, C], features [n, d])` (F codes' logits side by side).

    Sampling: `generate` without latents draws its clusters uniformly (cycled), as the step
    does; after `fit_cluster_proportions(x)`, with `sampling="proportional"` (saved with the
    model), it draws them in proportion to the sizes of the discovered clusters in `x`, so a
    category the model found rare in the data stays rare in its samples.
    """

    # How `generate` draws clusters when no latents are given.
    samplings = ("uniform", "proportional")

    def __init__(
        self, generator, discriminator, cluster_proportions=None, sampling="uniform", **kwargs
    ):
        super().__init__(generator, discriminator, **kwargs)
        if sampling not in self.samplings:
            raise ValueError(f"sampling must be one of {self.samplings}; got {sampling!r}")
        if sampling == "proportional" and cluster_proportions is None:
            raise ValueError(
                "sampling='proportional' needs the clusters' proportions: call "
                "model.fit_cluster_proportions(x) (or pass cluster_proportions)"
            )
        self._pending_proportions = cluster_proportions
        self.sampling = sampling

    latent_distribution = "codes"
    inference_names = ("generate", "encode", "cluster")
    # The latent size is `noise_dim` plus the codes, so `latent_dim` is not an option.
    build_options = (
        *(option for option in GAN.build_options if option != "latent_dim"),
        "num_clusters",
        "noise_dim",
    )

    @staticmethod
    def _networks(shape, noise_dim, image_noise_dim, code_dim, **network_options):
        """`(generator, discriminator, noise_dim)` of `GAN.from_shape`'s default networks for
        latents of `noise_dim` (by default `image_noise_dim` for images, 2 for vectors) plus
        `code_dim` code values."""
        shape = tuple(shape)
        if noise_dim is None:
            noise_dim = image_noise_dim if len(shape) == 3 else 2
        noise_dim = sampling.check_positive_int("noise_dim", noise_dim)
        generator, discriminator = default_networks(
            shape, latent_dim=noise_dim + code_dim, **network_options
        )
        return generator, discriminator, noise_dim

    def _set_codes(self, num_clusters, num_continuous=0, noise_scale=1.0, categorical_codes=1):
        """Sets the latent's layout: F = `categorical_codes` codes of K = `num_clusters` values
        (`self.code_size`; `self.num_clusters` is then K^F, the clusters' count), then
        `num_continuous` codes; the noise takes the rest of the generator's latent."""
        if isinstance(num_clusters, bool) or not isinstance(num_clusters, numbers.Integral):
            raise ValueError(f"num_clusters must be an int >= 2; got {num_clusters!r}")
        if isinstance(num_continuous, bool) or not isinstance(num_continuous, numbers.Integral):
            raise ValueError(f"num_continuous must be an int >= 0; got {num_continuous!r}")
        categorical_codes = sampling.check_positive_int("categorical_codes", categorical_codes)
        width = categorical_codes * num_clusters
        if num_continuous < 0 or num_clusters < 2 or width >= self.latent_dim - num_continuous:
            codes = (
                "" if categorical_codes == 1 else f" times categorical_codes={categorical_codes}"
            )
            raise ValueError(
                f"num_clusters must be >= 2 and, with num_continuous={num_continuous}, below the "
                f"generator's latent size {self.latent_dim} (noise and codes share it); got "
                f"{num_clusters}{codes}"
            )
        self.code_size = int(num_clusters)
        self.categorical_codes = categorical_codes
        self.num_clusters = self.code_size**categorical_codes
        self.num_continuous = int(num_continuous)
        self.noise_dim = self.latent_dim - width - self.num_continuous
        self._noise_scale = float(noise_scale)
        self.cluster_proportions = None
        if self._pending_proportions is not None:
            self._set_proportions(self._pending_proportions)

    def set_sampling(self, sampling):
        """Sets how `generate` draws clusters: `"uniform"` or `"proportional"` (needs
        `fit_cluster_proportions`). Saved with the model; returns self."""
        if sampling not in self.samplings:
            raise ValueError(f"sampling must be one of {self.samplings}; got {sampling!r}")
        if sampling == "proportional" and self.cluster_proportions is None:
            raise ValueError(
                "sampling='proportional' needs the clusters' proportions: call "
                "model.fit_cluster_proportions(x) first"
            )
        self.sampling = sampling
        return self

    def _set_proportions(self, proportions):
        proportions = np.asarray(proportions, "float64")
        if (
            proportions.shape != (self.num_clusters,)
            or not np.isfinite(proportions).all()
            or np.any(proportions < 0)
            or proportions.sum() <= 0
        ):
            raise ValueError(
                f"cluster_proportions must be {self.num_clusters} non-negative numbers with a "
                f"positive sum; got {proportions.tolist()}"
            )
        self.cluster_proportions = (proportions / proportions.sum()).tolist()

    def get_config(self):
        return {
            **super().get_config(),
            "cluster_proportions": self.cluster_proportions,
            "sampling": self.sampling,
        }

    def fit_cluster_proportions(self, x, sampling="proportional", batch_size=256):
        """Counts the discovered clusters of `x` (`cluster(x)`) and keeps their proportions
        (in the config, saved with the model).

        Args:
            x: `[n, *shape]` float data (images in [-1, 1]), typically the training data.
            sampling: what `generate` draws clusters from afterwards: `"proportional"` (the
                default) or `"uniform"` (count only).
            batch_size: examples per code-network call.

        Returns:
            self.

        Example:
            >>> model.fit_cluster_proportions(x_train)
            >>> images = model.generate(100, seed=0)   # clusters in the data's proportions
        """
        if sampling not in self.samplings:
            raise ValueError(f"sampling must be one of {self.samplings}; got {sampling!r}")
        clusters = self.cluster(x, batch_size)
        if len(clusters) == 0:
            raise ValueError("x holds no examples")
        self._set_proportions(np.bincount(clusters, minlength=self.num_clusters))
        self.sampling = sampling
        return self

    def _split_latents(self, latents):
        """`(noise, one-hot codes [n, F K], continuous codes)` of `[n, latent_dim]` latents."""
        n, k = self.noise_dim, self.categorical_codes * self.code_size
        return latents[:, :n], latents[:, n : n + k], latents[:, n + k :]

    def _code_places(self):
        """`[F]` ints: the place value of each categorical code in a cluster id (base K, the
        first code the most significant)."""
        return self.code_size ** np.arange(self.categorical_codes - 1, -1, -1)

    def _code_digits(self, clusters):
        """`[n, F]` ints: each cluster id's categorical codes, the first the most significant."""
        return (np.asarray(clusters)[:, None] // self._code_places()) % self.code_size

    def _cluster_ids(self, logits):
        """int32 cluster ids `[n]` of categorical logits `[n, F K]` (a tensor): each code's
        argmax, read as one number of base K."""
        # tf.argmax, not ops.argmax: the latter's ops have no TFLite kernel.
        shape = (-1, self.categorical_codes, self.code_size)
        digits = tf.argmax(tf.reshape(logits, shape), axis=-1, output_type=tf.int32)
        return tf.reduce_sum(digits * tf.constant(self._code_places(), tf.int32), axis=1)

    def _read_codes(self, x, training=False):
        """`(categorical logits [n, F K], continuous codes [n, C], features [n, d])` of
        samples."""
        raise NotImplementedError

    # The step -----------------------------------------------------------------------------

    def _step_latents(self, layout):
        seed = self.seed_generator
        noise = layout.normal((self.noise_dim,), seed) * self._noise_scale
        parts = [noise]
        for _ in range(self.categorical_codes):
            codes = ops.cast(ops.floor(layout.uniform((), seed) * self.code_size), "int32")
            codes = ops.minimum(codes, self.code_size - 1)  # [local]
            parts.append(ops.one_hot(codes, self.code_size))
        if self.num_continuous:
            parts.append(2.0 * layout.uniform((self.num_continuous,), seed) - 1.0)
        return ops.concatenate(parts, axis=1)

    # Generation ---------------------------------------------------------------------------

    def cluster_latents(self, num_samples=None, clusters=None, seed=None, codes=None):
        """Latents `[n, latent_dim]` of chosen clusters (and continuous codes).

        The noise follows the sampling contract (`numpy.random.default_rng(seed)`, scaled as
        the step scales it); clusters cycle `0, 1, ..., num_clusters - 1, 0, ...` when omitted;
        the continuous codes, when omitted, are drawn uniform in [-1, 1] from the same
        generator after the noise.

        Args:
            num_samples: how many; inferred from `clusters` when omitted.
            clusters: `[n]` ints in `[0, num_clusters)`, or one int for every latent.
            seed: int seed of the noise (and of the drawn continuous codes).
            codes: `[n, num_continuous]` continuous codes, or one row for every latent.

        Returns:
            A float32 numpy array.
        """
        rng = np.random.default_rng(seed)
        noise, clusters = sampling.generation_inputs(
            num_samples,
            None,
            clusters,
            None,
            latent_dim=self.noise_dim,
            num_classes=self.num_clusters,
            draw=lambda n, _: sampling.draw_latents(n, self.noise_dim, rng=rng),
            who=type(self).__name__,
            labels_name="clusters",
        )
        onehot = np.eye(self.code_size, dtype="float32")[self._code_digits(clusters)]
        parts = [self._noise_scale * noise, onehot.reshape(len(noise), -1)]
        if self.num_continuous:
            if codes is None:
                codes = rng.uniform(-1.0, 1.0, (len(noise), self.num_continuous))
            codes = np.broadcast_to(np.asarray(codes, "float32"), (len(noise), self.num_continuous))
            parts.append(codes)
        elif codes is not None:
            raise ValueError(f"{type(self).__name__} has no continuous codes: drop codes")
        return np.concatenate(parts, axis=1).astype("float32")

    def _draw_latents(self, num_samples, seed):
        """`generate`'s latents: clusters cycled, or drawn by the fitted proportions (from
        `default_rng([seed, 1])`, so the noise is the one the uniform draw has)."""
        if self.sampling != "proportional":
            return self.cluster_latents(num_samples, None, seed)
        rng = np.random.default_rng(None if seed is None else [seed, 1])
        clusters = rng.choice(self.num_clusters, size=num_samples, p=self.cluster_proportions)
        return self.cluster_latents(num_samples, clusters, seed)

    def generate(
        self,
        num_samples=None,
        latents=None,
        clusters=None,
        seed=None,
        batch_size=256,
        labels=None,
        codes=None,
    ):
        """Generates samples; `clusters` (and `codes`) pick what each shows.

        Args:
            num_samples: how many samples; inferred from `latents` or `clusters` when omitted.
            latents: `[n, latent_dim]` latents; drawn by `cluster_latents` when omitted.
            clusters: `[n]` ints in `[0, num_clusters)` or one int (with `latents` omitted).
            seed: int seed of the noise.
            batch_size: samples per generator call.
            labels: not taken (the model is unconditional); use `clusters`.
            codes: continuous codes `[n, num_continuous]` or one row (with `latents` omitted).

        Returns:
            A numpy array `[n, *sample_shape]` of float32.

        Example:
            >>> grid = model.generate(clusters=np.repeat(np.arange(10), 8), seed=0)
        """
        if latents is not None and (clusters is not None or codes is not None):
            raise ValueError("pass clusters (and codes) or latents, not both")
        if latents is None and (clusters is not None or codes is not None):
            latents = self.cluster_latents(num_samples, clusters, seed, codes)
        # Otherwise the latents are `_draw_latents`' (the clusters as `sampling` says).
        return super().generate(num_samples, latents, labels, seed, batch_size)

    # Inference ----------------------------------------------------------------------------

    def _read(self, x, batch_size):
        """`(cluster logits, continuous codes, features)` of `x` as numpy arrays."""
        empty = (
            np.zeros((0, self.categorical_codes * self.code_size), "float32"),
            np.zeros((0, self.num_continuous), "float32"),
            np.zeros((0, 0), "float32"),
        )
        return self._map_batches("_read_traced", self._read_codes, x, batch_size, empty)

    def encode(self, x, batch_size=256):
        """`[n, d]` float32 continuous features of each example (the code network's output;
        see the subclass), for clustering, 1-NN or a mixture."""
        return self._read(x, batch_size)[2]

    def cluster_probabilities(self, x, batch_size=256):
        """`[n, num_clusters]`: the softmax of the categorical logits (with several codes,
        the product of theirs, cluster `c_1 K^(F-1) + ... + c_F` in that column)."""
        logits = self._read(x, batch_size)[0].astype("float64")
        logits = logits.reshape(len(logits), self.categorical_codes, self.code_size)
        logits -= logits.max(axis=2, keepdims=True)
        log_p = logits - np.log(np.exp(logits).sum(axis=2, keepdims=True))
        joint = np.zeros((len(logits), 1))
        for code in range(self.categorical_codes):
            joint = (joint[:, :, None] + log_p[:, code, None, :]).reshape(len(logits), -1)
        return np.exp(joint)

    def cluster(self, x, batch_size=256):
        """`[n]` int64 cluster ids: the argmax of the categorical logits (with several codes,
        each code's argmax, numbered `c_1 K^(F-1) + ... + c_F`)."""
        logits = self._read(x, batch_size)[0]
        return np.asarray(self._cluster_ids(logits)).astype("int64")

    # Export -------------------------------------------------------------------------------

    def inference_module(self):
        """A `tf.Module` serving `generate(z)`, `encode(x)` and `cluster(x)` (see
        `CodeGANInferenceModule`)."""
        return CodeGANInferenceModule(self)


class CodeGANInferenceModule(GANInferenceModule):
    """A trained code GAN's generator and code network and the functions that export them.

    `generate(z)` as for `kgan.GAN` (`z` from `cluster_latents`), `encode(x)` (`[None, *shape]`
    float32 -> features) and `cluster(x)` (-> int32 `[None]`). There is no `sample` signature:
    its latents would be N(0, I).
    """

    def __init__(self, model):
        super().__init__(model)
        # The code network's variables, tracked for SavedModel and the TFLite converter.
        self.code_variables = [v.value for v in model._code_network_variables()]
        x_spec = tf.TensorSpec([None, *model.sample_shape], tf.float32, name="x")
        self.encode = tf.function(
            lambda x: tf.cast(model._read_codes(x)[2], tf.float32), input_signature=[x_spec]
        )
        self.cluster = tf.function(
            lambda x: model._cluster_ids(model._read_codes(x)[0]),
            input_signature=[x_spec],
        )

    def signatures(self):
        """`{"generate", "encode", "cluster"}` -> traced functions."""
        return {"generate": self.generate, "encode": self.encode, "cluster": self.cluster}
