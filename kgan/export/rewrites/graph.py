"""Public helpers of the export rewrites over Keras's functional graphs: which layer follows
which, what a layer computes (linear, ReLU, a foldable batch normalization), and swapping layer
calls for the length of a trace."""

import contextlib

import keras
import tensorflow as tf

ABSENT = object()


@contextlib.contextmanager
def patched_calls(calls, attributes=None):
    """Within the block, each layer in `calls` runs the given function as its `call` and each
    `(layer, name)` in `attributes` holds the given value; on leaving (also on an error), every
    layer is as before: a `call` of the layer's own instance (rather than its class's) is put
    back, and each attribute gets its earlier value.

    Args:
        calls: a dict of layer -> function taking the layer's call arguments.
        attributes: a dict of `(layer, attribute name)` -> value, or None.
    """
    restore = []
    try:
        for layer, call in calls.items():
            restore.append((layer, "call", vars(layer).get("call", ABSENT), True))
            layer.call = call
        for (layer, name), value in (attributes or {}).items():
            restore.append((layer, name, getattr(layer, name), False))
            setattr(layer, name, value)
        yield
    finally:
        for layer, name, value, instance_only in reversed(restore):
            if instance_only and value is ABSENT:
                del layer.call
            else:
                setattr(layer, name, value)


def pass_through(inputs, *args, **kwargs):
    """A layer call that returns its input unchanged."""
    return inputs


def following(layer):
    """The layer that alone consumes `layer`'s only output in a functional graph, or None."""
    if layer is None or len(getattr(layer, "_inbound_nodes", ())) != 1:
        return None
    nodes = getattr(layer, "_outbound_nodes", ())
    if len(nodes) != 1:
        return None
    consumer = nodes[0].operation
    if len(getattr(consumer, "_inbound_nodes", ())) != 1:
        return None
    return consumer


def is_linear(activation):
    """Whether a layer's `activation` is the identity."""
    return activation is None or getattr(activation, "__name__", None) == "linear"


def is_foldable_norm(layer):
    """Whether `layer` is a channels-last `BatchNormalization` that folds into a kernel."""
    return (
        isinstance(layer, keras.layers.BatchNormalization)
        and layer.axis in (-1, 3)
        and not getattr(layer, "renorm", False)
    )


def is_plain_relu(layer):
    """Whether `layer` is `max(x, 0)` and nothing else."""
    if isinstance(layer, keras.layers.ReLU):
        return (
            layer.max_value is None
            and float(layer.negative_slope) == 0.0
            and float(layer.threshold) == 0.0
        )
    if isinstance(layer, keras.layers.Activation):
        return is_relu(layer.activation)
    return False


def layers_of(model):
    """Every layer of `model` (or of the layers a non-layer object holds), once each."""
    seen, found = set(), []
    roots = [model] if isinstance(model, keras.layers.Layer) else []
    if not roots:
        roots = [v for v in vars(model).values() if isinstance(v, keras.layers.Layer)]
    for root in roots:
        for layer in root._flatten_layers(include_self=True, recursive=True):
            if id(layer) not in seen:
                seen.add(id(layer))
                found.append(layer)
    return found


def norm_scale_shift(norm):
    """An inference `BatchNormalization` as `x * scale + shift` per channel."""
    scale = tf.math.rsqrt(norm.moving_variance + norm.epsilon)
    if norm.scale:
        scale = scale * norm.gamma
    shift = -norm.moving_mean * scale
    if norm.center:
        shift = shift + norm.beta
    return scale, shift


def is_relu(activation):
    """Whether `activation` is Keras's `relu`."""
    return getattr(activation, "__name__", None) == "relu"
