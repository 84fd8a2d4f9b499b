"""SavedModel (TF Serving layout) and TFLite writers."""

import contextlib
import functools
import json
import os
import shutil
import tempfile
import warnings

import numpy as np
import tensorflow as tf

from kgan.atomic import atomic_write
from kgan.export import parity as parity_lib
from kgan.export import rewrites
from kgan.export import runner as runner_lib
from kgan.export import signatures as signatures_lib

QUANTIZATIONS = (None, "float16", "dynamic", "int8")
# A float32 export that differs from its model by more than this is broken, not rounded.
FLOAT32_TOLERANCE = 1e-4
CALIBRATION_BATCH = 16


class ExportPath(str):
    """The path of an export (a plain `str`) with the parity report of its check attached.

    Attributes:
        parity: the `kgan.export.ParityReport` of the check, or None when `check=False`.
    """

    parity = None


def _exported(path, report):
    path = ExportPath(path)
    path.parity = report
    return path


def _check(model, path, check, raise_above=None, classifier=None):
    if not check:
        return None
    report = parity_lib.check_parity(model, path, classifier=classifier)
    print(report, flush=True)
    if raise_above is not None and report.max_abs_error > raise_above:
        raise ValueError(
            f"the export differs from the model by up to {report.max_abs_error:.3g} (more than "
            f"{raise_above:g}); nothing was written. Errors per signature: {report.errors}"
        )
    return report


def saved_model(
    model, export_dir, version=1, overwrite=False, signatures=None, check=True, classifier=None
):
    """Writes a model's inference functions as a SavedModel in TF Serving's layout.

    The folder `export_dir/<version>/` gets `saved_model.pb` and `variables/`, with one
    signature per inference function (`generate` and `sample` for GANs, `encode`, `decode` and
    `generate` for `kgan.models.VAE` and `kgan.models.VAEGAN`, `score_samples`,
    `predict_proba` and `predict` for `kgan.mixture.GaussianMixture`) and `serving_default`
    equal to `generate` (to the first function for models without one). Every signature
    returns a dict: `images` (`samples` for vector data), `latents`, `log_prob`,
    `probabilities`, `components`. Only the variables those functions read are saved: the
    generator (its EMA copy when the model keeps one) or the encoder and decoder, never the
    discriminator, the optimizers or the trainer.

    The version is written into a temporary sibling folder (which TF Serving ignores: its name
    is not a number) and renamed into place, so a server never sees half of it and a failure
    leaves nothing behind.

    Args:
        model: a model with `inference_functions()`, a `.keras` file or a run folder (see
            `kgan.export.load_model`).
        export_dir: the model's base folder (TF Serving's `base_path`).
        version: the version number, an int >= 1.
        overwrite: replace an existing version; without it an existing version is an error.
        signatures: None for all of the model's functions, a list of their names, or a dict
            of name -> `tf.function` with a fixed input signature.
        check: run `kgan.export.check_parity` on the written export before it is moved into
            place, print the report and attach it to the returned path as `.parity`; an error
            above 1e-4 raises `ValueError` and writes nothing.
        classifier: a `keras.Model` that scores the class consistency of a conditional image
            generator's samples in the parity check (see `kgan.export.check_parity`).

    Returns:
        The version folder's path (a `str` with the parity report as `.parity`).

    Example:
        >>> path = kgan.export.saved_model(cgan, "exports/cgan_mnist/saved_model", version=1)
        >>> path
        'exports/cgan_mnist/saved_model/1'
        >>> path.parity.max_abs_error < 1e-5
        True
    """
    if isinstance(version, bool) or not isinstance(version, int | np.integer) or version < 1:
        raise ValueError(
            f"version must be an int >= 1 (TF Serving's version folder); got {version!r}"
        )
    export_dir = os.fspath(export_dir)
    final = os.path.join(export_dir, str(int(version)))
    if os.path.exists(final) and not overwrite:
        raise FileExistsError(
            f"{final} already exists; pass overwrite=True to replace it or choose another version"
        )
    model = signatures_lib.load_model(model)
    functions = signatures_lib.export_functions(model, signatures)
    os.makedirs(export_dir, exist_ok=True)
    temporary = tempfile.mkdtemp(prefix=f".tmp-{int(version)}-", dir=export_dir)
    try:
        module = signatures_lib.ExportModule(functions, name=_module_name(model))
        tf.saved_model.save(module, temporary, signatures=module.signatures())
        report = _check(
            model, temporary, check, raise_above=FLOAT32_TOLERANCE, classifier=classifier
        )
        if os.path.exists(final):
            retired = tempfile.mkdtemp(prefix=".old-", dir=export_dir)
            os.rename(final, os.path.join(retired, "version"))
            os.rename(temporary, final)
            shutil.rmtree(retired, ignore_errors=True)
        else:
            os.rename(temporary, final)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
    return _exported(final, report)


def _module_name(model):
    name = getattr(model, "name", None) or type(model).__name__.lower()
    return f"{name}_export"


def _check_quantization(quantization):
    if quantization in ("none", "float32"):
        return None
    if quantization not in QUANTIZATIONS:
        raise ValueError(
            f"quantization must be None (float32), 'float16', 'dynamic' or 'int8'; got "
            f"{quantization!r}"
        )
    return quantization


def _representative_dataset(model, functions, data, num_samples, seed):
    """A calibration generator of `(signature, inputs)` batches for every signature."""
    if callable(data):
        return data
    if data is not None and not isinstance(data, dict):
        # An array is the value of every input that cannot be drawn (such as x).
        drawn = ("z", "labels")
        names = {
            s.name
            for f in functions.values()
            for s in signatures_lib.input_specs(f)
            if s.name not in drawn
        }
        data = {name: data for name in names}
    if data:
        num_samples = min(len(np.asarray(v)) for v in data.values())
    batches = {}
    for name, function in functions.items():
        specs = signatures_lib.input_specs(function)
        try:
            batches[name] = signatures_lib.default_inputs(model, specs, num_samples, seed, data)
        except ValueError as error:
            raise ValueError(f"int8 calibration of the {name!r} signature: {error}") from None

    def dataset():
        for start in range(0, num_samples, CALIBRATION_BATCH):
            for name, inputs in batches.items():
                yield name, {k: v[start : start + CALIBRATION_BATCH] for k, v in inputs.items()}

    return dataset


def _with_metadata(content, metadata):
    """The flatbuffer with `metadata` (JSON) added under the name `kgan`."""
    import flatbuffers
    from ai_edge_litert import schema_py_generated as schema

    model = schema.ModelT.InitFromPackedBuf(bytearray(content), 0)
    buffer = schema.BufferT()
    buffer.data = np.frombuffer(json.dumps(metadata).encode("utf-8"), dtype=np.uint8)
    model.buffers.append(buffer)
    entry = schema.MetadataT()
    entry.name = runner_lib.METADATA_NAME
    entry.buffer = len(model.buffers) - 1
    model.metadata = [*(model.metadata or []), entry]
    builder = flatbuffers.Builder(len(content) + 1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


# An int8 scale above this is not a calibrated range: kgan's models' activations stay many
# orders of magnitude inside +/-128 * MAX_INT8_SCALE.
MAX_INT8_SCALE = 1e6


def _unusable_ranges(content):
    """Names of the 8-bit tensors of a converted model (every signature's subgraph) whose
    quantization scale is not finite or is above MAX_INT8_SCALE (the int32 biases derive their
    scales from them)."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_content=content)
    unusable = []
    for subgraph in range(interpreter.num_subgraphs()):
        for details in interpreter.get_tensor_details(subgraph):
            scales = np.asarray(details["quantization_parameters"]["scales"], "float64")
            if details["dtype"] not in (np.int8, np.uint8) or not scales.size:
                continue
            if not (np.isfinite(scales).all() and scales.max() <= MAX_INT8_SCALE):
                unusable.append(details["name"])
    return unusable


def _convert(
    model,
    subpixel,
    *,
    signatures,
    quantization,
    representative_data,
    integer_io,
    num_calibration_samples,
    seed,
    per_channel_dense,
):
    """The TFLite flatbuffer of the model's functions (see `tflite`), without metadata, and
    the number of layers converted in the sub-pixel form."""
    rewrite = (
        rewrites.subpixel_transposed_convolutions(model) if subpixel else contextlib.nullcontext(0)
    )
    with tempfile.TemporaryDirectory() as folder:
        # The model's functions are traced in here, so the file holds the rewritten layers.
        with rewrite as rewritten, rewrites.lean_layers(model):
            functions = signatures_lib.export_functions(model, signatures, for_tflite=True)
            module = signatures_lib.ExportModule(functions, name=_module_name(model))
            tf.saved_model.save(module, folder, signatures=dict(functions))
        dataset = None
        if quantization == "int8":
            dataset = _representative_dataset(
                model, functions, representative_data, num_calibration_samples, seed
            )
        converter = tf.lite.TFLiteConverter.from_saved_model(folder, signature_keys=list(functions))
        if quantization is not None:
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
            # The converter's own switch (TensorFlow 2.9+); older converters ignore it.
            converter._experimental_disable_per_channel_quantization_for_dense_layers = (
                not per_channel_dense
            )
        if quantization == "float16":
            converter.target_spec.supported_types = [tf.float16]
        if quantization == "int8":
            converter.representative_dataset = dataset
            converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
            if integer_io:
                converter.inference_input_type = tf.int8
                converter.inference_output_type = tf.int8
        try:
            with warnings.catch_warnings():
                # The calibrator runs TF's own deprecated tf.lite.Interpreter; nothing to act on.
                warnings.filterwarnings("ignore", message=".*tf.lite.Interpreter is deprecated")
                content = converter.convert()
        except Exception as error:
            raise ValueError(
                f"the TFLite converter failed for quantization {quantization or 'float32'!r} "
                f"({type(error).__name__}: {str(error)[:500]}); try another quantization"
            ) from error
    return content, rewritten


def tflite(
    model,
    path,
    quantization=None,
    representative_data=None,
    signatures=None,
    check=True,
    integer_io=False,
    num_calibration_samples=256,
    seed=0,
    per_channel_dense=False,
    subpixel=True,
    classifier=None,
):
    """Converts a model's inference functions to one LiteRT (`.tflite`) model.

    The file holds one signature per function (by default all of the model's but `sample`,
    whose stateless random ops are not LiteRT builtins: a device draws latents itself, as
    `kgan.export.TFLiteModel.generate` does), converted from a SavedModel of the inference
    functions with `tf.lite.TFLiteConverter.from_saved_model`. For a GAN that is one
    `generate` signature (`z` [None, latent_dim] float32 and `labels` [None] int32 ->
    `images`); for the VAE family `encode`, `decode` and `generate`. The model's description
    (`latent_dim`, `num_classes`, the quantization) is embedded as flatbuffer metadata named
    `kgan`, which `kgan.export.TFLiteModel` reads.

    Quantization:
        None: float32 weights and math (parity with Keras to about 1e-6).
        `"float16"`: float16 weights, float32 math (half the size).
        `"dynamic"`: int8 weights, activations quantized on the fly (a quarter of the size).
        `"int8"`: full-integer quantization, calibrated on `representative_data`; by default
            on N(0, I) latents (seeded) and labels cycled over the classes, which is exactly
            what a generator sees. Inputs such as `x` (encoders, mixtures) need real data.
            Inputs and outputs stay float32 (quantized inside the model) unless
            `integer_io=True`.

    Written atomically: converted and checked in a temporary file, then renamed.

    Args:
        model: a model with `inference_functions()`, a `.keras` file or a run folder.
        path: the `.tflite` file to write.
        quantization: None, `"float16"`, `"dynamic"` or `"int8"`.
        representative_data: for `"int8"`: a dict of input name -> array (e.g. `{"x":
            images}`; `z` and `labels` are drawn when absent), one array for every input that
            cannot be drawn, or a callable returning a generator of `(signature, inputs)` as
            the converter takes it.
        signatures: None for the model's functions but `sample`, a list of names, or a dict of
            name -> `tf.function` with a fixed input signature.
        check: run `kgan.export.check_parity` on the converted file, print the report and
            attach it to the returned path as `.parity`; for float32 an error above 1e-4
            raises `ValueError` and writes nothing (quantized files are reported, not judged).
        classifier: a `keras.Model` that scores the class consistency of a conditional image
            generator's samples in the parity check (see `kgan.export.check_parity`).
        integer_io: with `"int8"`, int8 float inputs and outputs (their scales are in the
            file; `kgan.export.TFLiteModel` converts for you).
        num_calibration_samples: calibration rows drawn per signature for `"int8"`.
        seed: seed of the drawn calibration latents.
        per_channel_dense: with `"dynamic"` or `"int8"`, quantize dense layers per output
            channel. Off by default: one scale per dense layer keeps the int8 MNIST generator
            at 26% of the float32 file instead of 32% (the per-channel scales of its
            3,136-unit projection), with the same class consistency (98.0%, 1,000 samples).
            Convolutions stay per channel either way.
        subpixel: convert each stride-s "same" `Conv2DTranspose` as the s * s convolutions of
            its output phases interleaved by `depth_to_space`, with a following batch
            normalization and ReLU folded into them (`kgan.export.rewrites.subpixel`): the same
            multiply-adds, which LiteRT runs with its fast convolution kernels instead of
            `TRANSPOSE_CONV` (the MNIST generator runs about 4x faster at batch 1). False
            converts the layers as they are. Either way `Reshape` and `Embedding` layers are
            traced as single ops (`kgan.export.rewrites.lean`). With `"int8"`, a calibration
            that gives any tensor an unusable range (a scale above `MAX_INT8_SCALE` or not
            finite; TensorFlow's calibrator can record garbage for the sub-pixel form on 2x2
            feature maps) is redone without the rewrite, with a `RuntimeWarning`; one that
            gives unusable ranges either way raises `ValueError`.

    Returns:
        The path written (a `str` with the parity report as `.parity`).

    Example:
        >>> kgan.export.tflite(cgan, "exports/cgan_mnist/model.tflite")
        >>> kgan.export.tflite(cgan, "exports/cgan_mnist/model_int8.tflite", quantization="int8")
        >>> kgan.export.tflite(vae, "vae_int8.tflite", "int8", representative_data={"x": x})
    """
    quantization = _check_quantization(quantization)
    path = os.fspath(path)
    if not path.endswith(".tflite"):
        raise ValueError(f"path must be a .tflite file; got {path!r}")
    if integer_io and quantization != "int8":
        raise ValueError("integer_io=True needs quantization='int8'")
    if representative_data is not None and quantization != "int8":
        raise ValueError("representative_data calibrates int8 models: pass quantization='int8'")
    model = signatures_lib.load_model(model)
    convert = functools.partial(
        _convert,
        model,
        signatures=signatures,
        quantization=quantization,
        representative_data=representative_data,
        integer_io=integer_io,
        num_calibration_samples=num_calibration_samples,
        seed=seed,
        per_channel_dense=per_channel_dense,
    )
    content, rewritten = convert(subpixel)
    if quantization == "int8":
        unusable = _unusable_ranges(content)
        if unusable and rewritten:
            warnings.warn(
                f"int8 calibration gave unusable ranges to {unusable[:3]} (scales above "
                f"{MAX_INT8_SCALE:g}); TensorFlow's calibrator can record garbage for the "
                "sub-pixel form of a transposed convolution on tiny feature maps, so the "
                "layers are converted as they are (subpixel=False)",
                RuntimeWarning,
                stacklevel=2,
            )
            content, _ = convert(False)
            unusable = _unusable_ranges(content)
        if unusable:
            raise ValueError(
                f"int8 calibration gave unusable ranges to {unusable[:3]} (scales above "
                f"{MAX_INT8_SCALE:g}: activations beyond +/-{128 * MAX_INT8_SCALE:g}); nothing "
                "was written. Calibrate on data like the model's inputs (representative_data)"
            )
    metadata = {**signatures_lib.model_metadata(model), "quantization": quantization or "float32"}
    content = _with_metadata(content, metadata)
    reports = []

    def write(temporary):
        with open(temporary, "wb") as f:
            f.write(content)
        limit = FLOAT32_TOLERANCE if quantization is None else None
        reports.append(_check(model, runner_lib.TFLiteModel(temporary), check, limit, classifier))

    atomic_write(path, write)
    return _exported(path, reports[0])
