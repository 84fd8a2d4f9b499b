"""What a model exports: its inference functions with named outputs, and the module that saves them.

Every exportable model lists its inference functions with fixed input signatures
(`model.inference_functions()`): the GANs `generate` and `sample`, the VAE family `encode`,
`decode` and `generate`, `kgan.mixture.GaussianMixture` `score_samples`, `predict_proba` and
`predict`. A function that returns a plain tensor gets a named output here (`images` or
`samples`, `latents`, `log_prob`, `probabilities`, `components`), so every exported signature
returns a dict.
"""

import logging
import os

import numpy as np
import tensorflow as tf

from kgan import sampling
from kgan.callbacks import runs
from kgan.version import __version__

# The output name of functions that return a plain tensor ("images" for generators of images).
OUTPUT_KEYS = {
    "encode": "latents",
    "score_samples": "log_prob",
    "predict_proba": "probabilities",
    "predict": "components",
    "cluster": "clusters",
}
GENERATING = ("generate", "decode", "sample")
# Signatures that need TensorFlow kernels outside LiteRT's builtin ops (stateless random ops).
NOT_FOR_TFLITE = ("sample",)


class _QuietRetracing(logging.Filter):
    """Drops TF's retracing warning about the output-naming wrappers: saving and converting
    trace them a few times by design."""

    def filter(self, record):
        return "_named.<locals>.call" not in record.getMessage()


tf.get_logger().addFilter(_QuietRetracing())


def load_model(source):
    """Returns the model to export: `source` itself, or the model a path holds.

    Args:
        source: a model with `inference_functions()`, a `.keras` file, a run folder written by
            `kgan train` (its `model.keras`), or a `.npz` file of
            `kgan.mixture.GaussianMixture.save`.

    Returns:
        The model.

    Example:
        >>> model = kgan.export.load_model("runs/cgan_mnist")
    """
    if not isinstance(source, str | os.PathLike):
        if not hasattr(source, "inference_functions"):
            raise ValueError(
                f"{type(source).__name__} does not say what it exports (no "
                "inference_functions()); pass a registered kgan trainer "
                "(kgan.models.list_trainers()) or a fitted kgan.mixture.GaussianMixture"
            )
        return source
    return runs.load_model(source)


def _sample_shape(model):
    for attribute in ("sample_shape", "data_shape"):
        shape = getattr(model, attribute, None)
        if shape is not None:
            return tuple(int(s) for s in shape)
    return None


def _output_key(model, name):
    if name in OUTPUT_KEYS:
        return OUTPUT_KEYS[name]
    if name in GENERATING:
        shape = _sample_shape(model)
        return "images" if shape is not None and len(shape) == 3 else "samples"
    return "output"


def input_specs(function):
    """The `tf.TensorSpec`s of a traced function's fixed input signature, in order."""
    if getattr(function, "input_signature", None) is None:
        raise ValueError(
            "an exported function needs a fixed input signature: wrap it in "
            "tf.function(..., input_signature=[tf.TensorSpec(...), ...])"
        )
    return list(function.input_signature)


def _named(model, name, function):
    """`function` with a dict output: as it is, or wrapped to `{key: output}`."""
    specs = input_specs(function)
    outputs = function.get_concrete_function().structured_outputs
    if isinstance(outputs, dict):
        return function
    if not isinstance(outputs, tf.Tensor):
        raise ValueError(
            f"the exported function {name!r} must return a tensor or a dict of tensors; got "
            f"{type(outputs).__name__}"
        )
    key = _output_key(model, name)

    def call(*args):
        return {key: function(*args)}

    return tf.function(call, input_signature=specs)


def export_functions(model, signatures=None, for_tflite=False):
    """The functions to export, by signature name, each returning a dict of named outputs.

    Args:
        model: a model with `inference_functions()`.
        signatures: None for the model's own (for TFLite all but `sample`), a list of their
            names, or a dict of name -> `tf.function` with a fixed input signature.
        for_tflite: leave out, by default, what LiteRT's builtin ops cannot run.

    Returns:
        A dict of name -> `tf.function`.
    """
    if isinstance(signatures, dict):
        chosen = dict(signatures)
    else:
        available = dict(model.inference_functions())
        if signatures is None:
            names = [n for n in available if not (for_tflite and n in NOT_FOR_TFLITE)]
        else:
            names = [signatures] if isinstance(signatures, str) else list(signatures)
            unknown = [n for n in names if n not in available]
            if unknown:
                raise ValueError(
                    f"{type(model).__name__} exports {sorted(available)}; got unknown "
                    f"signatures {unknown}"
                )
            if for_tflite and any(n in NOT_FOR_TFLITE for n in names):
                raise ValueError(
                    "the 'sample' signature draws latents with stateless random ops, which "
                    "LiteRT's builtin ops do not include; export 'generate' and draw the "
                    "latents on the device (kgan.export.TFLiteModel.generate does)"
                )
        chosen = {n: available[n] for n in names}
    if not chosen:
        raise ValueError("no signature to export; name at least one")
    return {name: _named(model, name, fn) for name, fn in chosen.items()}


class ExportModule(tf.Module):
    """The root object of an export: the inference functions and the variables they read.

    Only the variables that the functions capture are tracked, so an export holds the inference
    networks' weights and nothing of the trainer, the discriminator or the optimizers.

    Args:
        functions: name -> `tf.function` with a fixed input signature (see `export_functions`).
        name: the module's name.

    Example:
        >>> functions = kgan.export.signatures.export_functions(cgan)
        >>> module = kgan.export.signatures.ExportModule(functions)
        >>> tf.saved_model.save(module, path, signatures=module.signatures())
    """

    def __init__(self, functions, name="kgan_export"):
        super().__init__(name=name)
        variables, seen = [], set()
        for function in functions.values():
            for variable in function.get_concrete_function().variables:
                if id(variable) not in seen:
                    seen.add(id(variable))
                    variables.append(variable)
        self.inference_variables = variables
        self.functions = dict(functions)

    def signatures(self):
        """Signature name -> concrete function; `serving_default` is `generate` when there is
        one, else the first function."""
        concrete = {n: f.get_concrete_function() for n, f in self.functions.items()}
        default = "generate" if "generate" in concrete else next(iter(concrete))
        return {**concrete, "serving_default": concrete[default]}


def model_metadata(model):
    """A JSON-ready description of the exported model that runners read back.

    Returns:
        A dict with the class, `latent_dim`, `num_classes` (None when unconditional),
        `sample_shape` and `latent_distribution` (`"normal"` when `generate` draws N(0, I)
        latents with `numpy.random.default_rng(seed).standard_normal`, else None).
    """
    conditional = bool(getattr(model, "conditional", False))
    shape = _sample_shape(model)
    latent_dim = getattr(model, "latent_dim", None)
    normal = latent_dim is not None and getattr(model, "latent_distribution", None) == "normal"
    return {
        "producer": f"kgan {__version__}",
        "class": type(model).__name__,
        "latent_dim": None if latent_dim is None else int(latent_dim),
        "num_classes": int(model.num_classes) if conditional else None,
        "sample_shape": None if shape is None else list(shape),
        "latent_distribution": "normal" if normal else None,
    }


def default_inputs(model, specs, num_samples, seed, data=None):
    """Inputs for a signature: N(0, I) `z`, cycled `labels`, and `data` for the rest.

    `z` is drawn as the model's `generate` draws latents (`default_rng(seed).standard_normal`)
    and labels cycle `0, 1, ..., num_classes - 1, 0, ...`.

    Args:
        model: the exported model (for `num_classes`).
        specs: the signature's input specs.
        num_samples: rows per input.
        seed: seed of `z`.
        data: name -> array for inputs that cannot be drawn (such as `x`); they override the
            drawn ones too.

    Returns:
        A dict of input name -> numpy array, or raises `ValueError` naming what is missing.
    """
    data = dict(data or {})
    inputs = {}
    for spec in specs:
        name = spec.name
        if name in data:
            value = np.asarray(data[name])
            inputs[name] = value.astype(spec.dtype.as_numpy_dtype)
        elif name == "z" and spec.dtype.is_floating:
            inputs[name] = sampling.draw_latents(num_samples, spec.shape[-1], seed)
        elif name == "labels" and spec.dtype.is_integer and getattr(model, "num_classes", None):
            inputs[name] = sampling.cycled_labels(num_samples, model.num_classes)
        else:
            raise ValueError(
                f"no values for the input {name!r} ({spec.dtype.name} "
                f"{spec.shape.as_list()}); pass them, e.g. representative_data={{{name!r}: "
                "array}} with a few hundred real examples"
            )
    return inputs
