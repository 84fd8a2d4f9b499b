"""Sample-quality metrics."""

from kgan.metrics.class_consistency import (
    class_consistency,
    generated_class_consistency,
    reference_classifier,
    train_classifier,
)
from kgan.metrics.mode_coverage import mode_coverage

__all__ = [
    "class_consistency",
    "generated_class_consistency",
    "mode_coverage",
    "reference_classifier",
    "train_classifier",
]
