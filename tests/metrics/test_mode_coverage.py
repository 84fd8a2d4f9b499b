import numpy as np
import pytest

import kgan


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
