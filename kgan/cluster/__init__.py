"""Clustering of learned features, and its scores against known classes.

Scores: `clustering_accuracy` (best one-to-one cluster-to-class mapping), `normalized_mutual_info`,
`adjusted_rand_index` and `clustering_scores` (all three); `nearest_neighbor_accuracy` of
learned features. Estimators with scikit-learn's
interface: `GANClustering` (a generative model that discovers its categories, e.g.
ClusterGAN), `LatentClustering` (encoder, optional UMAP embedding, Gaussian mixture; N2D when
the embedding is UMAP), `VaDEClustering` (a VAE with a mixture prior, trained end to end) and
`SelfLabelingClustering` (a classifier trained on the confident members of another clustering,
its features clustered again, for a few rounds).

Example:
    >>> x, y = kgan.data.load_arrays("digits", split="all")
    >>> labels = kgan.cluster.LatentClustering(None, n_clusters=10, random_state=0).fit_predict(x)
    >>> kgan.cluster.clustering_scores(y, labels)
"""

from kgan.cluster.gan import GANClustering, clustering_trainers
from kgan.cluster.latent import LatentClustering, encode_features, umap_embedding
from kgan.cluster.scores import (
    adjusted_rand_index,
    cluster_to_class_mapping,
    clustering_accuracy,
    clustering_scores,
    contingency_matrix,
    nearest_neighbor_accuracy,
    normalized_mutual_info,
)
from kgan.cluster.self_labeling import (
    SelfLabelingClustering,
    confident_members,
    self_labeling_classifier,
)
from kgan.cluster.vade import VaDEClustering

__all__ = [
    "GANClustering",
    "LatentClustering",
    "SelfLabelingClustering",
    "VaDEClustering",
    "adjusted_rand_index",
    "cluster_to_class_mapping",
    "clustering_accuracy",
    "clustering_scores",
    "clustering_trainers",
    "confident_members",
    "contingency_matrix",
    "encode_features",
    "nearest_neighbor_accuracy",
    "normalized_mutual_info",
    "self_labeling_classifier",
    "umap_embedding",
]
