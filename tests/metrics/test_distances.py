import numpy as np
import pytest
import scipy.linalg

import kgan


def _closed_form(mu1, s1, mu2, s2):
    """FID between N(mu1, diag(s1)) and N(mu2, diag(s2))."""
    return float(np.sum((mu1 - mu2) ** 2) + np.sum(s1 + s2 - 2 * np.sqrt(s1 * s2)))


def test_frechet_distance_matches_the_closed_form_of_diagonal_gaussians():
    rng = np.random.default_rng(0)
    mu1, mu2 = rng.normal(size=6), rng.normal(size=6)
    s1, s2 = rng.uniform(0.1, 3, size=6), rng.uniform(0.1, 3, size=6)
    value = kgan.metrics.frechet_distance(mu1, np.diag(s1), mu2, np.diag(s2))
    np.testing.assert_allclose(value, _closed_form(mu1, s1, mu2, s2), rtol=1e-10)
    # Commuting full covariances: the same eigenvectors, rotated.
    rotation, _ = np.linalg.qr(rng.normal(size=(6, 6)))
    c1, c2 = rotation @ np.diag(s1) @ rotation.T, rotation @ np.diag(s2) @ rotation.T
    value = kgan.metrics.frechet_distance(mu1, c1, mu2, c2)
    np.testing.assert_allclose(value, _closed_form(mu1, s1, mu2, s2), rtol=1e-8)


def test_frechet_distance_agrees_with_scipy_sqrtm_on_general_covariances():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(5, 5)), rng.normal(size=(5, 5))
    c1, c2 = a @ a.T + 0.1 * np.eye(5), b @ b.T + 0.1 * np.eye(5)
    mu1, mu2 = rng.normal(size=5), rng.normal(size=5)
    root = scipy.linalg.sqrtm(c1 @ c2).real
    expected = np.sum((mu1 - mu2) ** 2) + np.trace(c1 + c2 - 2 * root)
    np.testing.assert_allclose(kgan.metrics.frechet_distance(mu1, c1, mu2, c2), expected, 1e-8)
    # Singular covariances stay finite and >= 0.
    singular = np.zeros((5, 5))
    assert np.isfinite(kgan.metrics.frechet_distance(mu1, singular, mu1, singular))
    assert kgan.metrics.frechet_distance(mu1, c1, mu1, c1) == pytest.approx(0, abs=1e-8)
    with pytest.raises(ValueError, match="cov1 and cov2 must have shape"):
        kgan.metrics.frechet_distance(mu1, c1[:4, :4], mu2, c2)


def test_fid_of_samples_approaches_the_closed_form():
    rng = np.random.default_rng(2)
    mu1, mu2 = np.zeros(4), np.array([1.0, 0.0, -0.5, 0.0])
    s1, s2 = np.array([1.0, 2.0, 0.5, 1.0]), np.array([1.5, 1.0, 0.5, 2.0])
    x = mu1 + np.sqrt(s1) * rng.normal(size=(100_000, 4))
    y = mu2 + np.sqrt(s2) * rng.normal(size=(100_000, 4))
    expected = _closed_form(mu1, s1, mu2, s2)
    assert kgan.metrics.fid(x, y) == pytest.approx(expected, rel=0.02)
    with pytest.raises(ValueError, match="same feature size"):
        kgan.metrics.fid(x, y[:, :3])
    with pytest.raises(ValueError, match="at least 2 samples"):
        kgan.metrics.fid(x[:1], y)


def test_kid_is_zero_within_error_for_one_distribution_and_positive_for_a_shift():
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(2000, 16)), rng.normal(size=(2000, 16))
    mean, error = kgan.metrics.kid(x, y, num_subsets=50, subset_size=500, seed=0)
    assert abs(mean) < 4 * error + 1e-4
    shifted, shifted_error = kgan.metrics.kid(x, y + 0.5, num_subsets=50, subset_size=500)
    assert shifted > 10 * shifted_error and shifted > 0.01
    # Subsets larger than the sets are cut to the smaller set.
    assert np.isfinite(kgan.metrics.kid(x[:50], y[:60], subset_size=1000)[0])


def test_inception_score_of_uniform_and_confident_logits():
    mean, std = kgan.metrics.inception_score(np.zeros((100, 10)), splits=5)
    assert mean == pytest.approx(1.0) and std == pytest.approx(0.0, abs=1e-12)
    confident = 50.0 * np.eye(10)[np.arange(1000) % 10]
    mean, _ = kgan.metrics.inception_score(confident, splits=10)
    assert mean == pytest.approx(10.0, rel=1e-6)
    collapsed = 50.0 * np.eye(10)[np.zeros(1000, int)]
    assert kgan.metrics.inception_score(collapsed)[0] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="splits"):
        kgan.metrics.inception_score(confident[:5], splits=10)


def test_precision_recall_of_identical_shifted_and_collapsed_sets():
    rng = np.random.default_rng(4)
    real = rng.normal(size=(500, 8))
    same = kgan.metrics.precision_recall(real, real.copy(), k=3)
    assert same == {"precision": 1.0, "recall": 1.0}
    fresh = kgan.metrics.precision_recall(real, rng.normal(size=(500, 8)))
    assert fresh["precision"] > 0.6 and fresh["recall"] > 0.6
    shifted = kgan.metrics.precision_recall(real, rng.normal(size=(500, 8)) + 3.0)
    assert shifted["precision"] < 0.2 and shifted["recall"] < 0.2
    # Mode collapse: every fake sample near one real point is precise but covers little.
    collapsed = real[:1] + 0.01 * rng.normal(size=(500, 8))
    result = kgan.metrics.precision_recall(real, collapsed)
    assert result["precision"] == 1.0 and result["recall"] < 0.05
    with pytest.raises(ValueError, match="more than k=3"):
        kgan.metrics.precision_recall(real[:3], collapsed)


def test_density_and_coverage():
    rng = np.random.default_rng(5)
    real = rng.normal(size=(1000, 8))
    same = kgan.metrics.density_coverage(real, rng.normal(size=(1000, 8)), k=5)
    assert 0.8 < same["density"] < 1.2 and same["coverage"] > 0.9
    identical = kgan.metrics.density_coverage(real, real.copy())
    assert identical["coverage"] == 1.0
    # Fake samples piled into the densest region: density above 1, coverage low.
    crowded = kgan.metrics.density_coverage(real, 0.1 * rng.normal(size=(1000, 8)))
    assert crowded["density"] > 2 and crowded["coverage"] < 0.3
    far = kgan.metrics.density_coverage(real, rng.normal(size=(1000, 8)) + 5)
    assert far["density"] < 0.01 and far["coverage"] < 0.01
    with pytest.raises(ValueError, match="2-D"):
        kgan.metrics.density_coverage(real[0], real)


def test_balance_shows_a_dropped_class():
    from kgan.cli.evaluate import EVALUATE_METRICS
    from kgan.metrics.evaluate import METRICS, score_features

    assert set(EVALUATE_METRICS) == set(METRICS)
    features = np.random.default_rng(0).normal(size=(40, 3))
    balanced = np.eye(4)[np.arange(40) % 4] * 5.0
    scores = score_features(features, features, ["balance"], fake_logits=balanced)
    assert scores == {"class_kl": pytest.approx(0.0), "smallest_class": pytest.approx(1.0)}
    # Class 3 dropped: its samples go to class 0, so the histogram is (1/2, 1/4, 1/4, 0).
    dropped = np.eye(4)[np.where(np.arange(40) % 4 == 3, 0, np.arange(40) % 4)] * 5.0
    scores = score_features(features, features, ["balance"], fake_logits=dropped)
    expected = 0.5 * np.log(0.5 * 4) + 2 * 0.25 * np.log(0.25 * 4)
    assert scores["class_kl"] == pytest.approx(expected)
    assert scores["smallest_class"] == 0.0
    with pytest.raises(ValueError, match="balance needs fake_logits"):
        score_features(features, features, ["balance"])
