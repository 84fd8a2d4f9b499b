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
    config, arrays, state = _split(model)
    header = json.dumps({"class": type(model).__name__, "config": config, "state": state})

    return atomic.atomic_write_npz(path, header=np.array(header), **arrays)


def load(cls, path):
    """The `cls` instance written by `save` at `path`."""
    with np.load(path, allow_pickle=False) as data:
        header = json.loads(str(data["header"]))
        arrays = {name: data[name] for name in data.files if name != "header"}
    if header.get("class") != cls.__name__:
        raise ValueError(f"{path} holds a {header.get('class')!r}, not a {cls.__name__}")
    return _rebuild(cls, header["config"], arrays, header["state"])


def _split(model):
    """`(config, arrays, state)` of `model`: JSON-able arguments, arrays, fitted scalars."""
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
    return config, arrays, state


def _rebuild(cls, config, arrays, state):
    config = dict(config)
    for name, value in arrays.items():
        if name.startswith("init/"):
            config[name[len("init/") :]] = value
    model = cls(**config)
    for name, value in arrays.items():
        if name.startswith("fitted/"):
            setattr(model, name[len("fitted/") :], value)
    if hasattr(model, "lower_bounds_"):
        model.lower_bounds_ = [float(v) for v in model.lower_bounds_]
    for name, value in state.items():
        setattr(model, name, value)
    return model


def preset_config(model):
    """The `config.json` content of a `GaussianMixture` preset (arguments and fitted scalars)."""
    config, _, state = _split(model)
    return {"class_name": type(model).__name__, "config": config, "state": state}


def save_weights_h5(model, path):
    """Writes the arrays of `model` (fitted parameters, `*_init` arguments) to an HDF5 file."""
    import h5py

    _, arrays, _ = _split(model)
    with h5py.File(path, "w") as f:
        for name, value in arrays.items():
            f.create_dataset(name, data=value)


def from_preset_files(cls, config, weights_path=None):
    """Rebuilds the model of `preset_config`; with `weights_path`, also its fitted arrays."""
    import h5py

    arrays = {}
    if weights_path is not None:
        with h5py.File(weights_path, "r") as f:
            f.visititems(
                lambda name, item: (
                    arrays.__setitem__(name, item[()]) if isinstance(item, h5py.Dataset) else None
                )
            )
    state = config.get("state", {}) if weights_path is not None else {}
    if weights_path is None:
        arrays = {k: v for k, v in arrays.items() if not k.startswith("fitted/")}
    return _rebuild(cls, config["config"], arrays, state)
