"""Saving a `GaussianMixture` to one `.npz` file (JSON header + arrays) and reading it back."""

import json

import numpy as np

from kgan import atomic

FITTED = ("weights_", "means_", "covariances_", "precisions_cholesky_", "precisions_")
STATE = ("converged_", "n_iter_", "lower_bound_", "n_features_in_")


def save(model, path):
    """Writes `model`'s constructor arguments and fitted state to `path`, atomically.

    The `*_init` arrays and fitted arrays are npz entries; everything else is a JSON header. A
    `numpy.random.RandomState` passed as `random_state` is stored as None.
    """
    config, arrays = {}, {}
    for name, value in model.get_params().items():
        if isinstance(value, np.random.RandomState):
            value = None  # a generator's state is not part of the model
        if name.endswith("_init") and value is not None:
            arrays[f"init/{name}"] = np.asarray(value)
        else:
            config[name] = value if name != "dtype" else model._dtype().name
    for name in FITTED + ("lower_bounds_",):
        if hasattr(model, name):
            arrays[f"fitted/{name}"] = np.asarray(getattr(model, name))
    state = {name: getattr(model, name) for name in STATE if hasattr(model, name)}
    header = json.dumps({"class": type(model).__name__, "config": config, "state": state})

    def write(target):
        with open(target, "wb") as f:  # a file object: np.savez adds no ".npz" suffix
            np.savez(f, header=np.array(header), **arrays)

    return atomic.atomic_write(path, write)


def load(cls, path):
    """The `cls` instance written by `save` at `path`."""
    with np.load(path, allow_pickle=False) as data:
        header = json.loads(str(data["header"]))
        arrays = {name: data[name] for name in data.files if name != "header"}
    if header.get("class") != cls.__name__:
        raise ValueError(f"{path} holds a {header.get('class')!r}, not a {cls.__name__}")
    config = header["config"]
    for name, value in arrays.items():
        if name.startswith("init/"):
            config[name[len("init/") :]] = value
    model = cls(**config)
    for name, value in arrays.items():
        if name.startswith("fitted/"):
            setattr(model, name[len("fitted/") :], value)
    if hasattr(model, "lower_bounds_"):
        model.lower_bounds_ = [float(v) for v in model.lower_bounds_]
    for name, value in header["state"].items():
        setattr(model, name, value)
    return model
