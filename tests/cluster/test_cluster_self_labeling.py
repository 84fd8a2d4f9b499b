import keras
import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClusterMixin, clone
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.exceptions import NotFittedError

import kgan.cluster
from kgan.cluster import (
    LatentClustering,
    SelfLabelingClustering,
    clustering_accuracy,
    confident_members,
    self_labeling_classifier,
)
from kgan.mixture import GaussianMixture


def _hidden_blobs(n_per=100, k=4, informative=2, noise_dims=4, seed=0):
    """Classes separated along `informative` dimensions, drowned by louder noise dimensions."""
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(k), n_per)
    angles = 2 * np.pi * np.arange(k) / k
    centers = 4.0 * np.stack([np.cos(angles), np.sin(angles)], axis=1)[:, :informative]
    signal = centers[y] + rng.normal(0.0, 0.5, (len(y), informative))
    noise = rng.normal(0.0, 6.0, (len(y), noise_dims))
    order = rng.permutation(len(y))
    return np.concatenate([signal, noise], axis=1)[order].astype(np.float32), y[order]


class _GivenLabels(ClusterMixin, BaseEstimator):
    """A 'clusterer' that returns fixed labels: stands for an initial clustering."""

    def __init__(self, labels=None):
        self.labels = labels

    def fit(self, x, y=None):
        self.labels_ = np.asarray(self.labels)
        return self


def _corrupt(y, fraction, k, seed=0):
    rng = np.random.default_rng(seed)
    flipped = rng.random(len(y)) < fraction
    return np.where(flipped, rng.integers(0, k, len(y)), y)


def _fast(**kwargs):
    params = dict(n_clusters=4, epochs=20, batch_size=64, learning_rate=3e-3, random_state=0)
    params.update(kwargs)
    return SelfLabelingClustering(**params)


def test_confident_members_takes_the_top_fraction_of_every_cluster():
    labels = np.array([0, 0, 0, 0, 1, 1, 7, 7, 7, 7])
    confidences = np.array([0.1, 0.9, 0.5, 0.7, 0.3, 0.2, -1.0, -3.0, -2.0, 0.0])
    np.testing.assert_array_equal(confident_members(labels, confidences, 0.5), [1, 3, 4, 6, 9])
    # at least one member of every cluster, every member at 1.0, and all without confidences
    np.testing.assert_array_equal(confident_members(labels, confidences, 0.01), [1, 4, 9])
    np.testing.assert_array_equal(confident_members(labels, confidences, 1.0), np.arange(10))
    np.testing.assert_array_equal(confident_members(labels, None, 0.3), np.arange(10))


def test_a_round_repairs_a_corrupted_labelling_that_the_clusterer_alone_misses():
    x, y = _hidden_blobs()
    assert clustering_accuracy(y, KMeans(4, n_init=10, random_state=0).fit_predict(x)) < 0.6
    initial = _corrupt(y, 0.4, 4)  # 40% of the labels drawn at random
    assert clustering_accuracy(y, initial) < 0.75
    clustering = _fast(
        base=_GivenLabels(initial), clusterer=KMeans(4, n_init=10, random_state=0), rounds=1
    )
    labels = clustering.fit_predict(x)
    assert clustering_accuracy(y, labels) > 0.95
    np.testing.assert_array_equal(clustering.labels_per_round_[0], initial)
    np.testing.assert_array_equal(clustering.labels_per_round_[1], labels)
    assert clustering.history_[0]["n_selected"] == len(x)  # no confidences: every sample
    assert clustering_accuracy(y, clustering.predict(x)) > 0.95
    assert clustering.transform(x).shape == (len(x), 128)


def test_confident_fraction_trains_on_the_cores_of_mixture_clusters():
    x, y = _hidden_blobs(n_per=50, noise_dims=0)
    clustering = _fast(
        base=LatentClustering(None, 4, mixture=GaussianMixture(4, random_state=0)),
        clusterer=LatentClustering(
            None, 4, mixture=GaussianMixture(4, reg_covar=1e-3, random_state=0), manifold=PCA(3)
        ),
        rounds=2,
        confident_fraction=0.3,
        epochs=5,
    ).fit(x)
    sizes = np.bincount(clustering.labels_per_round_[0])
    assert clustering.history_[0]["n_selected"] == sum(max(1, round(0.3 * s)) for s in sizes)
    assert len(clustering.history_) == 2 and clustering.labels_per_round_.shape == (3, len(x))
    proba = clustering.predict_proba(x)
    assert proba.shape == (len(x), 4)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(proba.argmax(axis=1), clustering.predict(x))
    assert clustering.score(x, y) > 0.9


def test_the_same_random_state_gives_the_same_clusters():
    x, _ = _hidden_blobs(n_per=40)
    initial = _corrupt(_hidden_blobs(n_per=40)[1], 0.3, 4)

    def run(seed):
        clustering = _fast(
            base=_GivenLabels(initial),
            clusterer=KMeans(4, n_init=3, random_state=0),
            rounds=1,
            epochs=3,
            random_state=seed,
        ).fit(x)
        return clustering.transform(x), clustering.labels_

    features, labels = run(7)
    features_again, labels_again = run(7)
    np.testing.assert_array_equal(features, features_again)
    np.testing.assert_array_equal(labels, labels_again)
    assert not np.allclose(run(8)[0], features)


def test_image_classifier_augments_only_in_training():
    model = self_labeling_classifier((16, 16, 1), 3, seed=0, dropout=0.0)
    assert model.output.shape == (None, 3)
    assert model.layers[-1].input.shape == (None, 128)
    assert any(isinstance(layer, keras.layers.Conv2D) for layer in model.layers)
    images = np.random.default_rng(0).uniform(-1, 1, (5, 16, 16, 1)).astype(np.float32)
    np.testing.assert_allclose(model(images, training=False), model(images, training=False))
    assert not np.allclose(model(images, training=True), model(images, training=True))
    # vectors and images under 16 pixels a side go through the MLP
    for shape in ((6,), (8, 8, 1), (8, 32, 3)):
        model = self_labeling_classifier(shape, 2, seed=0)
        assert model.output.shape == (None, 2)
        assert not any(isinstance(layer, keras.layers.Conv2D) for layer in model.layers)
    with pytest.raises(ValueError, match="input_shape"):
        self_labeling_classifier((8, 8), 3)


def test_images_go_through_the_cnn_and_a_custom_classifier_is_used():
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(3), 20)
    images = np.full((60, 16, 16, 1), -1.0, np.float32)
    for label, rows in enumerate((slice(0, 4), slice(6, 10), slice(12, 16))):
        images[y == label, rows] = 1.0  # a horizontal bar per class
    images += rng.normal(0.0, 0.1, images.shape).astype(np.float32)
    clustering = SelfLabelingClustering(
        base=_GivenLabels(y),
        n_clusters=3,
        clusterer=KMeans(3, n_init=3, random_state=0),
        rounds=1,
        epochs=1,
        random_state=0,
    ).fit(images)
    assert clustering.classifier_.name == "self_labeling_classifier"
    assert any(isinstance(layer, keras.layers.Conv2D) for layer in clustering.classifier_.layers)
    assert clustering.predict(images).shape == (60,)

    built = []

    def tiny(input_shape, n_clusters, seed):
        built.append((input_shape, n_clusters, seed))
        inputs = keras.Input(input_shape)
        features = keras.layers.Dense(5, activation="relu")(keras.layers.Flatten()(inputs))
        return keras.Model(inputs, keras.layers.Dense(n_clusters)(features))

    clustering = clone(clustering).set_params(classifier=tiny, rounds=2).fit(images)
    assert built == [((16, 16, 1), 3, 0), ((16, 16, 1), 3, 1000)]  # a fresh model every round
    assert clustering.transform(images).shape == (60, 5)


def test_clone_and_nested_params():
    clustering = SelfLabelingClustering(
        base=KMeans(3), n_clusters=3, rounds=2, confident_fraction=0.4, random_state=1
    )
    copy = clone(clustering)
    assert copy.get_params()["rounds"] == 2 and copy.get_params()["confident_fraction"] == 0.4
    assert copy.base is not clustering.base and copy.base.n_clusters == 3
    copy.set_params(base__n_clusters=5, epochs=3)
    assert copy.base.n_clusters == 5 and copy.epochs == 3 and clustering.base.n_clusters == 3


def test_bad_inputs_and_arguments_raise():
    x, _ = _hidden_blobs(n_per=10)
    base = _GivenLabels(np.arange(len(x)) % 4)
    with pytest.raises(ValueError, match="channel axis"):
        _fast(base=base).fit(np.zeros((8, 5, 5)))
    with pytest.raises(ValueError, match="numeric"):
        _fast(base=base).fit(np.array([["a", "b"]] * 8))
    with pytest.raises(ValueError, match="NaN"):
        _fast(base=base).fit(np.where(np.eye(len(x), x.shape[1]) > 0, np.nan, x))
    with pytest.raises(ValueError, match="fewer than n_clusters"):
        _fast(base=base).fit(x[:3])
    for params, match in (
        ({"rounds": 0}, "rounds"),
        ({"epochs": 1.5}, "epochs"),
        ({"n_clusters": 0}, "n_clusters"),
        ({"confident_fraction": 0.0}, "confident_fraction"),
        ({"confident_fraction": 1.5}, "confident_fraction"),
        ({"random_state": "zero"}, "random_state"),
    ):
        with pytest.raises(ValueError, match=match):
            _fast(base=base, **params).fit(x)
    with pytest.raises(ValueError, match="more than n_clusters"):
        _fast(base=KMeans(6, n_init=1)).fit(x)
    with pytest.raises(TypeError, match="base must be a clusterer"):
        _fast(base=object()).fit(x)
    with pytest.raises(TypeError, match="clusterer must be a clusterer with fit and predict"):
        _fast(base=base, clusterer=_GivenLabels()).fit(x)
    with pytest.raises(TypeError, match="classifier must be None or a callable"):
        _fast(base=base, classifier="cnn").fit(x)
    with pytest.raises(TypeError, match="keras.Model"):
        _fast(base=base, classifier=lambda shape, k, seed: None).fit(x)

    clustering = _fast(base=base, clusterer=KMeans(4, n_init=1), epochs=1).fit(x)
    with pytest.raises(ValueError, match="shape"):
        clustering.predict(x[:, :5])
    with pytest.raises(AttributeError, match="predict_proba"):
        clustering.predict_proba(x)
    with pytest.raises(ValueError, match="true classes"):
        clustering.score(x, None)
    with pytest.raises(NotFittedError):
        SelfLabelingClustering().predict(x)


def test_default_base_and_clusterer_are_umap_mixtures():
    clustering = SelfLabelingClustering(n_clusters=4, random_state=3)
    made = clustering._make(None, "base")
    assert isinstance(made, LatentClustering)
    assert made.manifold == "umap" and made.n_clusters == 4 and made.random_state == 3
    assert "SelfLabelingClustering" in kgan.cluster.__all__
