"""Transposed convolutions traced as sub-pixel convolutions, for faster LiteRT models.

A stride-`s` transposed convolution computes each of its `s * s` output phases (the pixels
`(s m + a, s n + b)` for fixed `a, b`) as an ordinary convolution of the input with a slice of
its kernel: the taps `t` with `t = a + pad (mod s)`. Written as those `s * s` small
convolutions, whose outputs are stacked as channels and interleaved with `depth_to_space`, the
layer does exactly the same multiply-adds, but LiteRT runs them with its fast convolution
kernels (XNNPACK) instead of its generic `TRANSPOSE_CONV`: the DCGAN generator's 4x4 stride-2
layers run about 4 times faster at batch 1. The sums are the same up to float32 rounding.

Each phase convolution also adds the layer's bias, so LiteRT fuses it, and a batch
normalization and ReLU that follow the layer are folded in (the normalization into the kernel
and bias, the ReLU into each phase, which it commutes with): the generator's normalized layers
become convolutions with fused bias and activation, a `CONCATENATION` and a `DEPTH_TO_SPACE`.

This is the phase decomposition behind sub-pixel convolution (Shi et al. 2016, "Real-Time
Single Image and Video Super-Resolution Using an Efficient Sub-Pixel Convolutional Neural
Network") and its equivalence with transposed convolution (Shi et al. 2016, "Is the
deconvolution layer the same as a convolutional layer?").
"""

import contextlib
import functools
import math

import keras
import tensorflow as tf

from kgan.export.rewrites.graph import (
    following,
    is_foldable_norm,
    is_linear,
    is_plain_relu,
    is_relu,
    layers_of,
    norm_scale_shift,
    pass_through,
    patched_calls,
)


def is_rewritable(layer):
    """Whether `subpixel_transposed_convolutions` rewrites `layer`: a `Conv2DTranspose`
    (channels last) with equal strides above 1, `"same"` padding, no dilation, no
    `output_padding` and a kernel at least as large as the stride on each side."""
    if not isinstance(layer, keras.layers.Conv2DTranspose):
        return False
    strides = tuple(layer.strides)
    return (
        layer.data_format == "channels_last"
        and strides[0] == strides[1] > 1
        and layer.padding == "same"
        and tuple(layer.dilation_rate) == (1, 1)
        and layer.output_padding is None
        and all(k >= s for k, s in zip(layer.kernel_size, strides, strict=True))
    )


@contextlib.contextmanager
def subpixel_transposed_convolutions(model, fold=True):
    """Within the block, every rewritable `Conv2DTranspose` of `model` (see `is_rewritable`)
    computes its output as sub-pixel convolutions; on leaving, the layers are as before.

    With `fold`, an inference-mode `BatchNormalization` that alone consumes such a layer's
    output is folded into its kernel and bias, and a plain ReLU after it is applied to each
    phase: LiteRT then fuses bias and ReLU into each convolution, where the normalization's
    multiply and add would otherwise run on the interleaved output (`depth_to_space` stands
    between the convolutions and the normalization, so the converter cannot fold it). The
    folded layers pass their inputs through inside the block: trace only inference there.

    Functions traced inside the block (e.g. for the TFLite converter) keep the rewritten
    graph; the layers' weights are read, never copied or changed.

    Args:
        model: a Keras layer or model, or any object whose attributes hold Keras models
            (such as a kgan trainer, whose networks are attributes).
        fold: fold a following batch normalization and ReLU into the rewritten layers.

    Yields:
        The number of layers rewritten.

    Example:
        >>> with subpixel_transposed_convolutions(gan) as count:
        ...     functions = kgan.export.export_functions(gan, for_tflite=True)
        ...     concrete = [f.get_concrete_function() for f in functions.values()]
    """
    layers = [layer for layer in layers_of(model) if is_rewritable(layer)]
    calls = {}
    for layer in layers:
        norm = following(layer) if fold and is_linear(layer.activation) else None
        if not is_foldable_norm(norm):
            norm = None
        relu = following(norm) if norm is not None else None
        if not is_plain_relu(relu):
            relu = None
        calls[layer] = functools.partial(_subpixel_call, layer, norm=norm, relu=relu is not None)
        for passed in (norm, relu):
            if passed is not None:
                calls[passed] = pass_through
    with patched_calls(calls):
        yield len(layers)


def _phase_taps(kernel_size, stride):
    """Per output phase `a`: the input offsets `d` (ascending) and kernel taps `t` it uses.

    Output pixel `o = stride * i + t - pad` takes input `i` through tap `t`, `pad` being the
    leading padding of a "same" transposed convolution; for `o = stride * m + a`, the input
    offset is `d = i - m = (a + pad - t) / stride`.
    """
    pad = (kernel_size - stride) // 2
    phases = []
    for a in range(stride):
        taps = [t for t in range(kernel_size) if (a + pad - t) % stride == 0]
        offsets = [(a + pad - t) // stride for t in taps]
        order = sorted(range(len(taps)), key=lambda j: offsets[j])
        phases.append(([offsets[j] for j in order], [taps[j] for j in order]))
    return phases


def _subpixel_call(layer, inputs, norm=None, relu=False):
    stride = layer.strides[0]
    rows = _phase_taps(layer.kernel_size[0], stride)
    cols = _phase_taps(layer.kernel_size[1], stride)
    kernel = tf.transpose(layer.kernel, (0, 1, 3, 2))  # [kh, kw, in_channels, filters]
    bias = layer.bias if layer.use_bias else None
    if norm is not None:
        scale, shift = norm_scale_shift(norm)
        kernel = kernel * scale
        bias = shift if bias is None else bias * scale + shift
    kernel = tf.cast(kernel, inputs.dtype)
    bias = None if bias is None else tf.cast(bias, inputs.dtype)
    # ReLU commutes with the interleaving, so it can follow each phase (fused by LiteRT).
    per_phase_relu = relu or (norm is None and is_relu(layer.activation))
    shared = [_shared_window(axis, stride) for axis in (rows, cols)]
    if None not in shared and _extra_work(inputs, shared) <= MAX_EXTRA_WORK:
        outputs = _one_convolution(inputs, kernel, bias, per_phase_relu, stride, rows, cols, shared)
    else:
        outputs = _phase_convolutions(inputs, kernel, bias, per_phase_relu, stride, rows, cols)
    if norm is None and not per_phase_relu and layer.activation is not None:
        outputs = layer.activation(outputs)
    return outputs


def _phase_convolutions(inputs, kernel, bias, relu, stride, rows, cols):
    """The `s * s` phase convolutions, each on its own padded input, interleaved. (A pad per
    phase, which LiteRT's XNNPACK folds into the convolution, ran the MNIST generator's 7x7
    layer 17% faster on 2 threads than one shared pad and a slice per phase.)"""
    height, width = _spatial_size(inputs)
    phases = []
    for row_offsets, row_taps in rows:
        for col_offsets, col_taps in cols:
            window = _phase_window(inputs, row_offsets, col_offsets, height, width)
            taps = tf.gather(tf.gather(kernel, row_taps, axis=0), col_taps, axis=1)
            phase = tf.nn.conv2d(window, taps, strides=1, padding="VALID")
            if bias is not None:
                phase = tf.nn.bias_add(phase, bias)
            phases.append(tf.nn.relu(phase) if relu else phase)
    return tf.nn.depth_to_space(tf.concat(phases, axis=-1), stride)


def _spatial_size(inputs):
    """Height and width: static ints where known, which keeps shape arithmetic out of the
    converted graph."""
    return [
        inputs.shape[axis] if inputs.shape[axis] is not None else tf.shape(inputs)[axis]
        for axis in (1, 2)
    ]


def _phase_window(inputs, row_offsets, col_offsets, height, width):
    """The input rows `m + row_offsets` and columns `n + col_offsets` of every output pixel
    `(m, n)` of one phase: zero-padded where they fall outside, cropped where the phase never
    reaches."""
    pads, starts, lengths = [[0, 0]], [], []
    for offsets, size in ((row_offsets, height), (col_offsets, width)):
        before, after = max(0, -offsets[0]), max(0, offsets[-1])
        pads.append([before, after])
        starts.append(offsets[0] + before)
        lengths.append((before + size + after, size + len(offsets) - 1))
    pads.append([0, 0])
    window = tf.pad(inputs, pads) if any(before or after for before, after in pads) else inputs
    if starts == [0, 0] and all(isinstance(have, int) and have == need for have, need in lengths):
        return window
    (_, rows_needed), (_, cols_needed) = lengths
    return window[:, starts[0] : starts[0] + rows_needed, starts[1] : starts[1] + cols_needed, :]


def _shared_window(phases, stride):
    """How one convolution can compute every phase of an axis, or None.

    When every phase uses the same number `n` of consecutive input offsets, starting at
    `o_a` for phase `a`, one convolution with an `n`-tap window, run over the input padded
    by `before` and `after`, computes phase `a` of output `m` at position `m + o_a + before`.
    Placing phase `a`'s filters in channel block `b_a = c + a - stride * o_a` (which must be a
    permutation of the blocks), `depth_to_space` puts it at `stride * m + a + crop` with one
    `crop` for all phases, so cropping the interleaved output leaves the layer's output.

    Returns:
        `(blocks, crop, before, after, span)` or None; the convolution has `span` more
        positions than the input on this axis.
    """
    lengths = {len(offsets) for offsets, _ in phases}
    if len(lengths) != 1:
        return None
    window = lengths.pop()
    starts = [offsets[0] for offsets, _ in phases]
    before, after = -min(starts), max(starts) + window - 1
    if before < 0 or after < 0:
        return None
    for c in range(stride * starts[0], stride * starts[0] + stride):
        blocks = [c + a - stride * start for a, start in enumerate(starts)]
        if sorted(blocks) == list(range(stride)):
            return blocks, c + stride * before, before, after, max(starts) - min(starts)
    return None


# The one-convolution form computes `span` extra rows and columns that the crop discards, so it
# is used only where it costs no extra multiply-adds (phases whose windows coincide, e.g. 6x6
# kernels of stride 2). On the MNIST generator (4x4 stride 2 layers, 31% and 15% extra work)
# the per-phase convolutions ran the whole model 2-5% faster with 1 thread and at most 2%
# slower with 2; the tests force either form through this bound.
MAX_EXTRA_WORK = 1.0


def _extra_work(inputs, shared):
    """Multiply-adds of the one-convolution form over the exact phase convolutions' (infinite
    when it adds positions to a side whose size is unknown at tracing)."""
    ratio = 1.0
    for size, (*_, span) in zip(inputs.shape[1:3], shared, strict=True):
        if span:
            ratio *= math.inf if size is None else (size + span) / size
    return ratio


def _one_convolution(inputs, kernel, bias, relu, stride, rows, cols, shared):
    """Every phase from one convolution (see `_shared_window`): fewer, larger ops, at the
    price of the positions along the border that the crop drops."""
    (row_blocks, row_crop, *row_pad, _), (col_blocks, col_crop, *col_pad, _) = shared
    padded = tf.pad(inputs, [[0, 0], row_pad, col_pad, [0, 0]])
    by_block = {}
    for (_, row_taps), i in zip(rows, row_blocks, strict=True):
        for (_, col_taps), j in zip(cols, col_blocks, strict=True):
            by_block[i * stride + j] = tf.gather(
                tf.gather(kernel, row_taps, axis=0), col_taps, axis=1
            )
    combined = tf.concat([by_block[k] for k in range(stride * stride)], axis=-1)
    outputs = tf.nn.conv2d(padded, combined, strides=1, padding="VALID")
    if bias is not None:
        outputs = tf.nn.bias_add(outputs, tf.tile(bias, [stride * stride]))
    if relu:
        outputs = tf.nn.relu(outputs)
    outputs = tf.nn.depth_to_space(outputs, stride)
    height, width = _spatial_size(inputs)
    return outputs[
        :, row_crop : row_crop + stride * height, col_crop : col_crop + stride * width, :
    ]
