"""The preset folder: writing one atomically, checking its files, and loading its model.

A preset is a folder with fixed file names (KerasHub's convention):

- `config.json`: the model's Keras config (`keras.saving.serialize_keras_object`) of the
  uncompiled model, or a `GaussianMixture`'s arguments;
- `model.weights.h5`: the weights (Keras's weights file; the fitted arrays of a mixture);
- `golden.npz`: fixed inputs of the model's inference functions and the outputs they gave when
  the preset was written, so any copy can be checked numerically;
- `metadata.json`: class, versions, dataset, recipe, parameter count, measured metrics with the
  command that measured them, license, date, and the SHA-256 and size of every other file;
- `README.md`: the model card;
- `samples.png` (image generators): 100 samples drawn with seed 0 as `kgan sample` draws them,
  shown on the card; listed in the manifest and checked like the others.
"""

import copy as copy_lib
import datetime
import hashlib
import importlib
import json
import os

import keras
import numpy as np

from kgan.atomic import atomic_folder
from kgan.image_grid import makes_images, save_sample_grid

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.weights.h5"
GOLDEN_FILE = "golden.npz"
METADATA_FILE = "metadata.json"
CARD_FILE = "README.md"
SAMPLES_FILE = "samples.png"
PAYLOAD_FILES = (CONFIG_FILE, WEIGHTS_FILE, GOLDEN_FILE, CARD_FILE)

# Plain Keras models a preset may hold; beside them, registered trainers (Keras-registered
# classes that declare a `trainer_name`) and classes with preset hooks (`preset_config`,
# `save_preset_weights`, `from_preset_config`). Nothing else is deserialized from a file.
KERAS_CLASSES = {"Sequential", "Functional"}


class PresetError(ValueError):
    """A preset is missing, malformed, or fails its checksums."""


class ChecksumError(PresetError):
    """A file's SHA-256 or size differs from its manifest."""


def sha256_file(path, chunk_size=1 << 20):
    """The hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(chunk_size), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _has_preset_hooks(model):
    """Whether `model` saves itself through the preset hooks (not a Keras model)."""
    return callable(getattr(model, "preset_config", None)) and callable(
        getattr(model, "save_preset_weights", None)
    )


def _import_kgan_module(module):
    """Imports a module of kgan named by a preset (which registers its classes) and returns
    it; a module outside kgan is never imported because a file names it (None)."""
    if isinstance(module, str) and (module == "kgan" or module.startswith("kgan.")):
        return importlib.import_module(module)
    return None


def _preset_class(config, source):
    """The class a preset's `config.json` names, checked against what presets may hold.

    Raises:
        PresetError: the class is not a plain Keras model, a registered trainer or a class with
            preset hooks.
    """
    module = _import_kgan_module(config.get("module"))
    registered = config.get("registered_name") or config.get("class_name")
    if "registered_name" not in config and "config" in config:
        cls = getattr(module, str(registered), None)
        if cls is not None and callable(getattr(cls, "from_preset_config", None)):
            return cls
    elif registered in KERAS_CLASSES:
        return keras.Model
    else:
        cls = keras.saving.get_registered_object(registered)
        if isinstance(cls, type) and getattr(cls, "trainer_name", None):
            return cls
    raise PresetError(
        f"{source} names the class {registered!r}; presets hold plain Keras models "
        f"({', '.join(sorted(KERAS_CLASSES))}), registered trainers "
        "(kgan.models.register_trainer) and models with preset hooks such as "
        "kgan.mixture.GaussianMixture"
    )


def _uncompiled_copy(model):
    """`(copy, config)`: a fresh, uncompiled copy of a Keras model with the same weights (no
    optimizer state), and its config."""
    config = keras.saving.serialize_keras_object(model)
    config.pop("compile_config", None)
    # Deserializing consumes parts of the dict it is given.
    copy = keras.saving.deserialize_keras_object(copy_lib.deepcopy(config))
    copy.set_weights(model.get_weights())
    return copy, config


def parameter_count(model):
    """Number of weights of a Keras model (every network it holds, EMA copies included) or of a
    fitted mixture's parameters."""
    if _has_preset_hooks(model):
        return int(model.parameter_count())
    return int(sum(int(np.prod(w.shape)) for w in model.weights))


def class_name(model):
    """The name a preset records for `model`'s class, e.g. `"ConditionalGAN"`."""
    return type(model).__name__


def _model_card(name, metadata):
    lines = [f"# {name}", "", metadata.get("description") or "", ""]
    lines += [
        f"- Class: `{metadata['module']}.{metadata['class_name']}`",
        f"- Dataset: {metadata.get('dataset') or 'n/a'}",
        f"- Parameters: {metadata['parameter_count']:,}",
        f"- License: {metadata.get('license')}",
        f"- Written: {metadata['date']} with kgan {metadata['kgan_version']}, Keras "
        f"{metadata['keras_version']}",
        "",
        "## Load",
        "",
        "```python",
        "import kgan",
        f'model = kgan.zoo.load("{name}")',
        "```",
        "",
    ]
    if metadata.get("samples"):
        lines += [
            "## Samples",
            "",
            f"![100 samples of {name}, seed 0]({metadata['samples']})",
            "",
            f"Drawn with `kgan sample {name} --num 100 --seed 0 --out {metadata['samples']}`"
            " (the model's default sampling).",
            "",
        ]
    recipe = metadata.get("recipe")
    if recipe:
        lines += ["## Recipe", "", "```sh", *recipe.strip().splitlines(), "```", ""]
    metrics = metadata.get("metrics") or {}
    if metrics:
        lines += ["## Measured", "", "| metric | value |", "| --- | --- |"]
        for key, value in metrics.items():
            if key == "command":
                continue
            text = f"{value:.4g}" if isinstance(value, float) else str(value)
            lines.append(f"| {key} | {text} |")
        lines.append("")
        if metrics.get("command"):
            lines += ["Measured with:", "", "```sh", metrics["command"], "```", ""]
    notes = metadata.get("notes")
    if notes:
        lines += ["## Notes", "", notes, ""]
    return "\n".join(lines)


def save_to_preset(
    model,
    preset_dir,
    description=None,
    dataset=None,
    recipe=None,
    metrics=None,
    license="Apache-2.0",
    notes=None,
    overwrite=False,
    samples=True,
):
    """Writes `model` as a preset folder, atomically.

    The folder is assembled next to `preset_dir` and renamed into place once complete, so a
    reader never sees half a preset. Keras models are saved uncompiled (their optimizers' state
    stays out); call `compile` after loading to fine-tune.

    Args:
        model: a registered trainer (`kgan.models.list_trainers()`), a Keras
            `Sequential`/functional model, or a fitted `kgan.mixture.GaussianMixture`.
        preset_dir: the folder to write; its base name is the preset's name.
        description: one line on what the model is.
        dataset: the data it was trained on, e.g. `"mnist_5k"`.
        recipe: the exact commands that train it.
        metrics: `{name: value}` measured on it, with the measuring command under `"command"`.
        license: the license of the weights.
        notes: free text for the model card.
        overwrite: replace an existing folder.
        samples: for an image generator, write `samples.png` (100 samples, seed 0, as `kgan
            sample` draws them) and show it on the card; False leaves it out.

    Returns:
        The preset folder's path.

    Example:
        >>> kgan.zoo.save_to_preset(cgan, "zoo/cgan_mnist", dataset="mnist_5k")
    """
    from kgan.version import __version__
    from kgan.zoo import golden

    preset_dir = os.path.abspath(os.fspath(preset_dir))
    name = os.path.basename(preset_dir.rstrip(os.sep))
    if os.path.exists(preset_dir) and not overwrite:
        raise FileExistsError(f"{preset_dir} exists; pass overwrite=True to replace it")
    if metrics is not None and not isinstance(metrics, dict):
        raise ValueError(f"metrics must be a dict of name -> value; got {type(metrics).__name__}")
    with atomic_folder(preset_dir, prefix=f".tmp-{name}-") as staging:
        if _has_preset_hooks(model):
            config = model.preset_config()
            model.save_preset_weights(os.path.join(staging, WEIGHTS_FILE))
        elif isinstance(model, keras.Model):
            copy, config = _uncompiled_copy(model)
            copy.save_weights(os.path.join(staging, WEIGHTS_FILE))
        else:
            raise ValueError(
                f"cannot save a {type(model).__name__} as a preset; pass a keras.Model (a kgan "
                "trainer or network) or a fitted kgan.mixture.GaussianMixture"
            )
        try:
            _preset_class(config, f"a {type(model).__name__}")
        except PresetError as error:
            raise ValueError(str(error)) from None
        with open(os.path.join(staging, CONFIG_FILE), "w") as f:
            json.dump(config, f, indent=2)
            f.write("\n")
        golden.write(model, os.path.join(staging, GOLDEN_FILE))
        samples = bool(samples) and makes_images(model)
        if samples:
            save_sample_grid(model, os.path.join(staging, SAMPLES_FILE))
        metadata = {
            "name": name,
            "class_name": class_name(model),
            "module": type(model).__module__.rsplit(".", 1)[0]
            if type(model).__module__.startswith("kgan")
            else "keras",
            "description": description,
            "kgan_version": __version__,
            "keras_version": keras.__version__,
            "dataset": dataset,
            "recipe": recipe,
            "parameter_count": parameter_count(model),
            "metrics": metrics or {},
            "license": license,
            "notes": notes,
            "samples": SAMPLES_FILE if samples else None,
            "date": datetime.date.today().isoformat(),
        }
        with open(os.path.join(staging, CARD_FILE), "w") as f:
            f.write(_model_card(name, metadata))
        metadata["files"] = {
            file: {
                "sha256": sha256_file(os.path.join(staging, file)),
                "size": os.path.getsize(os.path.join(staging, file)),
            }
            for file in PAYLOAD_FILES + ((SAMPLES_FILE,) if metadata["samples"] else ())
        }
        with open(os.path.join(staging, METADATA_FILE), "w") as f:
            json.dump(metadata, f, indent=2)
            f.write("\n")
    return preset_dir


def read_metadata(preset_dir):
    """The parsed `metadata.json` of a preset folder."""
    path = os.path.join(preset_dir, METADATA_FILE)
    if not os.path.isfile(path):
        raise PresetError(
            f"{preset_dir} is not a preset folder: it has no {METADATA_FILE} (a preset holds "
            f"{METADATA_FILE}, {', '.join(PAYLOAD_FILES)})"
        )
    try:
        with open(path) as f:
            metadata = json.load(f)
    except json.JSONDecodeError as error:
        raise PresetError(
            f"{path} is not valid JSON ({error}); download the preset again"
        ) from None
    if not isinstance(metadata.get("files"), dict):
        raise PresetError(f"{path} lists no files with their checksums; it is not a kgan preset")
    return metadata


def verify_file(path, expected, label=None):
    """Raises `ChecksumError` unless the file at `path` has the expected size and SHA-256."""
    label = label or path
    if not os.path.isfile(path):
        raise ChecksumError(f"{label} is missing")
    size = os.path.getsize(path)
    if "size" in expected and size != expected["size"]:
        raise ChecksumError(
            f"{label} has {size} bytes, its manifest says {expected['size']}: the file is "
            "truncated or replaced"
        )
    digest = sha256_file(path)
    if digest != expected["sha256"]:
        raise ChecksumError(
            f"{label} has SHA-256 {digest[:16]}..., its manifest says "
            f"{expected['sha256'][:16]}...: the file is corrupted or was swapped"
        )


def verify_folder(preset_dir, files=None):
    """Checks every file of a preset folder against `files` (by default its metadata's list).

    Returns:
        The folder's metadata.
    """
    metadata = read_metadata(preset_dir)
    files = metadata["files"] if files is None else files
    missing = [name for name in PAYLOAD_FILES if name not in files]
    if missing:
        raise PresetError(f"the manifest of {preset_dir} lists no {', '.join(missing)}")
    for file, expected in files.items():
        verify_file(os.path.join(preset_dir, file), expected, f"{preset_dir}/{file}")
    return metadata


def _check_class(held_class, held, expected_class, preset_dir):
    if expected_class is None:
        return
    if held_class is keras.Model or not issubclass(held_class, expected_class):
        raise PresetError(
            f"{preset_dir} holds a {held}, not a {expected_class.__name__}; load it with "
            f"kgan.zoo.load or {held}.from_preset"
        )


def load_folder(preset_dir, load_weights=True, expected_class=None):
    """Builds the model of a verified preset folder (Keras `safe_mode=True`: no code runs
    from the files).

    Args:
        preset_dir: a preset folder whose files were checked.
        load_weights: load the trained weights; False leaves the fresh initialization.
        expected_class: raise `PresetError` unless the preset holds this class or a subclass.

    Returns:
        The model.
    """
    metadata = read_metadata(preset_dir)
    with open(os.path.join(preset_dir, CONFIG_FILE)) as f:
        config = json.load(f)
    held_class = _preset_class(config, f"{preset_dir}/{CONFIG_FILE}")
    _check_class(held_class, metadata.get("class_name"), expected_class, preset_dir)
    weights = os.path.join(preset_dir, WEIGHTS_FILE) if load_weights else None
    if held_class is not keras.Model and not issubclass(held_class, keras.Model):
        return held_class.from_preset_config(config, weights)
    model = keras.saving.deserialize_keras_object(config, safe_mode=True)
    if weights is not None:
        model.load_weights(weights)
    return model
