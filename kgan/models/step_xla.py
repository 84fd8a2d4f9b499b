"""Which parts of a trainer's step XLA compiles, and how `compile(jit_compile=...)` decides."""

import tensorflow as tf


def resolve_jit_compile(model, jit_compile, run_eagerly):
    """`"auto"` -> XLA whenever every layer supports it; unlike Keras's "auto", on CPU too,
    where these steps run about twice as fast."""
    if jit_compile == "auto":
        return not run_eagerly and all(layer.supports_jit for layer in model._flatten_layers())
    if jit_compile not in (True, False):
        raise ValueError(f"jit_compile must be True, False or 'auto'; got {jit_compile!r}")
    return jit_compile


class StepXLA:
    """Which parts of a step XLA compiles.

    Outside any `tf.distribute` strategy the step's math, after the checks of the data, is
    compiled as a whole (`whole`). Under a strategy the optimizers' gradient all-reduce cannot
    sit inside a compiled function, so only the math between two updates (forward pass, losses,
    gradients) is compiled (`part`); the random draws and the updates run outside it. Batch
    normalization with `synchronized=True` all-reduces too: with it, nothing is compiled under
    a strategy. XLA's random number generators give other numbers than TensorFlow's kernels for
    the same seed, so a step under a strategy draws the numbers of a step without XLA. On two
    CPU devices the compiled pieces train the MNIST cGAN about 1.7 times as fast as no XLA, as
    fast as the whole step compiled on one device (benchmarks/scaling.py).

    Args:
        model: the trainer.
        enabled: whether XLA is used at all.
    """

    def __init__(self, model, enabled):
        self.enabled = enabled
        self._parts_enabled = enabled and not any(
            getattr(layer, "synchronized", False) for layer in model._flatten_layers()
        )
        self._compiled = {}

    def _compile(self, function):
        name = function.__name__
        if name not in self._compiled:
            self._compiled[name] = tf.function(function, jit_compile=True)
        return self._compiled[name]

    def whole(self, function):
        """`function`, the step after its draws, compiled when no strategy is active."""
        if self.enabled and not tf.distribute.has_strategy():
            return self._compile(function)
        return function

    def part(self, function):
        """`function`, a piece between two updates, compiled when a strategy is active."""
        if self._parts_enabled and tf.distribute.has_strategy():
            return self._compile(function)
        return function
