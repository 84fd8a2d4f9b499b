import keras
import numpy as np
import pytest
from litert_ops import op_names

import kgan
import kgan.export
from kgan.export.rewrites import graph, subpixel
from kgan.export.rewrites.subpixel import is_rewritable, subpixel_transposed_convolutions


def transposed(kernel_size, strides, **kwargs):
    inputs = keras.Input((5, 6, 3))
    layer = keras.layers.Conv2DTranspose(4, kernel_size, strides=strides, **kwargs)
    return keras.Model(inputs, layer(inputs)), layer


@pytest.mark.parametrize(
    "kernel_size, strides, use_bias, activation",
    [
        (4, 2, False, None),  # the DCGAN generator's layer
        (3, 2, True, "relu"),  # uneven "same" padding
        (5, 2, True, None),  # phases with 3 and 2 taps
        (3, 3, True, "tanh"),
        (6, 3, False, None),
        (2, 2, True, None),  # one tap per phase
        ((4, 3), 2, True, None),  # different taps per axis
    ],
)
@pytest.mark.parametrize("one_convolution", [True, False])
def test_the_rewrite_computes_the_same_outputs(
    kernel_size, strides, use_bias, activation, one_convolution, monkeypatch
):
    # Both forms: one convolution where the phases share a window, or a convolution per phase.
    monkeypatch.setattr(subpixel, "MAX_EXTRA_WORK", np.inf if one_convolution else 0.0)
    model, layer = transposed(
        kernel_size, strides, padding="same", use_bias=use_bias, activation=activation
    )
    if use_bias:
        layer.bias.assign(np.linspace(-1, 1, 4).astype("float32"))
    x = np.random.default_rng(0).normal(size=(2, 5, 6, 3)).astype("float32")
    expected = np.asarray(model(x))
    with subpixel_transposed_convolutions(model) as count:
        rewritten = np.asarray(model(x))
    assert count == 1
    # Another summation order: equal to float32 rounding, and not the same computation.
    np.testing.assert_allclose(rewritten, expected, atol=1e-5)
    assert "call" not in vars(layer)  # the layer is as it was
    np.testing.assert_array_equal(np.asarray(model(x)), expected)


def test_a_wrong_phase_order_would_be_caught():
    model, layer = transposed(4, 2, padding="same")
    x = np.random.default_rng(1).normal(size=(1, 5, 6, 3)).astype("float32")
    expected = np.asarray(model(x))
    with subpixel_transposed_convolutions(model):
        layer.kernel.assign(np.flip(np.asarray(layer.kernel), axis=0))
        flipped = np.asarray(model(x))
    assert np.abs(flipped - expected).max() > 1e-2


@pytest.mark.parametrize(
    "kernel_size, strides, kwargs",
    [
        (4, 2, {"padding": "valid"}),
        (3, 1, {"padding": "same"}),
        (1, 2, {"padding": "same"}),  # kernel smaller than the stride
        (4, (2, 1), {"padding": "same"}),
        (3, 2, {"padding": "same", "output_padding": 1}),
    ],
)
def test_layers_it_cannot_rewrite_are_left_alone(kernel_size, strides, kwargs):
    model, layer = transposed(kernel_size, strides, **kwargs)
    assert not is_rewritable(layer)
    with subpixel_transposed_convolutions(model) as count:
        assert count == 0
        assert "call" not in vars(layer)
    assert not is_rewritable(keras.layers.Conv2D(3, 3))


def test_tflite_generators_convert_without_transpose_conv(tmp_path):
    keras.utils.set_random_seed(3)
    gan = kgan.models.build_trainer("cgan", (8, 8, 1), num_classes=3, width=4, latent_dim=8)
    fast = kgan.export.tflite(gan, tmp_path / "fast.tflite")
    plain = kgan.export.tflite(gan, tmp_path / "plain.tflite", subpixel=False)
    assert "TRANSPOSE_CONV" not in op_names(fast)
    assert "DEPTH_TO_SPACE" in op_names(fast)
    assert "TRANSPOSE_CONV" in op_names(plain)
    # Batch normalization and ReLU folded into the convolutions; no run-time shape ops.
    assert not op_names(fast) & {"MUL", "RELU", "SHAPE", "PACK", "SELECT_V2"}
    assert fast.parity.max_abs_error <= 1e-5
    assert plain.parity.max_abs_error <= 1e-5
    np.testing.assert_allclose(
        kgan.export.TFLiteModel(fast).generate(4, seed=1), gan.generate(4, seed=1), atol=1e-5
    )
    # The trainer's own layers are untouched after the export.
    assert not any("call" in vars(layer) for layer in gan.generator.layers)


def normalized(activation_layer, shared=False):
    """Conv2DTranspose -> BatchNormalization (non-trivial statistics) -> activation."""
    inputs = keras.Input((5, 6, 3))
    conv = keras.layers.Conv2DTranspose(4, 4, strides=2, padding="same", use_bias=True)
    norm = keras.layers.BatchNormalization()
    x = conv(inputs)
    outputs = activation_layer(norm(x))
    if shared:  # the convolution's output also feeds another layer: nothing may be folded
        outputs = keras.layers.Add()([outputs, x])
    model = keras.Model(inputs, outputs)
    rng = np.random.default_rng(2)
    conv.bias.assign(rng.normal(size=4).astype("float32"))
    norm.gamma.assign(rng.uniform(0.5, 2.0, 4).astype("float32"))
    norm.beta.assign(rng.normal(size=4).astype("float32"))
    norm.moving_mean.assign(rng.normal(size=4).astype("float32"))
    norm.moving_variance.assign(rng.uniform(0.2, 3.0, 4).astype("float32"))
    return model, conv, norm


ACTIVATIONS = {
    "relu": (keras.layers.ReLU, True),
    "activation_relu": (lambda: keras.layers.Activation("relu"), True),
    "leaky_relu": (lambda: keras.layers.LeakyReLU(0.2), False),
    "relu6": (lambda: keras.layers.ReLU(max_value=6.0), False),
}


@pytest.mark.parametrize("name", list(ACTIVATIONS))
@pytest.mark.parametrize("shared", [False, True])
@pytest.mark.parametrize("one_convolution", [True, False])
def test_batch_normalization_and_relu_are_folded_exactly(
    name, shared, one_convolution, monkeypatch
):
    monkeypatch.setattr(subpixel, "MAX_EXTRA_WORK", np.inf if one_convolution else 0.0)
    make, folds_relu = ACTIVATIONS[name]
    activation = make()
    model, conv, norm = normalized(activation, shared)
    x = np.random.default_rng(3).normal(size=(2, 5, 6, 3)).astype("float32")
    expected = np.asarray(model(x, training=False))
    with subpixel_transposed_convolutions(model) as count:
        rewritten = np.asarray(model(x, training=False))
        folded = "call" in vars(norm)
        relu_folded = "call" in vars(activation)
    assert count == 1
    assert folded is not shared
    assert relu_folded is (folds_relu and not shared)
    np.testing.assert_allclose(rewritten, expected, atol=1e-5)
    for layer in (conv, norm, activation):
        assert "call" not in vars(layer)
    np.testing.assert_array_equal(np.asarray(model(x, training=False)), expected)


def test_folding_can_be_turned_off():
    model, conv, norm = normalized(keras.layers.ReLU())
    x = np.random.default_rng(4).normal(size=(1, 5, 6, 3)).astype("float32")
    with subpixel_transposed_convolutions(model, fold=False):
        assert "call" not in vars(norm)
        np.testing.assert_allclose(
            np.asarray(model(x, training=False)), np.asarray(norm(conv(x))).clip(0), atol=1e-5
        )


def test_a_wrong_folding_would_be_caught():
    model, conv, norm = normalized(keras.layers.ReLU())
    x = np.random.default_rng(5).normal(size=(1, 5, 6, 3)).astype("float32")
    expected = np.asarray(model(x, training=False))
    with subpixel_transposed_convolutions(model):
        norm.moving_mean.assign(np.asarray(norm.moving_mean) + 1.0)
        shifted = np.asarray(model(x, training=False))
    assert np.abs(shifted - expected).max() > 1e-2


def test_the_form_follows_the_extra_work():
    # 4x4 stride 2: the phases share a 2x2 window with one extra position per axis.
    phases = subpixel._phase_taps(4, 2)
    shared = [subpixel._shared_window(phases, 2)] * 2
    assert subpixel._extra_work(keras.KerasTensor((None, 7, 7, 8)), shared) == (8 / 7) ** 2
    assert subpixel._extra_work(keras.KerasTensor((None, 14, 14, 8)), shared) == (15 / 14) ** 2
    assert subpixel._extra_work(keras.KerasTensor((None, None, None, 8)), shared) == np.inf
    # 6x6 stride 2: the phases' windows coincide, so one convolution adds no work at any size.
    coinciding = [subpixel._shared_window(subpixel._phase_taps(6, 2), 2)] * 2
    assert subpixel._extra_work(keras.KerasTensor((None, None, None, 8)), coinciding) == 1.0
    # Phases with different numbers of taps (3x3 stride 2) cannot share one window.
    assert subpixel._shared_window(subpixel._phase_taps(3, 2), 2) is None


def test_patched_calls_restore_each_layer_as_it_was_also_after_an_error():
    plain, own = keras.layers.ReLU(), keras.layers.ReLU()
    dense = keras.layers.Dense(2)
    dense.build((None, 3))
    spec = dense.input_spec

    def own_call(inputs):
        return inputs * 2.0

    own.call = own_call  # an instance's own call, set before the rewrite
    with pytest.raises(RuntimeError, match="inside"):
        with graph.patched_calls(
            {plain: lambda inputs: inputs + 1.0, own: lambda inputs: inputs - 1.0},
            {(dense, "input_spec"): None},
        ):
            assert float(plain.call(1.0)) == 2.0 and float(own.call(1.0)) == 0.0
            assert dense.input_spec is None
            raise RuntimeError("inside the block")
    assert "call" not in vars(plain)
    assert own.call is own_call
    assert dense.input_spec is spec
