"""Runs exported `.tflite` models with the LiteRT interpreter (`ai_edge_litert`)."""

import json
import os
import warnings

import numpy as np

from kgan import sampling

METADATA_NAME = "kgan"


def read_metadata(content):
    """The kgan metadata embedded in a `.tflite` flatbuffer, or None.

    Args:
        content: the file's bytes.

    Returns:
        The dict `kgan.export.tflite` wrote (see `kgan.export.signatures.model_metadata`), or
        None for a model from elsewhere.
    """
    from ai_edge_litert import schema_py_generated as schema

    model = schema.Model.GetRootAs(content, 0)
    for i in range(model.MetadataLength()):
        entry = model.Metadata(i)
        if entry.Name() == METADATA_NAME.encode():
            data = model.Buffers(entry.Buffer()).DataAsNumpy()
            return json.loads(bytes(data).decode("utf-8"))
    return None


def available_cpus():
    """The CPUs this process may run on (its affinity mask, as set by `taskset` or a container's
    cpuset), or `os.cpu_count()` where the platform has no affinity."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


class TFLiteModel:
    """A `.tflite` model run with `ai_edge_litert.interpreter.Interpreter`.

    Inputs of any batch size are accepted (the interpreter's tensors are resized when the
    shape changes). Integer-quantized inputs and outputs (`kgan.export.tflite(...,
    integer_io=True)`) are quantized and dequantized here, so callers always pass and get
    floats.

    Args:
        path: the `.tflite` file.
        num_threads: interpreter threads; when None, one per CPU the process may run on
            (`available_cpus()`, which unlike `os.cpu_count()` respects `taskset` and container
            cpusets). Small models at batch 1 often run best on fewer threads than a large
            machine has: time them with `export/tflite/benchmark.py --threads N`.
        xnnpack: run with LiteRT's default XNNPACK delegate (the fast path). On a CPU where
            XNNPACK cannot prepare a model (seen with integer-quantized inputs on some x86
            machines), the model falls back to the built-in kernels with a warning; pass False
            to use the built-in kernels from the start. The built-in kernels run on one
            thread whatever `num_threads` says: on several, LiteRT 2.3's optimized kernels
            gave wrong outputs that changed from call to call on kgan's generators.

    Attributes:
        signatures: the model's signature names.
        num_threads: the interpreter threads asked for.
        xnnpack: whether the XNNPACK delegate runs the model (False after a fallback).
        metadata: the kgan description of the model (`latent_dim`, `num_classes`, ...), or
            None for a model kgan did not write.

    Example:
        >>> generator = kgan.export.TFLiteModel("exports/cgan_mnist/tflite/model.tflite")
        >>> images = generator.generate(16, labels=7, seed=0)  # [16, 28, 28, 1] in [-1, 1]
        >>> outputs = generator(z=np.zeros((1, 64), "float32"), labels=np.array([3]))
    """

    def __init__(self, path, num_threads=None, xnnpack=True):
        if num_threads is not None:
            sampling.check_positive_int("num_threads", num_threads)
        if not isinstance(xnnpack, bool):
            raise ValueError(f"xnnpack must be True or False; got {xnnpack!r}")
        self.path = os.fspath(path)
        with open(self.path, "rb") as f:
            self._content = f.read()
        self.metadata = read_metadata(self._content)
        self.num_threads = int(num_threads or available_cpus())
        self.xnnpack = xnnpack
        self.interpreter = self._new_interpreter()
        self.signatures = list(self.interpreter.get_signature_list())
        if not self.signatures:
            raise ValueError(
                f"{self.path} has no signatures; export it with kgan.export.tflite (or with "
                "signatures) so its inputs have names"
            )
        self._details = {}
        for name in self.signatures:
            runner = self.interpreter.get_signature_runner(name)
            self._details[name] = (runner.get_input_details(), runner.get_output_details())
        # With one signature the model is one subgraph: its tensors are driven directly,
        # resized only when a shape changes (a signature runner reallocates on every call,
        # and the interpreter refuses to resize while one holds it).
        del runner
        self._direct = len(self.signatures) == 1
        self._runners = {}
        self._plans = {}
        self._shapes = {}
        self._allocated = False

    def _new_interpreter(self):
        from ai_edge_litert.interpreter import Interpreter, OpResolverType

        builtin = OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
        resolver = OpResolverType.AUTO if self.xnnpack else builtin
        return Interpreter(
            model_content=self._content,
            num_threads=self.num_threads if self.xnnpack else 1,
            experimental_op_resolver_type=resolver,
        )

    def _without_xnnpack(self, error):
        """Replaces the interpreter by one on the built-in kernels after XNNPACK failed to
        prepare the model; re-raises any other error."""
        if not self.xnnpack or "XNNPACK" not in str(error):
            raise error
        warnings.warn(
            f"LiteRT's XNNPACK delegate could not prepare {self.path} on this CPU ({error}); "
            "running it on the built-in kernels instead (TFLiteModel(..., xnnpack=False) "
            "chooses them from the start)",
            RuntimeWarning,
            stacklevel=3,
        )
        self.xnnpack = False
        self.interpreter = self._new_interpreter()
        self._runners = {}
        self._shapes = {}
        self._allocated = False

    def _runner(self, signature):
        if signature not in self._runners:
            self._runners[signature] = self.interpreter.get_signature_runner(signature)
        return self._runners[signature]

    def input_details(self, signature=None):
        """Input name -> its details (`shape_signature`, `dtype`, `quantization`, ...)."""
        return self._details[self._signature(signature)][0]

    def output_details(self, signature=None):
        """Output name -> its details."""
        return self._details[self._signature(signature)][1]

    def _signature(self, signature):
        if signature is None:
            if "generate" in self.signatures:
                return "generate"
            if len(self.signatures) == 1:
                return self.signatures[0]
            raise ValueError(f"name the signature to run: one of {self.signatures}")
        if signature not in self.signatures:
            raise ValueError(f"{self.path} has signatures {self.signatures}; got {signature!r}")
        return signature

    @staticmethod
    def _to_input(value, details):
        dtype = details["dtype"]
        value = np.asarray(value)
        scale, zero_point = details["quantization"]
        if np.issubdtype(dtype, np.integer) and scale and np.issubdtype(value.dtype, np.floating):
            info = np.iinfo(dtype)
            value = np.clip(np.round(value / scale + zero_point), info.min, info.max)
        return np.ascontiguousarray(value.astype(dtype))

    @staticmethod
    def _from_output(value, details):
        scale, zero_point = details["quantization"]
        if scale and np.issubdtype(value.dtype, np.integer):
            return ((value.astype("float32") - zero_point) * scale).astype("float32")
        return value

    def __call__(self, signature=None, **inputs):
        """Runs a signature on raw inputs.

        Args:
            signature: the signature's name; `generate` (or the only one) when None.
            **inputs: one numpy array per input name, e.g. `z=..., labels=...`.

        Returns:
            A dict of output name -> numpy array.
        """
        plan = self._plans.get(signature)
        if plan is None:
            plan = self._plans[signature] = self._plan(signature)
        name, in_details, out_details, feeds, fetches = plan
        if inputs.keys() != in_details.keys():
            raise ValueError(
                f"signature {name!r} takes inputs {sorted(in_details)}; got {sorted(inputs)}"
            )
        if not self._direct:
            values = {k: self._to_input(v, in_details[k]) for k, v in inputs.items()}
            try:
                outputs = self._runner(name)(**values)
            except RuntimeError as error:
                self._without_xnnpack(error)
                return self(signature, **inputs)
            return {k: self._from_output(v, out_details[k]) for k, v in outputs.items()}
        # The per-call path, kept short: at batch 1 the model itself runs in tens of
        # microseconds.
        interpreter = self.interpreter
        shapes = self._shapes
        values = []
        resized = not self._allocated
        for key, index, dtype, details in feeds:
            value = inputs[key]
            if (
                type(value) is not np.ndarray
                or value.dtype != dtype
                or not value.flags.c_contiguous
            ):
                value = self._to_input(value, details)
            if shapes.get(index) != value.shape:
                interpreter.resize_tensor_input(index, value.shape, strict=False)
                shapes[index] = value.shape
                resized = True
            values.append((index, value))
        if resized:
            try:
                interpreter.allocate_tensors()
            except RuntimeError as error:
                # Once only: the new interpreter on the built-in kernels starts unsized.
                self._without_xnnpack(error)
                return self(signature, **inputs)
            self._allocated = True
        for index, value in values:
            interpreter.set_tensor(index, value)
        interpreter.invoke()
        return {
            key: interpreter.get_tensor(index)
            if details is None
            else self._from_output(interpreter.get_tensor(index), details)
            for key, index, details in fetches
        }

    def _plan(self, signature):
        name = self._signature(signature)
        in_details, out_details = self._details[name]
        feeds = tuple((key, d["index"], np.dtype(d["dtype"]), d) for key, d in in_details.items())
        fetches = tuple(
            (key, d["index"], d if d["quantization"][0] else None) for key, d in out_details.items()
        )
        return name, in_details, out_details, feeds, fetches

    def generate(self, num_samples=None, latents=None, labels=None, seed=None, batch_size=None):
        """Generates samples like the Keras model's `generate`, with the same arguments.

        Latents are drawn from N(0, I) with `numpy.random.default_rng(seed).standard_normal`,
        as `kgan.GAN.generate` draws them, so one seed gives the same latents in both; labels
        of a conditional model cycle `0, 1, ..., num_classes - 1, 0, ...` when omitted.

        Args:
            num_samples: how many samples; inferred from `latents` or `labels` when omitted.
            latents: `[n, latent_dim]` latents; drawn from N(0, I) when omitted.
            labels: `[n]` int labels, or one int for every sample (conditional models).
            seed: int seed of the drawn latents.
            batch_size: samples per interpreter call; all at once when None.

        Returns:
            A numpy array `[n, *sample_shape]` of float32.

        Example:
            >>> runner = kgan.export.TFLiteModel("model.tflite")
            >>> np.abs(runner.generate(8, seed=0) - cgan.generate(8, seed=0)).max() < 1e-5
            True
        """
        if "generate" not in self.signatures:
            raise ValueError(f"{self.path} has no 'generate' signature ({self.signatures})")
        details = self.input_details("generate")
        if "z" not in details:
            raise ValueError(f"the generate signature takes {sorted(details)}, not z (latents)")
        latent_dim = int(details["z"]["shape_signature"][-1])
        if batch_size is not None:
            batch_size = sampling.check_positive_int("batch_size", batch_size)

        def draw(n, seed):
            if (self.metadata or {}).get("latent_distribution", "normal") != "normal":
                raise ValueError("this model's latents are not N(0, I): pass latents")
            return sampling.draw_latents(n, latent_dim, seed)

        latents, labels = sampling.generation_inputs(
            num_samples,
            latents,
            labels,
            seed,
            latent_dim=latent_dim,
            num_classes=(self.metadata or {}).get("num_classes"),
            conditional="labels" in details,
            draw=draw,
            who="this generator",
        )
        num_samples = latents.shape[0]
        inputs = {"z": latents} if labels is None else {"z": latents, "labels": labels}
        step = batch_size or num_samples
        outputs = []
        for start in range(0, num_samples, step):
            chunk = {k: v[start : start + step] for k, v in inputs.items()}
            outputs.append(next(iter(self(signature="generate", **chunk).values())))
        return np.concatenate(outputs, axis=0).astype("float32")
