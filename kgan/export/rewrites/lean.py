"""Layers traced without the shape and index bookkeeping that LiteRT would run as extra ops.

Keras layers are written for any backend and any input; traced for the TFLite converter, two of
them leave small operations in the model that run on every call:

- `Reshape` reads the batch size at run time (`SHAPE`, `STRIDED_SLICE` and `PACK` before the
  `RESHAPE`); traced as a reshape to `[-1, *target_shape]`, it is one `RESHAPE` with a constant
  shape.
- `Embedding` wraps negative indices as `numpy.take` does (`LESS`, `ADD` and `SELECT_V2` before
  the `GATHER`); traced as a plain gather, it is one `GATHER`. Negative indices are then out of
  range, which LiteRT refuses at run time; kgan's generators take labels in
  `[0, num_classes)` and `kgan.export.TFLiteModel.generate` checks them.

And one runs slowly: a `Conv2D` with a single filter (the generator's last layer, which maps
features to a grey image) is a matrix product one column wide, which LiteRT's convolution runs
at a fraction of its speed (the MNIST generator's 3x3 convolution from 16 channels took 13 us,
as long as its 4x4 transposed convolution from 64 channels to 32). Traced as a depthwise
convolution (one filter per input channel, the layer's own kernel) followed by a sum over the
channels, it does the same multiply-adds in about half the time.

A conditional generator's first layers, `Dense(concatenate([z, Embedding(labels)]))` (then,
optionally, an inference `BatchNormalization` and a ReLU), are traced as
`z @ W_z + T[labels]`, where the class table `T = E @ W_e + b` (normalization folded in) is
computed once at conversion: the projection reads the latent's rows of the kernel only (at
batch 1 it is limited by reading its weights: 64 of the 96 rows for the MNIST generator) and the
`CONCATENATION` goes.

The results are the same for every valid input, up to float32 rounding.
"""

import contextlib

import keras
import tensorflow as tf

from kgan.export.rewrites import graph


@contextlib.contextmanager
def lean_layers(model):
    """Within the block, `model`'s layers trace as described above: `Reshape` (without a -1 in
    its target shape) and `Embedding` as one op each, single-filter `Conv2D` as a depthwise
    convolution and a channel sum, and label-conditioned projections as a class table; on
    leaving, the layers are as before.

    Args:
        model: a Keras layer or model, or any object whose attributes hold Keras models.

    Yields:
        The number of layers rewritten.

    Example:
        >>> with lean_layers(gan):
        ...     functions = kgan.export.export_functions(gan, for_tflite=True)
    """
    calls, specs = {}, {}
    layers = graph.layers_of(model)
    for projection in _conditioned_projections(layers):
        for layer, call in projection.items():
            calls[layer] = call
            if isinstance(layer, keras.layers.Dense):
                # Its input is now the latent alone, narrower than the spec it was built with.
                specs[(layer, "input_spec")] = None
    for layer in layers:
        if layer in calls:
            continue
        if isinstance(layer, keras.layers.Reshape) and -1 not in tuple(layer.target_shape):
            calls[layer] = _static_reshape(layer)
        elif _is_plain_embedding(layer):
            calls[layer] = _plain_gather(layer)
        elif _is_single_filter_convolution(layer):
            calls[layer] = _depthwise_sum(layer)
    with graph.patched_calls(calls, specs):
        yield len(calls)


_EMBEDDING_CALL = keras.layers.Embedding.call


def _is_plain_embedding(layer):
    return (
        isinstance(layer, keras.layers.Embedding)
        and type(layer).call is _EMBEDDING_CALL
        and getattr(layer, "quantization_mode", None) is None
    )


def _conditioned_projections(layers):
    """Per `Dense(concatenate([z, Embedding(labels)]))` in the graphs: layer -> traced call."""
    found = []
    for embedding in layers:
        if not _is_plain_embedding(embedding) or getattr(embedding, "lora_enabled", False):
            continue
        concatenate = graph.following(embedding)
        if not isinstance(concatenate, keras.layers.Concatenate) or concatenate.axis != -1:
            continue
        parts = list(concatenate._inbound_nodes[0].input_tensors)
        embedded = embedding._inbound_nodes[0].output_tensors[0]
        if len(parts) != 2 or not any(part is embedded for part in parts):
            continue
        position = 0 if parts[0] is embedded else 1
        if len(parts[1 - position].shape) != 2:
            continue
        dense = graph.following(concatenate)
        if (
            type(dense) is not keras.layers.Dense
            or getattr(dense, "quantization_mode", None) is not None
            or getattr(dense, "lora_enabled", False)
        ):
            continue
        linear = graph.is_linear(dense.activation)
        if not linear and not graph.is_relu(dense.activation):
            continue
        norm = graph.following(dense) if linear else None
        norm = norm if graph.is_foldable_norm(norm) else None
        relu = graph.following(norm if norm is not None else dense) if linear else None
        relu = relu if graph.is_plain_relu(relu) else None
        labels = {}
        calls = {
            embedding: _keep_labels,
            concatenate: _split(labels, position),
            dense: _projection(dense, embedding, labels, position, norm, relu is not None),
        }
        for passed in (norm, relu):
            if passed is not None:
                calls[passed] = graph.pass_through
        found.append(calls)
    return found


def _indices(inputs):
    return inputs if inputs.dtype in (tf.int32, tf.int64) else tf.cast(inputs, tf.int32)


def _keep_labels(inputs, *args, **kwargs):
    return _indices(inputs)


def _split(labels, position):
    def call(inputs, *args, **kwargs):
        labels["labels"] = inputs[position]
        return inputs[1 - position]

    return call


def _projection(dense, embedding, labels, position, norm, relu):
    def call(inputs, *args, **kwargs):
        kernel, width = dense.kernel, embedding.embeddings.shape[-1]
        if position == 0:
            embedded_rows, latent_rows = kernel[:width], kernel[width:]
        else:
            latent_rows, embedded_rows = kernel[:-width], kernel[-width:]
        table = tf.matmul(embedding.embeddings, embedded_rows)
        if dense.use_bias:
            table = table + dense.bias
        if norm is not None:
            scale, shift = graph.norm_scale_shift(norm)
            latent_rows = latent_rows * scale
            table = table * scale + shift
        dtype = inputs.dtype
        outputs = tf.matmul(inputs, tf.cast(latent_rows, dtype))
        outputs = outputs + tf.gather(tf.cast(table, dtype), labels.pop("labels"))
        if relu or not graph.is_linear(dense.activation):
            outputs = tf.nn.relu(outputs)
        return outputs

    return call


def _static_reshape(layer):
    def call(inputs, *args, **kwargs):
        return tf.reshape(inputs, (-1, *layer.target_shape))

    return call


def _plain_gather(layer):
    def call(inputs, *args, **kwargs):
        return tf.cast(tf.gather(layer.embeddings, _indices(inputs)), layer.compute_dtype)

    return call


def _is_single_filter_convolution(layer):
    return (
        type(layer) is keras.layers.Conv2D
        and layer.filters == 1
        and layer.groups == 1
        and layer.data_format == "channels_last"
        and layer.padding in ("same", "valid")
        and (tuple(layer.strides) == (1, 1) or tuple(layer.dilation_rate) == (1, 1))
        and getattr(layer, "quantization_mode", None) is None
        and not getattr(layer, "lora_enabled", False)
    )


def _depthwise_sum(layer):
    def call(inputs, *args, **kwargs):
        kernel = tf.cast(layer.kernel, inputs.dtype)  # [kh, kw, in, 1]: one filter per channel
        outputs = tf.nn.depthwise_conv2d(
            inputs,
            kernel,
            strides=(1, *layer.strides, 1),
            padding=layer.padding.upper(),
            dilations=tuple(layer.dilation_rate),
        )
        if layer.use_bias:
            # On the first channel only, so that the converter fuses it and the sum adds it once.
            channels = kernel.shape[2]
            bias = tf.pad(tf.cast(layer.bias, inputs.dtype), [[0, channels - 1]])
            outputs = tf.nn.bias_add(outputs, bias)
        outputs = tf.reduce_sum(outputs, axis=-1, keepdims=True)
        return outputs if layer.activation is None else layer.activation(outputs)

    return call
