import keras
import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

import kgan.cluster
from kgan.cluster import (
    LatentClustering,
    adjusted_rand_index,
    cluster_to_class_mapping,
    clustering_accuracy,
    clustering_scores,
    normalized_mutual_info,
)
from kgan.mixture import GaussianMixture


def _blobs(n_per=60, k=4, dim=5, spread=0.3, seed=0):
    rng = np.random.default_rng(seed)
    centers = rng.normal(0.0, 1.0, (k, dim)) * 10.0
    y = np.repeat(np.arange(k), n_per)
    x = centers[y] + rng.normal(0.0, spread, (len(y), dim))
    order = rng.permutation(len(y))
    return x[order].astype(np.float32), y[order]


# Scores -----------------------------------------------------------------------------------


def test_accuracy_is_one_under_any_relabelling():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 10, 500)
    permutation = rng.permutation(10) + 3  # renamed and shifted cluster ids
    assert clustering_accuracy(y, permutation[y]) == 1.0
    assert normalized_mutual_info(y, permutation[y]) == pytest.approx(1.0)
    assert adjusted_rand_index(y, permutation[y]) == pytest.approx(1.0)


def test_accuracy_on_a_hand_computed_contingency_table():
    # clusters x classes:  cluster 0 -> [3, 1, 0], cluster 1 -> [2, 0, 4], cluster 2 -> [0, 5, 1]
    counts = np.array([[3, 1, 0], [2, 0, 4], [0, 5, 1]])
    y_pred = np.concatenate([np.full(counts[i].sum(), i) for i in range(3)])
    y_true = np.concatenate([np.repeat(np.arange(3), counts[i]) for i in range(3)])
    # best one-to-one: 0->0 (3), 1->2 (4), 2->1 (5) = 12 of 16; greedy per cluster gets the same
    assert clustering_accuracy(y_true, y_pred) == pytest.approx(12 / 16)
    assert cluster_to_class_mapping(y_true, y_pred) == {0: 0, 1: 2, 2: 1}


def test_accuracy_needs_one_to_one_not_majority_vote():
    # Majority vote would map both clusters to class 0 (accuracy 5/6); one-to-one gives 4/6.
    y_true = np.array([0, 0, 0, 0, 0, 1])
    y_pred = np.array([0, 0, 0, 1, 1, 1])
    assert clustering_accuracy(y_true, y_pred) == pytest.approx(4 / 6)


def test_more_clusters_than_classes_costs_accuracy():
    y_true = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    y_pred = np.array([0, 0, 2, 2, 1, 1, 1, 1])  # class 0 split over clusters 0 and 2
    assert clustering_accuracy(y_true, y_pred) == pytest.approx(6 / 8)
    assert set(cluster_to_class_mapping(y_true, y_pred).items()) <= {(0, 0), (2, 0), (1, 1)}


def test_fewer_clusters_than_classes():
    y_true = np.array([0, 0, 1, 1, 2, 2])
    y_pred = np.array([5, 5, 5, 5, 9, 9])  # classes 0 and 1 merged
    assert clustering_accuracy(y_true, y_pred) == pytest.approx(4 / 6)


def test_nmi_and_ari_match_scikit_learn():
    rng = np.random.default_rng(1)
    y_true = rng.integers(0, 6, 300)
    y_pred = np.where(rng.random(300) < 0.7, y_true, rng.integers(0, 8, 300))
    assert normalized_mutual_info(y_true, y_pred) == pytest.approx(
        normalized_mutual_info_score(y_true, y_pred), abs=1e-12
    )
    assert adjusted_rand_index(y_true, y_pred) == pytest.approx(
        adjusted_rand_score(y_true, y_pred), abs=1e-12
    )
    scores = clustering_scores(y_true, y_pred)
    assert set(scores) == {"acc", "nmi", "ari"}
    assert 0.6 < scores["acc"] < 0.9
    assert all(isinstance(v, float) for v in scores.values())


@pytest.mark.parametrize("score", [clustering_accuracy, normalized_mutual_info, clustering_scores])
def test_bad_label_inputs_raise(score):
    with pytest.raises(ValueError, match="same length"):
        score([0, 1, 1], [0, 1])
    with pytest.raises(ValueError, match="1-D"):
        score(np.zeros((4, 2), int), np.zeros((4, 2), int))
    with pytest.raises(ValueError, match="1-D"):
        score([0, 1], np.full((2, 3), 1 / 3))  # probabilities instead of ids
    with pytest.raises(ValueError, match="integer"):
        score([0, 1], [0.5, 1.0])
    with pytest.raises(ValueError, match="empty"):
        score([], [])


# LatentClustering ---------------------------------------------------------------------------


def test_nearest_neighbor_accuracy_on_a_hand_checked_case():
    train = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    test = np.array([[1.0, 0.0], [9.0, 1.0], [1.0, 8.0], [6.0, 0.0]])
    # Nearest training points: 0, 1, 2 and 1.
    score = kgan.cluster.nearest_neighbor_accuracy(train, [0, 1, 2], test, [0, 1, 0, 1])
    assert score == pytest.approx(0.75)
    images = np.zeros((3, 2, 2, 1))
    images[1] += 1.0
    assert kgan.cluster.nearest_neighbor_accuracy(images, [0, 1, 1], images[:2], [0, 1]) == 1.0
    with pytest.raises(ValueError, match="differ in size: 2 and 3"):
        kgan.cluster.nearest_neighbor_accuracy(train, [0, 1, 2], np.zeros((1, 3)), [0])


def test_raw_features_cluster_separated_blobs():
    x, y = _blobs()
    clustering = LatentClustering(None, n_clusters=4, random_state=0)
    labels = clustering.fit_predict(x)
    assert labels.shape == (len(x),)
    assert clustering_accuracy(y, labels) == 1.0
    assert clustering.score(x, y) == 1.0
    np.testing.assert_array_equal(clustering.predict(x), labels)
    proba = clustering.predict_proba(x)
    assert proba.shape == (len(x), 4)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-5)
    assert isinstance(clustering.mixture_, GaussianMixture)
    assert clustering.mixture_.covariance_type == "full"


def test_images_are_flattened_and_user_mixture_is_cloned():
    x, y = _blobs(dim=12)
    images = x.reshape(-1, 2, 3, 2)
    mixture = GaussianMixture(4, covariance_type="diag", random_state=0)
    clustering = LatentClustering(None, n_clusters=4, mixture=mixture).fit(images)
    assert clustering.score(images, y) == 1.0
    assert clustering.mixture_ is not mixture and not hasattr(mixture, "means_")
    assert clustering.mixture_.means_.shape == (4, 12)


def test_keras_model_encoder():
    x, y = _blobs(dim=6)
    inputs = keras.Input((6,))
    # a fixed linear projection to 3 features, plus a second output that must be ignored
    projection = keras.layers.Dense(3, use_bias=False)
    features = projection(inputs)
    encoder = keras.Model(inputs, [features, keras.ops.zeros_like(features)])
    weights = np.random.default_rng(0).normal(size=(6, 3)).astype(np.float32)
    projection.set_weights([weights])
    clustering = LatentClustering(encoder, n_clusters=4, random_state=0).fit(x)
    assert clustering.n_features_ == 3
    np.testing.assert_allclose(clustering.transform(x), x @ weights, rtol=1e-4, atol=1e-4)
    assert clustering.score(x, y) == 1.0


def test_callable_and_encode_method_encoders():
    x, y = _blobs(dim=6)

    class Encoder:
        def encode(self, data):
            return data[:, :2] * 2.0

    for encoder in (lambda data: data[:, :2] * 2.0, Encoder()):
        clustering = LatentClustering(encoder, n_clusters=4, random_state=0).fit(x)
        np.testing.assert_allclose(clustering.transform(x), x[:, :2] * 2.0, rtol=1e-6)
        assert clustering.n_features_ == 2


class _FakeManifold:
    """Keeps the first two features; counts its calls."""

    def __init__(self):
        self.fitted_on = None
        self.transformed = 0

    def fit_transform(self, features):
        self.fitted_on = features.shape
        return features[:, :2] + 100.0

    def transform(self, features):
        self.transformed += 1
        return features[:, :2] + 100.0


def test_manifold_object_embeds_before_the_mixture():
    x, y = _blobs(dim=5)
    manifold = _FakeManifold()
    clustering = LatentClustering(None, n_clusters=4, manifold=manifold, random_state=0).fit(x)
    assert manifold.fitted_on is None  # the user's object is copied, not fitted
    assert clustering.manifold_.fitted_on == x.shape
    assert clustering.n_features_ == 2
    np.testing.assert_allclose(clustering.embedding_, x[:, :2] + 100.0)
    np.testing.assert_allclose(clustering.mixture_.means_.mean(), 100.0, atol=20.0)
    assert clustering.score(x, y) == 1.0
    assert clustering.manifold_.transformed == 1


def test_bad_arguments_raise():
    x, _ = _blobs()
    with pytest.raises(ValueError, match="manifold"):
        LatentClustering(None, 4, manifold="tsne").fit(x)
    with pytest.raises(TypeError, match="fit_transform"):
        LatentClustering(None, 4, manifold=object()).fit(x)
    with pytest.raises(ValueError, match="n_components"):
        LatentClustering(None, 4, mixture=GaussianMixture(3)).fit(x)
    with pytest.raises(ValueError, match="fewer than n_clusters"):
        LatentClustering(None, 4).fit(x[:3])
    with pytest.raises(TypeError, match="encoder"):
        LatentClustering(42, 4).fit(x)
    with pytest.raises(ValueError, match="feature rows"):
        LatentClustering(lambda data: data[:5], 4).fit(x)
    clustering = LatentClustering(None, 4, random_state=0).fit(x)
    with pytest.raises(ValueError, match="features"):
        clustering.predict(x[:, :3])
    with pytest.raises(ValueError, match="true classes"):
        clustering.score(x, None)


def test_missing_umap_gives_install_hint(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_umap(name, *args, **kwargs):
        if name == "umap" or name.startswith("umap."):
            raise ImportError("No module named 'umap'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_umap)
    with pytest.raises(ImportError, match="pip install umap-learn"):
        LatentClustering(None, 4, manifold="umap").fit(_blobs()[0])


def test_umap_manifold_on_blobs():
    x, y = _blobs(n_per=50, k=3, dim=8, spread=0.5)
    clustering = LatentClustering(None, n_clusters=3, manifold="umap", random_state=0)
    labels = clustering.fit_predict(x)
    assert clustering.manifold_.n_components == 3
    assert clustering_accuracy(y, labels) == 1.0
    assert clustering.mixture_.means_.shape == (3, 3)


# VaDEClustering ----------------------------------------------------------------------------


def test_vade_runs_end_to_end_on_a_toy():
    x, y = _blobs(n_per=30, k=3, dim=8, spread=0.05)
    x = (x / np.abs(x).max()).astype(np.float32)  # vectors in [-1, 1]
    vade = kgan.cluster.VaDEClustering(
        n_clusters=3,
        latent_dim=2,
        encoder=kgan.networks.vae_encoder((8,), 2, hidden_units=(16,)),
        decoder=kgan.networks.vae_decoder((8,), 2, hidden_units=(16,)),
        likelihood="gaussian",
        pretrain_epochs=2,
        epochs=1,
        batch_size=32,
        n_init=1,
        optimizer=keras.optimizers.Adam(1e-2),
        jit_compile=False,
        random_state=0,
    )
    labels = vade.fit_predict(x)
    assert labels.shape == (len(x),) and labels.min() >= 0 and labels.max() < 3
    assert vade.pretrain_labels_.shape == (len(x),)
    assert vade.vae_.prior == "mixture" and vade.vae_.num_components == 3
    assert vade.vae_.encoder is vade.pretrained_vae_.encoder  # fine-tuned, not rebuilt
    proba = vade.predict_proba(x)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(proba.argmax(axis=1), labels)
    assert 0.0 <= vade.score(x, y) <= 1.0

    # Starting from a trained VAE skips the pretraining and keeps its networks.
    # (`seed`, the former name of `random_state`, still works for one release.)
    again = kgan.cluster.VaDEClustering(
        3, epochs=0, vae=vade.pretrained_vae_, n_init=1, jit_compile=False, seed=0
    )
    with pytest.warns(DeprecationWarning, match="random_state"):
        again.fit(x)
    assert again.pretrained_vae_ is vade.pretrained_vae_
    np.testing.assert_allclose(
        np.asarray(again.vae_.prior_means), again.mixture_.means_, rtol=1e-5, atol=1e-5
    )
    # The prior keeps the diagonal of the full-covariance mixture fitted to the latents.
    assert again.mixture_.covariance_type == "full"
    _, _, scales = again.vae_._prior_arrays()
    np.testing.assert_allclose(
        scales**2, np.diagonal(again.mixture_.covariances_, axis1=1, axis2=2), rtol=1e-3
    )
    with pytest.raises(ValueError, match="init_covariance"):
        kgan.cluster.VaDEClustering(3, vae=vade.pretrained_vae_, init_covariance="tied").fit(x)
