import contextlib

import keras
import numpy as np
import pytest
import tensorflow as tf
from ai_edge_litert.interpreter import Interpreter
from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

from kgan.export.rewrites.lean import lean_layers


def embedding_model(embedding_first=False, norm=False, activation="relu_layer"):
    """z, labels -> Dense(concatenate(z, Embedding(labels))) [-> BN] [-> ReLU] -> Reshape."""
    labels = keras.Input((), dtype="int32", name="labels")
    latents = keras.Input((3,), name="z")
    embedding = keras.layers.Embedding(5, 4)
    parts = [latents, embedding(labels)]
    x = keras.layers.Concatenate()(parts[::-1] if embedding_first else parts)
    dense = keras.layers.Dense(12, activation="relu" if activation == "dense_relu" else None)
    x = dense(x)
    layers = [embedding, dense]
    if norm:
        norm_layer = keras.layers.BatchNormalization()
        x = norm_layer(x)
        rng = np.random.default_rng(1)
        norm_layer.gamma.assign(rng.uniform(0.5, 2.0, 12).astype("float32"))
        norm_layer.beta.assign(rng.normal(size=12).astype("float32"))
        norm_layer.moving_mean.assign(rng.normal(size=12).astype("float32"))
        norm_layer.moving_variance.assign(rng.uniform(0.2, 3.0, 12).astype("float32"))
        layers.append(norm_layer)
    if activation == "relu_layer":
        relu = keras.layers.ReLU()
        x = relu(x)
        layers.append(relu)
    reshape = keras.layers.Reshape((2, 3, 2))
    return keras.Model([latents, labels], reshape(x)), [*layers, reshape]


@pytest.mark.parametrize("embedding_first", [False, True])
@pytest.mark.parametrize("norm", [False, True])
@pytest.mark.parametrize("activation", ["relu_layer", "dense_relu", None])
def test_the_lean_layers_compute_the_same_outputs(embedding_first, norm, activation):
    model, layers = embedding_model(embedding_first, norm, activation)
    z = np.random.default_rng(0).normal(size=(6, 3)).astype("float32")
    y = np.array([0, 4, 2, 1, 3, 4], "int32")
    expected = np.asarray(model([z, y], training=False))
    with lean_layers(model) as count:
        # Embedding, Concatenate, Dense, Reshape and the folded normalization and ReLU (the
        # normalization is not folded after the Dense layer's own ReLU).
        folded = (norm and activation != "dense_relu") + (activation == "relu_layer")
        assert count == 4 + folded
        rewritten = np.asarray(model([z, y], training=False))
    np.testing.assert_allclose(rewritten, expected, rtol=1e-5, atol=1e-5)
    assert not any("call" in vars(layer) for layer in model.layers)
    assert layers[1].input_spec.axes == {-1: 7}  # the Dense layer's spec is back
    np.testing.assert_array_equal(np.asarray(model([z, y], training=False)), expected)


def test_a_wrong_class_table_would_be_caught():
    model, layers = embedding_model()
    z = np.zeros((2, 3), "float32")
    y = np.array([1, 2], "int32")
    expected = np.asarray(model([z, y]))
    with lean_layers(model):
        layers[0].embeddings.assign(np.asarray(layers[0].embeddings)[::-1])
        swapped = np.asarray(model([z, y]))
    assert np.abs(swapped - expected).max() > 1e-3


def test_a_reshape_with_a_free_dimension_is_left_alone():
    inputs = keras.Input((12,))
    reshape = keras.layers.Reshape((-1, 3))
    model = keras.Model(inputs, reshape(inputs))
    with lean_layers(model) as count:
        assert count == 0


def converted_ops(model, lean):
    @tf.function(
        input_signature=[
            tf.TensorSpec([None, 3], tf.float32, name="z"),
            tf.TensorSpec([None], tf.int32, name="labels"),
        ]
    )
    def generate(z, labels):
        return {"images": model([z, labels], training=False)}

    with lean_layers(model) if lean else contextlib.nullcontext():
        concrete = generate.get_concrete_function()
    # Weights as constants, as kgan.export.tflite's SavedModel route gives the converter.
    frozen = convert_variables_to_constants_v2(concrete)
    content = tf.lite.TFLiteConverter.from_concrete_functions([frozen]).convert()
    interpreter = Interpreter(model_content=content)
    return [op["op_name"] for op in interpreter._get_ops_details()]


def test_converted_models_have_no_run_time_shape_or_index_arithmetic():
    model, _ = embedding_model(norm=True)
    plain, lean = converted_ops(model, False), converted_ops(model, True)
    assert {"SHAPE", "SELECT_V2", "CONCATENATION"} <= set(plain)
    assert not {"SHAPE", "PACK", "SELECT_V2", "LESS", "CONCATENATION"} & set(lean)
    assert sorted(lean) == ["ADD", "FULLY_CONNECTED", "GATHER", "RESHAPE"]


def single_filter_model(**kwargs):
    inputs = keras.Input((9, 8, 5))
    conv = keras.layers.Conv2D(1, 3, **kwargs)
    model = keras.Model(inputs, conv(inputs))
    if conv.use_bias:
        conv.bias.assign([0.7])
    return model


@pytest.mark.parametrize(
    "kwargs",
    [
        {"padding": "same", "activation": "tanh"},
        {"padding": "valid"},
        {"padding": "same", "strides": 2},
        {"padding": "valid", "dilation_rate": 2, "use_bias": False},
    ],
)
def test_single_filter_convolutions_become_depthwise_with_the_same_outputs(kwargs):
    model = single_filter_model(**kwargs)
    x = np.random.default_rng(2).normal(size=(2, 9, 8, 5)).astype("float32")
    expected = np.asarray(model(x))
    with lean_layers(model) as count:
        assert count == 1
        np.testing.assert_allclose(np.asarray(model(x)), expected, atol=1e-5)
    inputs = keras.Input((9, 8, 5))
    wide = keras.Model(inputs, keras.layers.Conv2D(2, 3)(inputs))
    with lean_layers(wide) as count:
        assert count == 0
