"""`LatentClustering`: a Gaussian mixture over the features of an encoder (N2D-style)."""

import copy

import keras
import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.utils.validation import check_is_fitted

from kgan.cluster.base import ClusteringEstimator
from kgan.mixture import GaussianMixture

PREDICT_BATCH = 512


def encode_features(encoder, x, batch_size=PREDICT_BATCH):
    """Maps samples to a `[n, d]` float32 feature matrix.

    Args:
        encoder: None (the samples themselves, flattened), an object with an `encode(x)`
            method (such as a trained `kgan.models.VAE`, whose posterior means are used), a
            `keras.Model` (run by `predict`; the first output when it has several, such as
            the mean of a `kgan.networks.vae_encoder`), or any callable `x -> features`.
        x: `[n, ...]` array of samples.
        batch_size: batch size for a `keras.Model`.

    Returns:
        `[n, d]` float32 numpy array.

    Example:
        >>> features = kgan.cluster.encode_features(vae, x)  # vae.encode(x), flattened
    """
    if encoder is None:
        features = np.asarray(x)
    elif hasattr(encoder, "encode"):
        features = encoder.encode(x)
    elif isinstance(encoder, keras.Model):
        features = encoder.predict(x, batch_size=batch_size, verbose=0)
    elif callable(encoder):
        features = encoder(x)
    else:
        raise TypeError(
            "encoder must be None, an object with an encode(x) method (a kgan.models.VAE), a "
            f"keras.Model or a callable x -> features; got {type(encoder).__name__}"
        )
    if isinstance(features, (list, tuple)):
        features = features[0]
    if isinstance(features, dict):
        raise TypeError(
            "the encoder returned a dict; wrap it in a callable that returns one feature array"
        )
    features = np.asarray(keras.ops.convert_to_numpy(features), np.float32)
    if len(features) != len(x):
        raise ValueError(
            f"the encoder returned {len(features)} feature rows for {len(x)} samples; it must "
            "map [n, ...] samples to [n, d] features"
        )
    features = features.reshape(len(features), -1)
    if not np.all(np.isfinite(features)):
        raise ValueError("the encoder returned NaN or infinite features; check its training")
    return features


def umap_embedding(n_components=10, n_neighbors=20, min_dist=0.0, random_state=None, **kwargs):
    """A `umap.UMAP` set up as in N2D (McConville et al., 2020): one embedding dimension per
    cluster, 20 neighbours, `min_dist=0` so that clusters stay tight.

    Args:
        n_components: embedding dimensions.
        n_neighbors: size of the local neighbourhood.
        min_dist: minimum distance of embedded points.
        random_state: seed; a fixed seed makes UMAP deterministic but single-threaded.
        **kwargs: any other `umap.UMAP` argument.

    Returns:
        A `umap.UMAP` instance (not fitted).

    Raises:
        ImportError: when `umap-learn` is not installed.

    Example:
        >>> clustering = kgan.cluster.LatentClustering(
        ...     vae, manifold=kgan.cluster.umap_embedding(n_neighbors=10, random_state=0))
    """
    try:
        import umap
    except ImportError as error:
        raise ImportError(
            "manifold='umap' needs the umap-learn package: pip install umap-learn "
            "(or pip install kgan[cluster])"
        ) from error
    return umap.UMAP(
        n_components=n_components,
        n_neighbors=n_neighbors,
        min_dist=min_dist,
        random_state=random_state,
        **kwargs,
    )


class LatentClustering(ClusteringEstimator):
    """Clusters samples by a Gaussian mixture over their (optionally embedded) features.

    The pipeline is `encoder -> manifold -> mixture`: features come from the encoder (a
    trained `kgan.models.VAE`, any `keras.Model` or callable, or the raw flattened samples),
    an optional manifold learner embeds them (UMAP, as in N2D: McConville et al., 2020,
    "N2D: (Not Too) Deep Clustering via Clustering the Local Manifold of an Autoencoded
    Embedding", reported MNIST ACC 97.9%), and a `kgan.mixture.GaussianMixture` clusters the
    result. The encoder is used as given: train it first.

    Args:
        encoder: None, an object with `encode(x)` (a trained `kgan.models.VAE`), a
            `keras.Model` or a callable `x -> [n, ...] features`; see `encode_features`.
        n_clusters: the number of clusters.
        mixture: None for `kgan.mixture.GaussianMixture(n_clusters, covariance_type="full",
            n_init=10, random_state=random_state)`, or an unfitted mixture with `fit`,
            `predict` and `predict_proba` (it is cloned, not changed).
        manifold: None (cluster the features directly), `"umap"` (`umap_embedding(n_clusters,
            random_state=random_state)`; needs `pip install umap-learn`), or an object with
            `fit_transform` and `transform` (cloned, not changed).
        random_state: seed for the default mixture and UMAP.

    Attributes:
        mixture_: the fitted mixture.
        manifold_: the fitted manifold learner, or None.
        labels_: `[n]` cluster of every training sample.
        embedding_: `[n, n_features_]` the features the mixture was fitted on (after the
            manifold, if any).
        n_features_: the feature dimension the mixture sees.

    Example:
        >>> x, y = kgan.data.load_arrays("digits", split="all")
        >>> clustering = kgan.cluster.LatentClustering(vae, n_clusters=10, manifold="umap")
        >>> labels = clustering.fit_predict(x)
        >>> clustering.score(x, y)  # clustering accuracy
        0.93
        >>> kgan.cluster.clustering_scores(y, labels)  # ACC, NMI and ARI
    """

    def __init__(self, encoder=None, n_clusters=10, mixture=None, manifold=None, random_state=None):
        self.encoder = encoder
        self.n_clusters = n_clusters
        self.mixture = mixture
        self.manifold = manifold
        self.random_state = random_state

    def _make_mixture(self):
        if self.mixture is None:
            return GaussianMixture(
                self.n_clusters,
                covariance_type="full",
                n_init=10,
                random_state=self.random_state,
            )
        if not all(hasattr(self.mixture, m) for m in ("fit", "predict", "predict_proba")):
            raise TypeError(
                "mixture must have fit, predict and predict_proba (a "
                f"kgan.mixture.GaussianMixture); got {type(self.mixture).__name__}"
            )
        mixture = _copy(self.mixture)
        n_components = getattr(mixture, "n_components", self.n_clusters)
        if n_components != self.n_clusters:
            raise ValueError(
                f"the mixture has n_components={n_components} but n_clusters="
                f"{self.n_clusters}; make them equal"
            )
        return mixture

    def _make_manifold(self):
        if self.manifold is None:
            return None
        if isinstance(self.manifold, str):
            if self.manifold != "umap":
                raise ValueError(
                    f"manifold must be None, 'umap' or an object with fit_transform and "
                    f"transform; got {self.manifold!r}"
                )
            return umap_embedding(self.n_clusters, random_state=self.random_state)
        if not all(hasattr(self.manifold, m) for m in ("fit_transform", "transform")):
            raise TypeError(
                "manifold must have fit_transform and transform (such as umap.UMAP); got "
                f"{type(self.manifold).__name__}"
            )
        return _copy(self.manifold)

    def _check_x(self, x):
        x = np.asarray(x)
        if x.ndim < 2 and self.encoder is None:
            raise ValueError(f"x must be [n, ...] samples; got shape {x.shape}")
        if len(x) < self.n_clusters:
            raise ValueError(
                f"x has {len(x)} samples, fewer than n_clusters={self.n_clusters}; pass more "
                "samples or lower n_clusters"
            )
        return x

    def transform(self, x):
        """The features the mixture clusters: encoded, then embedded by the fitted manifold.

        Args:
            x: `[n, ...]` samples.

        Returns:
            `[n, d]` float32 features.
        """
        check_is_fitted(self, "mixture_")
        features = encode_features(self.encoder, np.asarray(x))
        if self.manifold_ is not None:
            features = np.asarray(self.manifold_.transform(features), np.float32)
        if features.shape[1] != self.n_features_:
            raise ValueError(
                f"x gives {features.shape[1]} features; the clustering was fitted on "
                f"{self.n_features_}"
            )
        return features

    def fit(self, x, y=None):
        """Encodes `x`, fits the manifold (if any) and the mixture.

        Args:
            x: `[n, ...]` samples, in the form the encoder takes.
            y: ignored.

        Returns:
            self.
        """
        x = self._check_x(x)
        if self.n_clusters < 1:
            raise ValueError(f"n_clusters must be a positive integer; got {self.n_clusters}")
        mixture, manifold = self._make_mixture(), self._make_manifold()
        features = encode_features(self.encoder, x)  # [n, d]
        if manifold is not None:
            features = np.asarray(manifold.fit_transform(features), np.float32)  # [n, m]
        self.labels_ = np.asarray(mixture.fit_predict(features))
        self.mixture_, self.manifold_ = mixture, manifold
        self.embedding_, self.n_features_ = features, features.shape[1]
        return self

    def predict(self, x):
        """The most probable cluster of each sample.

        Args:
            x: `[n, ...]` samples.

        Returns:
            `[n]` integer cluster ids.
        """
        return np.asarray(self.mixture_.predict(self.transform(x)))

    def predict_proba(self, x):
        """The posterior probability of every cluster for each sample.

        Args:
            x: `[n, ...]` samples.

        Returns:
            `[n, n_clusters]` float array; rows sum to 1.
        """
        return np.asarray(self.mixture_.predict_proba(self.transform(x)))


def _copy(estimator):
    """An unfitted copy of a scikit-learn estimator, or a deep copy of anything else."""
    if isinstance(estimator, BaseEstimator):
        return clone(estimator)
    return copy.deepcopy(estimator)
