"""`SelfLabelingClustering`: train a classifier on confident clusters, recluster its features."""

import copy
import time

import keras
import numpy as np
import tensorflow as tf
from sklearn.base import BaseEstimator, clone
from sklearn.utils.validation import check_is_fitted

from kgan.cluster.base import ClusteringEstimator
from kgan.cluster.latent import PREDICT_BATCH, LatentClustering
from kgan.cluster.scores import clustering_accuracy

MIN_CNN_SIZE = 16


def self_labeling_classifier(
    input_shape, n_clusters, seed=None, width=16, feature_dim=128, dropout=0.3, augment=True
):
    """The default classifier of `SelfLabelingClustering`: a small augmenting CNN or an MLP.

    Images (`(height, width, channels)`) of at least `MIN_CNN_SIZE` (16) pixels a side go
    through random shifts (10%), rotations (10 degrees) and zooms (10%), active only in
    training, then three blocks of a 3x3 convolution and a 2x2 max pooling (`width`,
    `2 * width`, `4 * width` filters). Vectors (`(d,)`) and smaller images, flattened, go
    through a 256-unit dense layer instead: on the 8x8 scikit-learn digits the CNN, with
    little room for its poolings, learns far slower than the MLP. Both end in a
    `feature_dim`-unit dense layer, the features that `SelfLabelingClustering` clusters
    again, and a dense layer of `n_clusters` logits.

    Args:
        input_shape: `(height, width, channels)` or `(d,)`.
        n_clusters: the number of logits.
        seed: integer seed of the weights, the dropout and the augmentation, or None.
        width: filters of the first convolution.
        feature_dim: units of the feature layer.
        dropout: dropout rate before and after the feature layer.
        augment: whether images are augmented in training (CNN only).

    Returns:
        A functional `keras.Model` from `[batch, *input_shape]` to `[batch, n_clusters]`
        logits, not compiled; its last layer's input is the `[batch, feature_dim]` features.

    Example:
        >>> model = kgan.cluster.self_labeling_classifier((28, 28, 1), 10, seed=0)
        >>> model.output.shape
        (None, 10)
    """
    input_shape = tuple(input_shape)
    if len(input_shape) not in (1, 3):
        raise ValueError(
            f"input_shape must be (height, width, channels) or (d,); got {input_shape}"
        )
    seeds = iter(range(0 if seed is None else seed, 10**9))

    def next_seed():
        return None if seed is None else next(seeds)

    def init():
        return keras.initializers.GlorotUniform(seed=next_seed())

    inputs = keras.Input(input_shape)
    h = inputs
    if len(input_shape) == 3 and min(input_shape[:2]) >= MIN_CNN_SIZE:
        if augment:
            for layer in (
                keras.layers.RandomTranslation(0.1, 0.1, fill_mode="nearest", seed=next_seed()),
                keras.layers.RandomRotation(10 / 360, fill_mode="nearest", seed=next_seed()),
                keras.layers.RandomZoom(0.1, fill_mode="nearest", seed=next_seed()),
            ):
                h = layer(h)
        for filters in (width, 2 * width, 4 * width):
            h = keras.layers.Conv2D(
                filters, 3, padding="same", activation="relu", kernel_initializer=init()
            )(h)
            h = keras.layers.MaxPooling2D(padding="same")(h)  # [batch, ceil(h / 2), ...]
        h = keras.layers.Flatten()(h)
    else:
        h = keras.layers.Flatten()(h)  # [batch, d]
        h = keras.layers.Dense(256, activation="relu", kernel_initializer=init())(h)
    h = keras.layers.Dropout(dropout, seed=next_seed())(h)
    h = keras.layers.Dense(
        feature_dim, activation="relu", kernel_initializer=init(), name="features"
    )(h)  # [batch, feature_dim]
    h = keras.layers.Dropout(dropout, seed=next_seed())(h)
    logits = keras.layers.Dense(n_clusters, kernel_initializer=init(), name="logits")(h)
    return keras.Model(inputs, logits, name="self_labeling_classifier")


class SelfLabelingClustering(ClusteringEstimator):
    """Refines a clustering by training a classifier on its most confident members and
    clustering that classifier's features again, for a few rounds.

    `fit` runs:

    1. `base` clusters `x` (by default UMAP of the samples and a Gaussian mixture, the
       manifold step of N2D: McConville et al., 2020);
    2. in every cluster, the `confident_fraction` of members with the highest confidence
       (the log-density under the mixture for a `LatentClustering` or a Gaussian mixture,
       minus the distance to the centre for k-means, the largest posterior for other
       clusterers with `predict_proba`; every member for the rest) becomes a labelled
       training set: the self-labelling of DEC (Xie et al., 2016) and SCAN (Van Gansbeke et
       al., 2020, "SCAN: Learning to Classify Images without Labels");
    3. a fresh classifier (by default `self_labeling_classifier`: a small CNN that augments
       images with random shifts, rotations and zooms; an MLP for vectors and images smaller
       than 16x16) learns those labels;
    4. `clusterer` clusters the classifier's features (the input of its last layer) of all of
       `x`, as DeepCluster alternates clustering and learning (Caron et al., 2018, "Deep
       Clustering for Unsupervised Learning of Visual Features"); steps 2-4 repeat `rounds`
       times.

    Step 4 clusters again rather than taking the classifier's predictions, so a round can
    merge two clusters that split one class and split one that merged two: the augmented
    classifier's features group what the initial features did not.

    Args:
        base: the initial clusterer of `x`, unfitted (it is cloned): None for
            `LatentClustering(None, n_clusters, manifold="umap", random_state=random_state)`,
            or any scikit-learn style clusterer with `fit` and `labels_` (a
            `LatentClustering` with a trained encoder, `sklearn.cluster.KMeans`, ...).
        n_clusters: the number of clusters.
        rounds: rounds of steps 2-4.
        confident_fraction: the fraction of every cluster that trains the classifier.
        clusterer: the clusterer of the features, unfitted (cloned every round): None for the
            same default as `base`, or a scikit-learn style clusterer with `fit`, `labels_`
            and `predict` (and `predict_proba` for `predict_proba`).
        classifier: None for `self_labeling_classifier`, or a callable
            `(input_shape, n_clusters, seed) -> keras.Model` returning a new, uncompiled model
            from samples to `[batch, n_clusters]` logits; the input of its last layer serves
            as the features.
        epochs: training epochs of every round's classifier.
        batch_size: training batch size.
        learning_rate: Adam's learning rate.
        random_state: integer seed of the clusterers, the networks and the shuffling, or None.
        verbose: 1 prints a line per round.

    Attributes:
        base_: the fitted `base`.
        classifier_: the last round's trained `keras.Model`.
        clusterer_: the last round's fitted `clusterer`.
        labels_: `[n]` cluster of every training sample, from the last round.
        labels_per_round_: `[rounds + 1, n]` the clusters of `base` and of every round.
        history_: a dict per round: `n_selected` (training samples), `agreement` (the
            clustering accuracy of this round's clusters against the previous ones: 1.0 when
            nothing changed) and `seconds`.

    Example:
        >>> x, y = kgan.data.load_arrays("mnist_5k", split="all")
        >>> clustering = kgan.cluster.SelfLabelingClustering(n_clusters=10, random_state=0)
        >>> labels = clustering.fit_predict(x)
        >>> kgan.cluster.clustering_scores(y, labels)
        {'acc': 0.96, 'nmi': 0.91, 'ari': 0.92}
    """

    def __init__(
        self,
        base=None,
        n_clusters=10,
        rounds=3,
        confident_fraction=0.5,
        clusterer=None,
        classifier=None,
        epochs=15,
        batch_size=128,
        learning_rate=1e-3,
        random_state=None,
        verbose=0,
    ):
        self.base = base
        self.n_clusters = n_clusters
        self.rounds = rounds
        self.confident_fraction = confident_fraction
        self.clusterer = clusterer
        self.classifier = classifier
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.random_state = random_state
        self.verbose = verbose

    def _check_params(self):
        for name, low in (("n_clusters", 1), ("rounds", 1), ("epochs", 1), ("batch_size", 1)):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < low:
                raise ValueError(f"{name} must be an integer >= {low}; got {value!r}")
        if not 0.0 < self.confident_fraction <= 1.0:
            raise ValueError(
                f"confident_fraction must be in (0, 1]; got {self.confident_fraction!r}"
            )
        if self.random_state is not None and not isinstance(self.random_state, (int, np.integer)):
            raise ValueError(f"random_state must be an integer or None; got {self.random_state!r}")
        if self.classifier is not None and not callable(self.classifier):
            raise TypeError(
                "classifier must be None or a callable (input_shape, n_clusters, seed) -> "
                f"keras.Model; got {type(self.classifier).__name__}"
            )

    def _check_x(self, x):
        x = np.asarray(x)
        if x.dtype == object or not np.issubdtype(x.dtype, np.number):
            raise ValueError(f"x must be a numeric array; got dtype {x.dtype}")
        if x.ndim not in (2, 4):
            hint = " (add a channel axis: x[..., None])" if x.ndim == 3 else ""
            raise ValueError(
                "x must be [n, d] vectors or [n, height, width, channels] images; got shape "
                f"{x.shape}{hint}"
            )
        x = x.astype(np.float32)
        if not np.all(np.isfinite(x)):
            raise ValueError("x holds NaN or infinite values; clean or impute them first")
        return x

    def _make(self, estimator, role):
        if estimator is None:
            return LatentClustering(
                None, self.n_clusters, manifold="umap", random_state=self.random_state
            )
        needed = ("fit", "predict") if role == "clusterer" else ("fit",)
        if not all(hasattr(estimator, m) for m in needed):
            raise TypeError(
                f"{role} must be a clusterer with {' and '.join(needed)} (and labels_ after "
                f"fit), such as kgan.cluster.LatentClustering; got {type(estimator).__name__}"
            )
        if isinstance(estimator, BaseEstimator):
            return clone(estimator)
        return copy.deepcopy(estimator)

    def _cluster(self, role, data):
        """Fits a copy of `base` or `clusterer` to `data`; returns it, its ids and confidences."""
        estimator = self._make(self.base if role == "base" else self.clusterer, role)
        if hasattr(estimator, "fit_predict"):
            labels = np.asarray(estimator.fit_predict(data))
        else:
            estimator.fit(data)
            if not hasattr(estimator, "labels_"):
                raise TypeError(
                    f"{role} {type(estimator).__name__} has neither fit_predict nor labels_ "
                    "after fit; pass a scikit-learn style clusterer"
                )
            labels = np.asarray(estimator.labels_)
        if labels.shape != (len(data),):
            raise ValueError(f"{role} gave labels_ of shape {labels.shape} for {len(data)} samples")
        if len(np.unique(labels)) > self.n_clusters:
            raise ValueError(
                f"{role} found {len(np.unique(labels))} clusters, more than n_clusters="
                f"{self.n_clusters}; give it the same number of clusters"
            )
        return estimator, labels, _confidences(estimator, data)

    def _features(self, classifier, x):
        """`[n, f]` inputs of the classifier's last layer."""
        features = keras.Model(classifier.inputs, classifier.layers[-1].input)
        return features.predict(x, batch_size=PREDICT_BATCH, verbose=0).reshape(len(x), -1)

    def _train(self, x, labels, selected, round_index):
        seed = None if self.random_state is None else int(self.random_state) + 1000 * round_index
        build = self.classifier or self_labeling_classifier
        classifier = build(x.shape[1:], self.n_clusters, seed)
        if not isinstance(classifier, keras.Model):
            raise TypeError(f"classifier must return a keras.Model; got {type(classifier)}")
        classifier.compile(
            optimizer=keras.optimizers.Adam(self.learning_rate),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        )
        targets = np.unique(labels, return_inverse=True)[1].astype(np.int32)  # ids 0 .. k-1
        dataset = (
            tf.data.Dataset.from_tensor_slices((x[selected], targets[selected]))
            .shuffle(len(selected), seed=seed, reshuffle_each_iteration=True)
            .batch(self.batch_size)
            .prefetch(tf.data.AUTOTUNE)
        )
        classifier.fit(dataset, epochs=self.epochs, shuffle=False, verbose=0)
        return classifier

    def fit(self, x, y=None):
        """Clusters `x` by `base`, then runs the rounds of self-labelling.

        Args:
            x: `[n, d]` vectors or `[n, height, width, channels]` images.
            y: ignored.

        Returns:
            self.
        """
        self._check_params()
        x = self._check_x(x)
        if len(x) < self.n_clusters:
            raise ValueError(
                f"x has {len(x)} samples, fewer than n_clusters={self.n_clusters}; pass more "
                "samples or lower n_clusters"
            )
        self.base_, labels, confidences = self._cluster("base", x)
        labels_per_round, history = [labels], []
        for round_index in range(self.rounds):
            started = time.perf_counter()
            selected = confident_members(labels, confidences, self.confident_fraction)
            classifier = self._train(x, labels, selected, round_index)
            clusterer, new_labels, confidences = self._cluster(
                "clusterer", self._features(classifier, x)
            )
            history.append(
                {
                    "n_selected": int(len(selected)),
                    "agreement": clustering_accuracy(labels, new_labels),
                    "seconds": time.perf_counter() - started,
                }
            )
            if self.verbose:
                print(
                    f"round {round_index + 1}/{self.rounds}: trained on {len(selected)} "
                    f"samples, {100 * history[-1]['agreement']:.1f}% agree with the previous "
                    f"clusters, {history[-1]['seconds']:.0f} s"
                )
            labels = new_labels
            labels_per_round.append(labels)
        self.classifier_, self.clusterer_ = classifier, clusterer
        self.labels_ = labels
        self.labels_per_round_ = np.stack(labels_per_round)
        self.history_ = history
        return self

    def transform(self, x):
        """The last classifier's `[n, f]` features of `x`, which the last clusterer clusters."""
        check_is_fitted(self, "classifier_")
        x = self._check_x(x)
        expected = tuple(self.classifier_.inputs[0].shape[1:])
        if x.shape[1:] != expected:
            raise ValueError(f"x has samples of shape {x.shape[1:]}; the fit saw {expected}")
        return self._features(self.classifier_, x)

    def predict(self, x):
        """The cluster of each sample: the last clusterer on the last classifier's features.

        On the training samples this can differ slightly from `labels_` when the clusterer
        embeds new points differently from its training points (UMAP's `transform`).

        Args:
            x: `[n, ...]` samples shaped as in `fit`.

        Returns:
            `[n]` integer cluster ids.
        """
        features = self.transform(x)
        return np.asarray(self.clusterer_.predict(features))

    def predict_proba(self, x):
        """The probability of every cluster for each sample, from the last clusterer.

        Args:
            x: `[n, ...]` samples shaped as in `fit`.

        Returns:
            `[n, n_clusters]` float array; rows sum to 1.
        """
        check_is_fitted(self, "clusterer_")
        if not hasattr(self.clusterer_, "predict_proba"):
            raise AttributeError(
                f"the clusterer {type(self.clusterer_).__name__} has no predict_proba; use "
                "predict, or a clusterer with probabilities (kgan.cluster.LatentClustering)"
            )
        return np.asarray(self.clusterer_.predict_proba(self.transform(x)))


def confident_members(labels, confidences, fraction):
    """Indices of the most confident `fraction` of every cluster (at least one each).

    Args:
        labels: `[n]` cluster ids.
        confidences: `[n]` floats, higher for surer members, or None: every sample.
        fraction: in (0, 1].

    Returns:
        `[m]` sorted integer indices.

    Example:
        >>> kgan.cluster.confident_members([0, 0, 1, 1], [0.2, 0.9, 0.5, 0.1], 0.5)
        array([1, 2])
    """
    labels = np.asarray(labels)
    if confidences is None:
        return np.arange(len(labels))
    confidences = np.asarray(confidences)
    chosen = []
    for cluster in np.unique(labels):
        members = np.flatnonzero(labels == cluster)
        count = max(1, int(round(fraction * len(members))))
        chosen.append(members[np.argsort(-confidences[members], kind="stable")[:count]])
    return np.sort(np.concatenate(chosen))


def _confidences(clusterer, data):
    """`[n]` confidence of each training sample in its cluster (higher is surer), or None.

    The log-density under the fitted mixture of a `LatentClustering` (in a UMAP embedding the
    posteriors saturate at 1, while the density still ranks the cores of the clusters first)
    or of a Gaussian mixture (`score_samples`); minus the distance to the nearest centre for
    k-means; else the largest posterior (`predict_proba`); else None.
    """
    if isinstance(clusterer, LatentClustering):
        return np.asarray(clusterer.mixture_.score_samples(clusterer.embedding_))
    if hasattr(clusterer, "score_samples") and hasattr(clusterer, "means_"):
        return np.asarray(clusterer.score_samples(data))
    if hasattr(clusterer, "cluster_centers_") and hasattr(clusterer, "transform"):
        return -np.asarray(clusterer.transform(data)).min(axis=1)
    if hasattr(clusterer, "predict_proba"):
        return np.asarray(clusterer.predict_proba(data)).max(axis=1)
    return None
