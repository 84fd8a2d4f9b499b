"""`GANClustering`: a generative model that discovers categories, as a scikit-learn estimator."""

import numbers

import numpy as np
import tensorflow as tf
from sklearn.neighbors import NearestNeighbors
from sklearn.utils.validation import check_is_fitted

from kgan import models
from kgan.cluster.base import ClusteringEstimator
from kgan.models.base import check_samples


def clustering_trainers():
    """The registered trainers that discover clusters: they take `num_clusters` and give
    `encode(x)` and `cluster(x)`."""
    return sorted(
        name
        for name, cls in models.TRAINERS.items()
        if "num_clusters" in cls.build_options and callable(getattr(cls, "cluster", None))
    )


class GANClustering(ClusteringEstimator):
    """Clusters unlabelled data with a generative model that learns its categories.

    `fit` builds the registered trainer `model` for the data's shape with `n_clusters`
    categories (`kgan.models.build_trainer`), trains it with `model.fit`, and reads each
    sample's cluster from the model itself (`cluster(x)`: for ClusterGAN the argmax of its
    encoder's cluster logits; for BiGAN, whose `fit_clusters` is called on `x` after training,
    the most probable component of a Gaussian mixture of its encoder's features). `transform`
    gives the model's continuous features (`encode(x)`), for pipelines, 1-NN or a mixture. A
    trained model may be passed instead of a name: it is used as it is.

    With `n_neighbors=k > 0`, a sample's cluster is a vote of its neighbourhood in the model's
    own feature space: the mean of the model's cluster probabilities of the sample and of its
    `k` nearest training samples (cosine distance between `encode` features; a training sample
    is not its own neighbour in `labels_`). An encoder whose features place a digit among its
    class (a high 1-NN accuracy) thereby mends the categories of the few samples its
    classifier head gets wrong, the neighbourhood consistency that SCAN (Van Gansbeke et al.
    2020) trains for, here used at prediction time only. The training samples' features and
    probabilities are kept for `predict`.

    Args:
        model: a registered name (`clustering_trainers()`, e.g. `"clustergan"`) or a trained
            model with `encode`, `cluster` and `num_clusters`.
        n_clusters: the number of categories (>= 2).
        epochs: training epochs over the data.
        batch_size: the training batch size.
        model_options: more build options of the trainer (e.g. `{"sigma": 0.1}`).
        learning_rate: every optimizer's learning rate (the trainer's default optimizers);
            None keeps their defaults.
        cosine_decay: when True, every learning rate decays along a cosine to 1% of its start
            over the whole training (`kgan.models.Trainer.default_optimizers`).
        jit_compile: XLA for the step, as in the trainer's `compile`.
        random_state: int seed of the networks, the latents and the data order.
        verbose: Keras `fit` verbosity.
        n_neighbors: 0 for the model's own `cluster`; k > 0 for the neighbourhood vote above.

    Attributes:
        model_: the trained model.
        labels_: `[n]` cluster of every training sample.
        neighbors_: the fitted `sklearn.neighbors.NearestNeighbors` of the training features
            (with `n_neighbors` > 0).

    Example:
        >>> x, y = kgan.data.load_arrays("mnist_5k", split="all")
        >>> clustering = kgan.cluster.GANClustering("clustergan", n_clusters=10, random_state=0)
        >>> labels = clustering.fit_predict(x)
        >>> kgan.cluster.clustering_scores(y, labels)
    """

    def __init__(
        self,
        model="clustergan",
        n_clusters=10,
        epochs=30,
        batch_size=64,
        model_options=None,
        learning_rate=None,
        cosine_decay=False,
        jit_compile="auto",
        random_state=None,
        verbose=0,
        n_neighbors=0,
    ):
        self.model = model
        self.n_clusters = n_clusters
        self.epochs = epochs
        self.batch_size = batch_size
        self.model_options = model_options
        self.learning_rate = learning_rate
        self.cosine_decay = cosine_decay
        self.jit_compile = jit_compile
        self.random_state = random_state
        self.verbose = verbose
        self.n_neighbors = n_neighbors

    def _build(self, shape, steps):
        name = self.model
        if name not in clustering_trainers():
            raise ValueError(
                f"model {name!r} does not discover clusters; choose one of "
                f"{clustering_trainers()} or pass a trained model with encode and cluster"
            )
        options = dict(self.model_options or {})
        model = models.build_trainer(
            name, shape, num_clusters=self.n_clusters, seed=self.random_state, **options
        )
        if model.num_clusters != self.n_clusters:
            raise ValueError(
                f"model_options {options} make {model.num_clusters} clusters, not "
                f"n_clusters={self.n_clusters} (several categorical codes number their "
                "tuples): leave categorical_codes out"
            )
        optimizers = model.default_optimizers(
            self.learning_rate, cosine_decay_steps=steps if self.cosine_decay else None
        )
        model.compile(**optimizers, jit_compile=self.jit_compile)
        return model

    def fit(self, x, y=None):
        """Trains the model on `x` (or takes the trained one) and clusters `x`.

        Args:
            x: `[n, ...]` float samples (images in [-1, 1]).
            y: ignored.

        Returns:
            self.
        """
        if (
            isinstance(self.n_clusters, bool)
            or not isinstance(self.n_clusters, numbers.Integral)
            or self.n_clusters < 2
        ):
            raise ValueError(f"n_clusters must be an int >= 2; got {self.n_clusters!r}")
        if (
            isinstance(self.n_neighbors, bool)
            or not isinstance(self.n_neighbors, numbers.Integral)
            or self.n_neighbors < 0
        ):
            raise ValueError(
                f"n_neighbors must be an int >= 0 (0: the model's own clusters); "
                f"got {self.n_neighbors!r}"
            )
        x = check_samples(x)
        if len(x) <= self.n_neighbors:
            raise ValueError(
                f"x has {len(x)} samples; n_neighbors={self.n_neighbors} needs more than that"
            )
        if len(x) < self.n_clusters:
            raise ValueError(f"x has {len(x)} samples, fewer than n_clusters={self.n_clusters}")
        if isinstance(self.model, str):
            if not isinstance(self.cosine_decay, bool):
                raise ValueError(f"cosine_decay must be True or False; got {self.cosine_decay!r}")
            drop_remainder = len(x) >= self.batch_size
            batches = len(x) // self.batch_size if drop_remainder else 1
            model = self._build(x.shape[1:], steps=self.epochs * batches)
            seed = None if self.random_state is None else int(self.random_state)
            data = (
                tf.data.Dataset.from_tensor_slices(x)
                .shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
                .batch(self.batch_size, drop_remainder=drop_remainder)
                .prefetch(tf.data.AUTOTUNE)
            )
            model.fit(data, epochs=self.epochs, verbose=self.verbose)
            if callable(getattr(model, "fit_clusters", None)):
                # BiGAN: its clusters are a mixture of its features, fitted after training.
                model.fit_clusters(x)
        else:
            model = self.model
            if not all(callable(getattr(model, m, None)) for m in ("encode", "cluster")):
                raise ValueError(
                    f"model must be a registered name or a trained model with encode(x) and "
                    f"cluster(x); {type(model).__name__} has no "
                    f"{'encode' if not callable(getattr(model, 'encode', None)) else 'cluster'}"
                )
            held = getattr(model, "num_clusters", None)
            if held != self.n_clusters:
                raise ValueError(
                    f"the model has {held} clusters but n_clusters={self.n_clusters}; make them "
                    "equal"
                )
        self.model_ = model
        self.n_features_in_ = int(np.prod(x.shape[1:]))
        if self.n_neighbors:
            if not callable(getattr(model, "cluster_probabilities", None)):
                raise ValueError(
                    f"n_neighbors votes with the model's cluster probabilities; "
                    f"{type(model).__name__} has no cluster_probabilities: use n_neighbors=0"
                )
            self.neighbors_ = NearestNeighbors(n_neighbors=self.n_neighbors, metric="cosine")
            self.neighbors_.fit(np.asarray(model.encode(x)))
            self._probabilities = np.asarray(model.cluster_probabilities(x), "float64")
            # kneighbors() without samples leaves each training sample out of its own list.
            votes = self._vote(self._probabilities, self.neighbors_.kneighbors()[1])
            self.labels_ = votes.argmax(axis=1).astype(np.int64)
        else:
            self.labels_ = np.asarray(model.cluster(x), dtype=np.int64)
        return self

    def _vote(self, probabilities, neighbours):
        """The mean of each sample's probabilities `[n, K]` and its neighbours' `[n, k]`."""
        return (probabilities + self._probabilities[neighbours].sum(axis=1)) / (
            1 + neighbours.shape[1]
        )

    def _neighbourhood_probabilities(self, x):
        features = np.asarray(self.model_.encode(x))
        neighbours = self.neighbors_.kneighbors(features, return_distance=False)
        return self._vote(np.asarray(self.model_.cluster_probabilities(x), "float64"), neighbours)

    def predict(self, x):
        """`[n]` the cluster of each sample (the model's `cluster`, or the vote of the sample
        and its `n_neighbors` nearest training samples: a training sample is then its own
        nearest neighbour, so `predict` on the training data may differ from `labels_` where
        the vote is close)."""
        check_is_fitted(self, "model_")
        x = check_samples(x, self.model_.sample_shape)
        if self.n_neighbors:
            return self._neighbourhood_probabilities(x).argmax(axis=1).astype(np.int64)
        return np.asarray(self.model_.cluster(x), dtype=np.int64)

    def predict_proba(self, x):
        """`[n, n_clusters]` the probability of every cluster for each sample (with
        `n_neighbors`, the neighbourhood's mean)."""
        check_is_fitted(self, "model_")
        x = check_samples(x, self.model_.sample_shape)
        if self.n_neighbors:
            return self._neighbourhood_probabilities(x)
        return self.model_.cluster_probabilities(x)

    def transform(self, x):
        """`[n, d]` the model's continuous features of each sample (its `encode`)."""
        check_is_fitted(self, "model_")
        return np.asarray(self.model_.encode(check_samples(x, self.model_.sample_shape)))
