"""What every clustering estimator of kgan shares: scikit-learn's `fit_predict` and a `score`
that is the clustering accuracy against true classes."""

from sklearn.base import BaseEstimator, ClusterMixin

from kgan.cluster.scores import clustering_accuracy


class ClusteringEstimator(ClusterMixin, BaseEstimator):
    """The base of `LatentClustering`, `SelfLabelingClustering` and `VaDEClustering`.

    A subclass implements `fit` (setting `labels_`) and `predict`; scikit-learn's naming holds
    for its arguments (`n_clusters`, `random_state`).
    """

    def fit_predict(self, x, y=None):
        """Fits and returns the `[n]` cluster of each sample of `x` (`labels_`).

        Args:
            x: `[n, ...]` samples.
            y: ignored.

        Returns:
            `[n]` integer cluster ids in `[0, n_clusters)`.
        """
        return self.fit(x).labels_

    def score(self, x, y):
        """Clustering accuracy of `predict(x)` against the classes `y` (higher is better).

        For NMI and ARI as well, use `kgan.cluster.clustering_scores(y, self.predict(x))`.

        Args:
            x: `[n, ...]` samples.
            y: `[n]` integer class labels.

        Returns:
            A float in [0, 1]; see `kgan.cluster.clustering_accuracy`.
        """
        if y is None:
            raise ValueError(
                "score needs the true classes y (it is the clustering accuracy); without labels "
                "compare clusterings with kgan.cluster.clustering_scores"
            )
        return clustering_accuracy(y, self.predict(x))
