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
    is_run_folder,
    load_model,
    load_run,
    read_state,
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
    "is_run_folder",
    "load_model",
    "load_run",
    "read_state",
    "nonfinite_networks",
    "tensorboard_available",
]
