"""Golden values: fixed inputs of a model's inference functions and the outputs they gave.

A preset stores them in `golden.npz`, so any copy of it (downloaded, converted, loaded by
another Keras version) can be checked numerically with `check`.
"""

import numpy as np

from kgan import sampling

NUM_EXAMPLES = 8
# Outputs near zero differ by float rounding only; rtol alone would reject them.
RTOL, ATOL = 1e-3, 1e-5


def _functions(model):
    """`{name: (callable, [(input name, shape, dtype)])}` of the model's inference functions."""
    if hasattr(model, "inference_functions"):
        functions = {}
        for name, function in model.inference_functions().items():
            specs = function.input_signature
            if any(len(spec.shape) == 0 for spec in specs):
                continue  # `sample(num_samples, seed)`: covered by `generate`
            functions[name] = (
                function,
                [(spec.name, tuple(spec.shape[1:]), spec.dtype.name) for spec in specs],
            )
        return functions
    # A plain Keras model (e.g. a classifier): its call on one input.
    inputs = model.inputs
    return {
        "call": (
            lambda *xs: {"outputs": model(xs[0] if len(xs) == 1 else list(xs), training=False)},
            [(t.name, tuple(t.shape[1:]), "float32") for t in inputs],
        )
    }


def _inputs(model, name, specs, rng):
    values = []
    for _, shape, dtype in specs:
        if dtype.startswith("int"):
            classes = getattr(model, "num_classes", None)
            if not classes:
                raise ValueError(
                    f"{type(model).__name__}'s {name!r} takes integer labels but the model does "
                    "not say its num_classes"
                )
            values.append(sampling.cycled_labels(NUM_EXAMPLES, classes).astype(dtype))
        elif hasattr(model, "means_"):
            # Points near the mixture's components, so every output is informative.
            means = np.asarray(model.means_, dtype="float64")
            rows = means[np.arange(NUM_EXAMPLES) % len(means)]
            values.append((rows + 0.5 * rng.standard_normal(rows.shape)).astype(dtype))
        elif len(shape) >= 3:
            values.append(rng.uniform(-1.0, 1.0, (NUM_EXAMPLES, *shape)).astype(dtype))
        else:
            values.append(rng.standard_normal((NUM_EXAMPLES, *shape)).astype(dtype))
    return values


def _as_dict(outputs):
    return outputs if isinstance(outputs, dict) else {"output": outputs}


def compute(model, seed=0):
    """`{"inputs/<function>/<i>": array, "outputs/<function>/<key>": array}` for `model`."""
    import tensorflow as tf

    rng = np.random.default_rng(seed)
    arrays = {}
    for name, (function, specs) in sorted(_functions(model).items()):
        inputs = _inputs(model, name, specs, rng)
        outputs = _as_dict(function(*[tf.constant(x) for x in inputs]))
        for i, value in enumerate(inputs):
            arrays[f"inputs/{name}/{i}"] = value
        for key, value in outputs.items():
            arrays[f"outputs/{name}/{key}"] = np.asarray(value)
    return arrays


def write(model, path, seed=0):
    """Computes the golden values of `model` and writes them to the `.npz` file `path`."""
    arrays = compute(model, seed)
    with open(path, "wb") as f:
        np.savez(f, **arrays)
    return path


def check(model, path, rtol=RTOL, atol=ATOL):
    """Runs `model`'s inference functions on the inputs stored in `path` and compares.

    Returns:
        `{"<function>/<key>": max abs difference}`.

    Raises:
        AssertionError: an output differs beyond `rtol`/`atol` (integer outputs must be equal).
    """
    import tensorflow as tf

    with np.load(path, allow_pickle=False) as data:
        stored = {key: data[key] for key in data.files}
    functions = _functions(model)
    differences = {}
    names = sorted({key.split("/")[1] for key in stored})
    for name in names:
        if name not in functions:
            raise AssertionError(f"the model has no inference function {name!r}")
        function, specs = functions[name]
        inputs = [stored[f"inputs/{name}/{i}"] for i in range(len(specs))]
        outputs = _as_dict(function(*[tf.constant(x) for x in inputs]))
        for key, value in outputs.items():
            expected = stored[f"outputs/{name}/{key}"]
            value = np.asarray(value)
            label = f"{name}/{key}"
            if np.issubdtype(expected.dtype, np.integer):
                np.testing.assert_array_equal(value, expected, err_msg=label)
            else:
                np.testing.assert_allclose(value, expected, rtol=rtol, atol=atol, err_msg=label)
            differences[label] = float(np.max(np.abs(value.astype("float64") - expected)))
    return differences
