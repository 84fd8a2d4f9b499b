"""Scores of a clustering against known classes: accuracy, NMI and ARI."""

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score


def _check_labels(y_true, y_pred):
    """Returns both label arrays as 1-D integer numpy arrays of the same length."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    for name, labels in (("y_true", y_true), ("y_pred", y_pred)):
        if labels.ndim != 1:
            raise ValueError(
                f"{name} must be a 1-D array of integer labels; got shape {labels.shape} "
                "(pass cluster ids, not probabilities: use argmax(axis=1) first)"
            )
        if labels.size and not (
            np.issubdtype(labels.dtype, np.integer)
            or (np.issubdtype(labels.dtype, np.floating) and np.all(labels == np.round(labels)))
        ):
            raise ValueError(f"{name} must hold integer labels; got dtype {labels.dtype}")
    if len(y_true) != len(y_pred):
        raise ValueError(
            f"y_true and y_pred must have the same length; got {len(y_true)} and {len(y_pred)}"
        )
    if len(y_true) == 0:
        raise ValueError("y_true and y_pred are empty; pass at least one label")
    return y_true.astype(np.int64), y_pred.astype(np.int64)


def contingency_matrix(y_true, y_pred):
    """Counts of each (cluster, class) pair.

    Args:
        y_true: `[n]` integer class labels.
        y_pred: `[n]` integer cluster ids; their number may differ from the number of classes.

    Returns:
        `(counts, clusters, classes)`: `counts[i, j]` is the number of samples in cluster
        `clusters[i]` whose class is `classes[j]` (the sorted distinct ids of each).

    Example:
        >>> counts, clusters, classes = kgan.cluster.contingency_matrix([0, 0, 1], [5, 5, 7])
        >>> counts
        array([[2, 0],
               [0, 1]])
    """
    y_true, y_pred = _check_labels(y_true, y_pred)
    classes, class_index = np.unique(y_true, return_inverse=True)
    clusters, cluster_index = np.unique(y_pred, return_inverse=True)
    counts = np.zeros((len(clusters), len(classes)), np.int64)  # [clusters, classes]
    np.add.at(counts, (cluster_index, class_index), 1)
    return counts, clusters, classes


def cluster_to_class_mapping(y_true, y_pred):
    """The one-to-one mapping of clusters to classes that matches the most samples.

    The assignment is solved by `scipy.optimize.linear_sum_assignment` on the contingency
    matrix (the Hungarian method). With more clusters than classes the extra clusters map to
    no class; with fewer, some classes receive no cluster.

    Args:
        y_true: `[n]` integer class labels.
        y_pred: `[n]` integer cluster ids.

    Returns:
        A dict `{cluster_id: class_label}` for the matched clusters.

    Example:
        >>> kgan.cluster.cluster_to_class_mapping([0, 0, 1, 1], [1, 1, 0, 0])
        {0: 1, 1: 0}
    """
    counts, clusters, classes = contingency_matrix(y_true, y_pred)
    rows, cols = linear_sum_assignment(counts, maximize=True)
    return {int(clusters[r]): int(classes[c]) for r, c in zip(rows, cols)}


def clustering_accuracy(y_true, y_pred):
    """Unsupervised clustering accuracy (ACC).

    The fraction of samples whose cluster, under the best one-to-one mapping of clusters to
    classes, is their class. Samples in a cluster left unmatched (more clusters than classes)
    count as errors, so splitting a class over two clusters costs accuracy.

    Args:
        y_true: `[n]` integer class labels.
        y_pred: `[n]` integer cluster ids, any number of them.

    Returns:
        A float in [0, 1].

    Raises:
        ValueError: if the inputs are not 1-D integer arrays of the same, non-zero length.

    Example:
        >>> kgan.cluster.clustering_accuracy([0, 0, 1, 1, 2], [2, 2, 0, 0, 0])
        0.8
    """
    counts, _, _ = contingency_matrix(y_true, y_pred)
    rows, cols = linear_sum_assignment(counts, maximize=True)
    return float(counts[rows, cols].sum() / counts.sum())


def normalized_mutual_info(y_true, y_pred):
    """Normalized mutual information (arithmetic normalization), scikit-learn's
    `normalized_mutual_info_score` after the same input checks as `clustering_accuracy`.

    Args:
        y_true: `[n]` integer class labels.
        y_pred: `[n]` integer cluster ids.

    Returns:
        A float in [0, 1]; invariant to renaming clusters.

    Example:
        >>> kgan.cluster.normalized_mutual_info([0, 0, 1, 1], [1, 1, 0, 0])
        1.0
    """
    y_true, y_pred = _check_labels(y_true, y_pred)
    return float(normalized_mutual_info_score(y_true, y_pred))


def adjusted_rand_index(y_true, y_pred):
    """Adjusted Rand index, scikit-learn's `adjusted_rand_score` after the same input checks as
    `clustering_accuracy`.

    Args:
        y_true: `[n]` integer class labels.
        y_pred: `[n]` integer cluster ids.

    Returns:
        A float, 1 for a perfect clustering and about 0 for a random one (can be negative).

    Example:
        >>> kgan.cluster.adjusted_rand_index([0, 0, 1, 1], [1, 1, 0, 0])
        1.0
    """
    y_true, y_pred = _check_labels(y_true, y_pred)
    return float(adjusted_rand_score(y_true, y_pred))


def clustering_scores(y_true, y_pred):
    """All three scores at once.

    Args:
        y_true: `[n]` integer class labels.
        y_pred: `[n]` integer cluster ids.

    Returns:
        `{"acc": ..., "nmi": ..., "ari": ...}` as floats.

    Example:
        >>> kgan.cluster.clustering_scores(y, kgan.cluster.LatentClustering(None).fit_predict(x))
        {'acc': 0.81, 'nmi': 0.77, 'ari': 0.69}
    """
    return {
        "acc": clustering_accuracy(y_true, y_pred),
        "nmi": normalized_mutual_info(y_true, y_pred),
        "ari": adjusted_rand_index(y_true, y_pred),
    }


def nearest_neighbor_accuracy(train_features, train_labels, test_features, test_labels):
    """Accuracy of a 1-nearest-neighbour classifier (Euclidean) fitted on the training features:
    how well features learned without labels separate the classes (BiGAN's Table 1 protocol,
    Donahue et al. 2017).

    Args:
        train_features: `[n, d]` features of the labelled reference examples.
        train_labels: `[n]` their integer classes.
        test_features: `[m, d]` features of the held-out examples.
        test_labels: `[m]` their integer classes.

    Returns:
        A float in [0, 1].

    Example:
        >>> kgan.cluster.nearest_neighbor_accuracy(
        ...     model.encode(x_train), y_train, model.encode(x_test), y_test)
    """
    from sklearn.neighbors import KNeighborsClassifier

    train_features = np.asarray(train_features).reshape(len(train_features), -1)
    test_features = np.asarray(test_features).reshape(len(test_features), -1)
    if train_features.shape[1] != test_features.shape[1]:
        raise ValueError(
            f"the training and test features differ in size: {train_features.shape[1]} and "
            f"{test_features.shape[1]}"
        )
    train_labels, _ = _check_labels(train_labels, np.zeros(len(train_features), np.int64))
    test_labels, _ = _check_labels(test_labels, np.zeros(len(test_features), np.int64))
    knn = KNeighborsClassifier(n_neighbors=1).fit(train_features, train_labels)
    return float(np.mean(knn.predict(test_features) == test_labels))
