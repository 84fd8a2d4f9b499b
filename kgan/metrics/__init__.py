"""Sample-quality metrics."""

from kgan.metrics.class_consistency import (
    class_consistency,
    generated_class_consistency,
    reference_classifier,
    train_classifier,
)

__all__ = [
    "class_consistency",
    "generated_class_consistency",
    "reference_classifier",
    "train_classifier",
]
