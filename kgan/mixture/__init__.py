"""Gaussian mixtures fitted by expectation-maximization in TensorFlow, exposed through TFP."""

from kgan.mixture.export import GaussianMixtureModule
from kgan.mixture.gaussian_mixture import GaussianMixture

__all__ = ["GaussianMixture", "GaussianMixtureModule"]
