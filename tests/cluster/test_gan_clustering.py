import numpy as np
import pytest
from sklearn.base import clone

import kgan
from kgan.cluster import GANClustering


def ring8_subset(n=4000):
    x, y = kgan.data.load_arrays("ring8")
    return x[:n], y[:n]


def test_clustering_trainers_come_from_the_registry():
    assert {"bigan", "clustergan", "infogan"} <= set(kgan.cluster.clustering_trainers())
    assert "gan" not in kgan.cluster.clustering_trainers()


def test_it_trains_a_clustergan_and_clusters_ring8():
    x, y = ring8_subset()
    clustering = GANClustering(
        "clustergan",
        n_clusters=8,
        epochs=20,
        batch_size=256,
        learning_rate=1e-3,
        random_state=0,
    )
    labels = clustering.fit_predict(x)
    assert labels.shape == (len(x),) and labels.dtype == np.int64
    assert clustering.score(x, y) >= 0.9
    np.testing.assert_array_equal(clustering.predict(x[:50]), labels[:50])
    assert clustering.transform(x[:5]).shape == (5, clustering.model_.latent_dim)
    np.testing.assert_allclose(clustering.predict_proba(x[:5]).sum(axis=1), 1.0, rtol=1e-6)
    assert clustering.model_.num_clusters == 8
    # A trained model is used as it is.
    again = GANClustering(clustering.model_, n_clusters=8).fit(x)
    np.testing.assert_array_equal(again.labels_, labels)
    assert clone(clustering).get_params()["n_clusters"] == 8
    # The neighbourhood vote, computed by hand: cosine distances between encode features.
    voted = GANClustering(clustering.model_, n_clusters=8, n_neighbors=5).fit(x)
    features = clustering.transform(x)
    unit = features / np.linalg.norm(features, axis=1, keepdims=True)
    distances = 1.0 - unit @ unit.T
    np.fill_diagonal(distances, np.inf)
    nearest = np.argsort(distances, axis=1, kind="stable")[:, :5]
    probabilities = clustering.predict_proba(x)
    votes = (probabilities + probabilities[nearest].sum(axis=1)) / 6
    # Ties in distance may order neighbours differently: compare where the vote is clear.
    clear = np.sort(votes, axis=1)[:, -1] - np.sort(votes, axis=1)[:, -2] > 1e-6
    np.testing.assert_array_equal(voted.labels_[clear], votes.argmax(axis=1)[clear])
    assert clone(voted).get_params()["n_neighbors"] == 5


class PointModel:
    """A stand-in for a trained model: its features are the points themselves, its
    probabilities 0.9 for the label given to each point and, for any other point, for
    cluster 1."""

    num_clusters = 2
    sample_shape = (2,)

    def __init__(self, points, labels):
        self.points, self.labels = points, labels

    def encode(self, x):
        return x

    def cluster_probabilities(self, x):
        found = [np.flatnonzero((self.points == row).all(axis=1)) for row in x]
        labels = np.array([self.labels[f[0]] if len(f) else 1 for f in found])
        return np.eye(2)[labels] * 0.8 + 0.1

    def cluster(self, x):
        return self.cluster_probabilities(x).argmax(axis=1)


def test_the_neighbourhood_vote_mends_a_sample_its_neighbours_disagree_with():
    angles = np.linspace(0, 0.5, 20)
    group = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    points = np.concatenate([group, -group]).astype("float32")  # two directions, 20 each
    labels = np.repeat([0, 1], 20)
    labels[[3, 25]] = 1 - labels[[3, 25]]  # the model gets one of each group wrong
    model = PointModel(points, labels)
    own = GANClustering(model, n_clusters=2).fit(points)
    np.testing.assert_array_equal(own.labels_, labels)
    voted = GANClustering(model, n_clusters=2, n_neighbors=4).fit(points)
    np.testing.assert_array_equal(voted.labels_, np.repeat([0, 1], 20))
    # A new point amid the first group: the model says 1, its 4 neighbours 0.
    new = np.array([[np.cos(0.26), np.sin(0.26)]], "float32")
    assert model.cluster(new)[0] == 1 and voted.predict(new)[0] == 0
    np.testing.assert_allclose(voted.predict_proba(new), [[0.74, 0.26]], rtol=1e-6)
    assert voted.predict(-new)[0] == 1
    # A model without cluster probabilities cannot vote.
    silent = type("Silent", (PointModel,), {"cluster_probabilities": None})(points, labels)
    with pytest.raises(ValueError, match="Silent has no cluster_probabilities"):
        GANClustering(silent, n_clusters=2, n_neighbors=4).fit(points)


def test_a_bigans_clusters_are_fitted_on_the_training_data():
    x, y = ring8_subset(1000)
    clustering = GANClustering("bigan", n_clusters=8, epochs=1, batch_size=250, random_state=0).fit(
        x
    )
    model = clustering.model_
    features = model.encode(x)
    mixture = kgan.mixture.GaussianMixture(
        8, covariance_type="full", reg_covar=1e-4, n_init=3, random_state=0
    ).fit(features)
    np.testing.assert_array_equal(clustering.labels_, mixture.predict(features))
    np.testing.assert_allclose(clustering.transform(x[:5]), features[:5], rtol=1e-6)


def test_cosine_decay_runs_the_learning_rates_down_over_the_whole_training():
    x, _ = ring8_subset(1000)
    model = (
        GANClustering(
            "bigan", n_clusters=8, epochs=2, batch_size=250, learning_rate=1e-3, cosine_decay=True
        )
        .fit(x)
        .model_
    )
    for name in model.optimizer_names:
        optimizer = getattr(model, name)
        assert int(optimizer.iterations) == 8  # 2 epochs of 4 batches: the decay's length
        assert float(optimizer.learning_rate) == pytest.approx(1e-5, rel=1e-3)
    constant = GANClustering("bigan", n_clusters=8, epochs=1, batch_size=250, learning_rate=1e-3)
    assert float(constant.fit(x).model_.g_optimizer.learning_rate) == pytest.approx(1e-3)
    with pytest.raises(ValueError, match="cosine_decay must be True or False"):
        GANClustering("bigan", n_clusters=8, cosine_decay="yes").fit(x)


def test_bad_inputs_get_clear_errors():
    x, _ = ring8_subset(100)
    with pytest.raises(ValueError, match="n_clusters must be an int >= 2"):
        GANClustering(n_clusters=1).fit(x)
    with pytest.raises(ValueError, match="does not discover clusters"):
        GANClustering("gan", n_clusters=3).fit(x)
    with pytest.raises(ValueError, match="NaN"):
        GANClustering(n_clusters=3).fit(np.full((10, 2), np.nan, "float32"))
    with pytest.raises(ValueError, match="float samples"):
        GANClustering(n_clusters=3).fit(np.zeros((10, 2), "int32"))
    gan = kgan.models.build_trainer("gan", (2,))
    with pytest.raises(ValueError, match="GAN has no encode"):
        GANClustering(gan, n_clusters=3).fit(x)
    model = kgan.models.build_trainer("clustergan", (2,), num_clusters=3, width=8)
    with pytest.raises(ValueError, match="the model has 3 clusters but n_clusters=4"):
        GANClustering(model, n_clusters=4).fit(x)
    codes = {"categorical_codes": 2, "noise_dim": 2}
    with pytest.raises(ValueError, match="make 9 clusters, not n_clusters=3"):
        GANClustering("infogan", n_clusters=3, model_options=codes).fit(x)
    for bad in (-1, 1.5, True):
        with pytest.raises(ValueError, match="n_neighbors must be an int >= 0"):
            GANClustering(model, n_clusters=3, n_neighbors=bad).fit(x)
    with pytest.raises(ValueError, match="x has 100 samples; n_neighbors=100 needs more"):
        GANClustering(model, n_clusters=3, n_neighbors=100).fit(x)
    fitted = GANClustering(model, n_clusters=3).fit(x)
    with pytest.raises(ValueError, match=r"x must have shape \(n, 2\).*got \(4, 3\)"):
        fitted.predict(np.zeros((4, 3), "float32"))
