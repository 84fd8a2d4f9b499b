"""What every trainer shares around its own `compile` and `train_step`: the optimizers'
resolution, the config pair of `compile`, the networks in `from_config`, XLA of the step."""

import keras

from kgan.models.step_xla import _resolve_jit_compile, _StepXLA


def _resolve_optimizer(optimizer, default_factory, argument):
    if optimizer == "auto" or optimizer is None:
        return default_factory()
    if isinstance(optimizer, str | dict):
        return keras.optimizers.get(optimizer)
    if isinstance(optimizer, keras.optimizers.Optimizer):
        return optimizer
    raise ValueError(
        f"{argument} must be 'auto', an optimizer name such as 'adam', or a "
        f"keras.optimizers.Optimizer; got {optimizer!r}"
    )


def _resolve_loss_scaling(model, optimizer):
    """Wraps `optimizer` in a `keras.optimizers.LossScaleOptimizer` when a layer of the model
    computes in float16 (the `"mixed_float16"` policy), as `keras.Model.compile` does."""
    float16 = any(layer.compute_dtype == "float16" for layer in model._flatten_layers())
    if float16 and not isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        return keras.optimizers.LossScaleOptimizer(optimizer)
    return optimizer


def _skip_symbolic_build(model, iterator=None, data_batch=None):
    """Stands in for `keras.Model._maybe_symbolic_build` on the trainers.

    Under a strategy Keras builds an unbuilt model from a data batch that it first reduces
    over the replicas, and under `MultiWorkerMirroredStrategy` that reduction fails for
    `(x, y)` batches. The trainers and their optimizers are built by `__init__` and `compile`,
    so there is nothing to build.
    """


class TrainerMixin:
    """The `keras.Model` methods that every trainer fills in the same way.

    A trainer names the networks its config holds serialized in `_network_keys`, and the
    optimizers its `compile` takes (and sets as attributes of the same names) in
    `_optimizer_keys`; its `compile` resolves `jit_compile` with `_compile_step` and keeps the
    result in `_jit_compile_setting`. Put this class before `keras.Model` in the bases.
    """

    _network_keys = ()
    _optimizer_keys = ()

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in cls._network_keys:
            config[key] = keras.saving.deserialize_keras_object(config[key])
        return cls(**config)

    def get_compile_config(self):
        if not self.compiled:
            return {}
        config = {
            key: keras.saving.serialize_keras_object(getattr(self, key))
            for key in self._optimizer_keys
        }
        config["jit_compile"] = self._jit_compile_setting
        config["steps_per_execution"] = self.steps_per_execution
        return config

    def compile_from_config(self, config):
        config = dict(config)
        for key in self._optimizer_keys:
            config[key] = keras.saving.deserialize_keras_object(config[key])
        self.compile(**config)

    def _compile_step(self, jit_compile, run_eagerly):
        """Resolves `jit_compile` and sets which parts of the step XLA compiles (see
        `_StepXLA`); returns the resolved setting."""
        jit_compile = _resolve_jit_compile(self, jit_compile, run_eagerly)
        self._step_jit = bool(jit_compile) and not run_eagerly
        self._xla = _StepXLA(self, self._step_jit)
        return jit_compile

    _maybe_symbolic_build = _skip_symbolic_build
