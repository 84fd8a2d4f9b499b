"""Keras callbacks for generative models: sample grids, run checkpoints, the data epoch, sample
metrics during fit, and guards against divergence and mode collapse."""

from kgan.callbacks.guards import (
    DivergenceGuard,
    ModeCollapseMonitor,
    ModeCollapseWarning,
    nonfinite_networks,
)
from kgan.callbacks.metrics import MetricsCallback
from kgan.callbacks.runs import (
    DataEpoch,
    RunCheckpoint,
    SampleGrid,
    load_run,
    tensorboard_available,
)

__all__ = [
    "DataEpoch",
    "DivergenceGuard",
    "MetricsCallback",
    "ModeCollapseMonitor",
    "ModeCollapseWarning",
    "RunCheckpoint",
    "SampleGrid",
    "load_run",
    "nonfinite_networks",
    "tensorboard_available",
]
