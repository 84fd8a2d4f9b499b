"""Parity of an export with the model it came from: the same inputs, the outputs compared."""

import dataclasses
import math
import os

import numpy as np

from kgan import sampling
from kgan.export import signatures as signatures_lib

PSNR_PEAK_TO_PEAK = 2.0  # images in [-1, 1]


@dataclasses.dataclass
class ParityReport:
    """How closely an export reproduces its model.

    Attributes:
        format: `"saved_model"` or `"tflite"`.
        quantization: the TFLite quantization (`"float32"`, `"float16"`, `"dynamic"`,
            `"int8"`), None for a SavedModel.
        num_samples: rows compared per signature.
        max_abs_error: the largest absolute difference over every compared output.
        errors: signature name -> its largest absolute difference.
        psnr: PSNR in dB of the exported `generate` images against the model's (peak-to-peak
            2, images in [-1, 1]); `math.inf` when identical, None when it makes no images.
        class_consistency: share of the model's conditional images that the classifier assigns
            to their label; None without a classifier.
        exported_class_consistency: the same for the export's images.
    """

    format: str
    quantization: str | None
    num_samples: int
    max_abs_error: float
    errors: dict
    psnr: float | None = None
    class_consistency: float | None = None
    exported_class_consistency: float | None = None

    def to_dict(self):
        """The report as JSON-ready values (an infinite PSNR becomes None: identical images)."""
        out = dataclasses.asdict(self)
        if out["psnr"] is not None and math.isinf(out["psnr"]):
            out["psnr"] = None
        return out

    def __str__(self):
        kind = self.format if self.quantization is None else f"{self.format} {self.quantization}"
        parts = [f"parity of {kind} on {self.num_samples} samples:"]
        parts.append(f"max abs error {self.max_abs_error:.3g}")
        if self.psnr is not None:
            parts.append(f"PSNR {self.psnr:.1f} dB")
        if self.class_consistency is not None:
            parts.append(
                f"class consistency {self.class_consistency:.3f} (model) vs "
                f"{self.exported_class_consistency:.3f} (export)"
            )
        return " ".join(parts[:1]) + " " + ", ".join(parts[1:])


def psnr(reference, other, peak_to_peak=PSNR_PEAK_TO_PEAK):
    """PSNR in dB of `other` against `reference`; `math.inf` when they are equal."""
    diff = np.asarray(reference, "float64") - np.asarray(other, "float64")
    mse = float(np.mean(diff**2))
    return math.inf if mse == 0 else 10.0 * math.log10(peak_to_peak**2 / mse)


def _saved_model_runner(path):
    import tensorflow as tf

    loaded = tf.saved_model.load(path)

    def run(name, inputs):
        outputs = loaded.signatures[name](**{k: tf.constant(v) for k, v in inputs.items()})
        return {k: np.asarray(v) for k, v in outputs.items()}

    return run, list(loaded.signatures), None


def _runner(exported):
    from kgan.export.runner import TFLiteModel

    if isinstance(exported, TFLiteModel):
        model = exported
    elif isinstance(exported, str | os.PathLike) and os.path.isdir(exported):
        folder = os.fspath(exported)
        versions = [v for v in os.listdir(folder) if v.isdigit()]
        if not os.path.isfile(os.path.join(folder, "saved_model.pb")) and versions:
            folder = os.path.join(folder, max(versions, key=int))  # a base_path: the latest
        return ("saved_model", *_saved_model_runner(folder))
    elif isinstance(exported, str | os.PathLike) and os.fspath(exported).endswith(".tflite"):
        model = TFLiteModel(exported)
    else:
        raise ValueError(
            f"exported must be a SavedModel folder, a .tflite file or a "
            f"kgan.export.TFLiteModel; got {exported!r}"
        )
    quantization = (model.metadata or {}).get("quantization", "float32")
    return (
        "tflite",
        (lambda name, inputs: model(signature=name, **inputs)),
        model.signatures,
        (quantization),
    )


def _reference(model, name, function, inputs, seed):
    """The model's own outputs: `generate` through the Keras model's `generate`."""
    if name in ("generate", "sample") and hasattr(model, "generate"):
        latents = inputs.get("z")
        if name == "sample":
            n, d = int(inputs["num_samples"]), model.latent_dim
            latents = np.asarray(sampling.stateless_latents(n, d, int(inputs["seed"])))
        kwargs = {"latents": latents}
        if getattr(model, "conditional", False):
            labels = inputs.get("labels")
            if labels is None:
                labels = sampling.cycled_labels(len(latents), model.num_classes)
            kwargs["labels"] = labels
        return model.generate(**kwargs)
    outputs = function(*[inputs[s.name] for s in signatures_lib.input_specs(function)])
    return np.asarray(next(iter(outputs.values())))


def _synthesized_data(model, specs, num_samples, seed):
    """Values for inputs other than z and labels: the model's own samples."""
    names = [s.name for s in specs if s.name not in ("z", "labels")]
    if not names:
        return {}
    if hasattr(model, "sample") and hasattr(model, "means_"):  # a fitted mixture
        x = np.asarray(model.sample(num_samples)[0], "float32")
    elif hasattr(model, "generate"):
        x = np.asarray(model.generate(num_samples, seed=seed), "float32")
    else:
        return {}
    return {name: x for name in names}


def check_parity(model, exported, num_samples=64, seed=0, classifier=None, signatures=None):
    """Runs a model and its export on the same inputs and compares the outputs.

    Every exported signature that the model also has is compared: `generate` against the Keras
    model's `generate` for the same latents and labels (N(0, I) latents drawn as `generate`
    draws them, labels cycled), `sample` against `generate` on the latents the graph draws,
    and the others against the model's inference functions on its own samples (`encode` on
    generated images, a mixture's functions on points it samples).

    Args:
        model: the model (or a path, see `kgan.export.load_model`).
        exported: a SavedModel version folder (or its base folder: the latest version), a
            `.tflite` file or a `kgan.export.TFLiteModel`.
        num_samples: rows per signature.
        seed: seed of the latents.
        classifier: for a conditional image generator, a `keras.Model` from its images to class
            scores (e.g. `kgan.metrics.reference_classifier("mnist_5k")[0]` for MNIST models)
            that scores the class consistency of both; None skips it.
        signatures: names to compare; all that both have when None.

    Returns:
        A `kgan.export.ParityReport`.

    Example:
        >>> path = kgan.export.saved_model(cgan, "exports/cgan", check=False)
        >>> print(kgan.export.check_parity(cgan, path, num_samples=256))
    """
    model = signatures_lib.load_model(model)
    kind, run, exported_names, quantization = _runner(exported)
    functions = signatures_lib.export_functions(model)
    names = [n for n in functions if n in exported_names]
    if signatures is not None:
        names = [n for n in names if n in signatures]
    if not names:
        raise ValueError(
            f"the export has signatures {sorted(exported_names)}, none of which "
            f"{type(model).__name__} exports; is it the export of this model?"
        )
    errors, images = {}, None
    for name in names:
        function = functions[name]
        specs = signatures_lib.input_specs(function)
        if name == "sample":
            inputs = {"num_samples": np.int32(num_samples), "seed": np.int32(seed)}
        else:
            data = _synthesized_data(model, specs, num_samples, seed)
            inputs = signatures_lib.default_inputs(model, specs, num_samples, seed, data)
        expected = np.asarray(_reference(model, name, function, inputs, seed))
        got = np.asarray(next(iter(run(name, inputs).values())))
        if got.shape != expected.shape:
            raise ValueError(
                f"signature {name!r}: the export gives shape {got.shape}, the model "
                f"{expected.shape}"
            )
        diff = np.abs(got.astype("float64") - expected.astype("float64"))
        errors[name] = float(diff.max()) if diff.size else 0.0
        if name == "generate" and expected.ndim == 4:
            images = (inputs, expected, got)
    report = ParityReport(
        format=kind,
        quantization=quantization,
        num_samples=int(num_samples),
        max_abs_error=max(errors.values()),
        errors=errors,
    )
    if images is not None:
        inputs, expected, got = images
        report.psnr = psnr(expected, got)
        if classifier is not None and "labels" in inputs:
            from kgan.metrics import class_consistency

            report.class_consistency = class_consistency(expected, inputs["labels"], classifier)
            report.exported_class_consistency = class_consistency(got, inputs["labels"], classifier)
    return report
