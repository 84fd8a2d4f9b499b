"""Sample-quality metrics: feature extractors, distances as functions and as Keras metrics."""

from kgan.metrics.class_consistency import (
    cached_reference_classifier,
    class_consistency,
    generated_class_consistency,
    reference_classifier,
    train_classifier,
)
from kgan.metrics.distances import (
    density_coverage,
    feature_statistics,
    fid,
    frechet_distance,
    inception_score,
    kid,
    precision_recall,
)
from kgan.metrics.evaluate import evaluate_model, score_features
from kgan.metrics.features import (
    DomainExtractor,
    FeatureExtractor,
    KerasFeatureExtractor,
    domain_extractor,
    inception_extractor,
)
from kgan.metrics.mode_coverage import mode_coverage, stacked_mnist_modes
from kgan.metrics.streaming import FID, KID

__all__ = [
    "FID",
    "KID",
    "DomainExtractor",
    "FeatureExtractor",
    "KerasFeatureExtractor",
    "class_consistency",
    "density_coverage",
    "domain_extractor",
    "evaluate_model",
    "feature_statistics",
    "fid",
    "frechet_distance",
    "generated_class_consistency",
    "inception_extractor",
    "inception_score",
    "kid",
    "mode_coverage",
    "stacked_mnist_modes",
    "precision_recall",
    "cached_reference_classifier",
    "reference_classifier",
    "score_features",
    "train_classifier",
]


def __getattr__(name):
    # `MetricsCallback` moved to `kgan.callbacks` with the other callbacks; the old path works
    # for one release.
    if name == "MetricsCallback":
        import warnings

        from kgan.callbacks.metrics import MetricsCallback

        warnings.warn(
            "kgan.metrics.MetricsCallback moved to kgan.callbacks.MetricsCallback; the old name "
            "will be removed in the next release",
            DeprecationWarning,
            stacklevel=2,
        )
        return MetricsCallback
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
