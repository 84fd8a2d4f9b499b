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
    fitted = GANClustering(model, n_clusters=3).fit(x)
    with pytest.raises(ValueError, match=r"x must have shape \(n, 2\).*got \(4, 3\)"):
        fitted.predict(np.zeros((4, 3), "float32"))
