import numpy as np
import pytest

import kgan
from kgan.metrics.mode_coverage import reverse_kl_to_uniform


@pytest.mark.parametrize("name, modes", [("ring8", 8), ("grid25", 25)])
def test_samples_of_the_true_mixture_cover_every_mode(name, modes):
    spec = kgan.data.mixture_spec(name)
    samples, _ = kgan.data.load_arrays(name, split="test", num_examples=2500)
    score = kgan.metrics.mode_coverage(samples, spec.means, spec.std)
    assert score["modes_captured"] == score["num_modes"] == modes
    # P(chi2 with 2 dof < 9) = 1 - exp(-4.5) = 0.9889
    assert score["high_quality"] == pytest.approx(1 - np.exp(-4.5), abs=0.01)
    assert 0 <= score["reverse_kl"] < 0.02


def test_collapsed_and_off_mode_samples():
    spec = kgan.data.mixture_spec("ring8")
    collapsed = np.repeat(spec.means[:1], 100, axis=0)
    score = kgan.metrics.mode_coverage(collapsed, spec.means, spec.std)
    assert score["modes_captured"] == 1 and score["high_quality"] == 1.0
    assert score["reverse_kl"] == pytest.approx(np.log(8))
    # points halfway between two modes are near no mode: none is captured
    between = (spec.means + np.roll(spec.means, 1, axis=0)) / 2
    score = kgan.metrics.mode_coverage(between, spec.means, spec.std)
    assert score["modes_captured"] == 0 and score["high_quality"] == 0.0
    # two modes, half the samples each: KL(p || uniform over 8) = log 4
    two = np.concatenate([np.repeat(spec.means[:1], 50, 0), np.repeat(spec.means[3:4], 50, 0)])
    score = kgan.metrics.mode_coverage(two, spec.means, spec.std)
    assert score["modes_captured"] == 2
    assert score["reverse_kl"] == pytest.approx(np.log(4))


def test_mode_coverage_refuses_bad_input():
    means = np.zeros((3, 2))
    with pytest.raises(ValueError, match="share d"):
        kgan.metrics.mode_coverage(np.zeros((5, 3)), means, 0.1)
    with pytest.raises(ValueError, match="finite"):
        kgan.metrics.mode_coverage(np.full((2, 2), np.nan), means, 0.1)
    with pytest.raises(ValueError, match="std"):
        kgan.metrics.mode_coverage(np.zeros((2, 2)), means, 0.0)


def test_stacked_mnist_is_three_independent_digits_of_the_split():
    x, y = kgan.data.load_arrays("stacked_mnist_5k", split="test")
    assert x.shape == (2000, 28, 28, 3) and y.dtype == np.int32
    assert kgan.data.info("stacked_mnist_5k").num_classes == 1000
    again, _ = kgan.data.load_arrays("stacked_mnist_5k", split="test")
    np.testing.assert_array_equal(x, again)
    digits, labels = kgan.data.load_arrays("mnist_5k", split="test")
    flat = digits.reshape(len(digits), -1)
    lookup = {row.tobytes(): label for row, label in zip(flat, labels)}
    for i in range(0, 2000, 97):
        # Every channel is a test digit; the label reads the three digits in order.
        channels = [lookup[x[i, ..., c].reshape(-1).tobytes()] for c in range(3)]
        assert y[i] == 100 * channels[0] + 10 * channels[1] + channels[2]
    # Independent draws: the first digit is uniform over the ten classes, and not the second.
    np.testing.assert_allclose(np.bincount(y // 100, minlength=10) / 2000, 0.1, atol=0.03)
    assert abs(np.corrcoef(y // 100, (y // 10) % 10)[0, 1]) < 0.1


def test_stacked_mnist_modes_count_the_digit_triples():
    x, y = kgan.data.load_arrays("stacked_mnist_5k", split="test")
    classifier = kgan.metrics.reference_classifier("mnist_5k")[0]
    scores = kgan.metrics.stacked_mnist_modes(x, classifier)
    # The classifier reads about 98% of digits right, so the triples it sees are the labels'.
    assert scores["num_modes"] == 1000
    assert abs(scores["modes_captured"] - len(np.unique(y))) <= 0.03 * len(np.unique(y))
    truth = reverse_kl_to_uniform(y, 1000)
    assert scores["reverse_kl"] == pytest.approx(truth, abs=0.05)
    assert scores["confidence"] > 0.9
    # One image repeated is one mode: the reverse KL is log(1000).
    collapsed = kgan.metrics.stacked_mnist_modes(np.repeat(x[:1], 50, axis=0), classifier)
    assert collapsed["modes_captured"] == 1
    assert collapsed["reverse_kl"] == pytest.approx(np.log(1000))
    with pytest.raises(ValueError, match=r"shape \(n, 28, 28, 3\)"):
        kgan.metrics.stacked_mnist_modes(x[..., :1], classifier)


def test_evaluate_counts_stacked_mnist_modes_of_a_generator():
    model = kgan.models.build_trainer("gan", (28, 28, 3), latent_dim=4, width=4, seed=0)
    results = kgan.metrics.evaluate_model(model, "stacked_mnist_5k", ["modes"], num_samples=64)
    assert results["num_modes"] == 1000 and 1 <= results["modes_captured"] <= 64
    assert results["num_samples"] == 64
    gray = kgan.models.build_trainer("gan", (28, 28, 1), latent_dim=4, width=4, seed=0)
    with pytest.raises(ValueError, match="28x28x3 images"):
        kgan.metrics.evaluate_model(gray, "stacked_mnist_5k", ["modes"], num_samples=64)


def test_stacked_mnist_draws_num_examples_triples_of_one_fixed_sequence():
    x, y = kgan.data.load_arrays("stacked_mnist_5k", split="test")
    first, first_y = kgan.data.load_arrays("stacked_mnist_5k", split="test", num_examples=50)
    np.testing.assert_array_equal(first, x[:50])
    np.testing.assert_array_equal(first_y, y[:50])
    more, more_y = kgan.data.load_arrays("stacked_mnist_5k", split="test", num_examples=5000)
    assert more.shape == (5000, 28, 28, 3) and more.dtype == np.float32
    np.testing.assert_array_equal(more[:2000], x)
    # The 3,000 further triples are new draws, not repeats of the first 2,000.
    assert len(np.unique(more_y[2000:])) > 900
    assert not np.array_equal(more_y[2000:4000], y)
    both, _ = kgan.data.load_arrays("stacked_mnist_5k", split="all", num_examples=10)
    assert len(both) == 20
    with pytest.raises(ValueError, match="num_examples"):
        kgan.data.load_arrays("stacked_mnist_5k", num_examples=0)
