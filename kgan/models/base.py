"""The trainer protocol: the `Trainer` base class and the registry its subclasses join.

A trainer is a `keras.Model` with its own `train_step`. It subclasses `Trainer`, registers a
name with `@register_trainer("name")` and declares, as class attributes and two methods:

- `network_names`: the networks its config holds serialized (`get_config` / `from_config`), in
  the order the divergence guard checks their weights (the first non-finite one is named);
- `optimizer_names`: the optimizer arguments of its `compile` (set as attributes of the same
  names), whose config pair `Trainer` writes;
- `loss_owners`: `((logged loss, network it trains), ...)` in the order its step computes them
  (the divergence guard names a diverged network from it);
- `inference_names`: the inference functions it exports (`inference_functions()`);
- `build_options`: the keyword options of its `from_shape` builder (the command line offers
  them);
- `from_shape(shape, num_classes=None, **options)`: the trainer with default networks for
  data of a shape;
- `default_optimizer(name, learning_rate=None)`: the optimizer `compile("auto")` gives `name`.

The registry is the one list of trainers: `kgan.models.build_trainer`, `kgan train`, the zoo
and export read it, and the contract suite of the tests runs every registered trainer.
`Trainer` also owns what all trainers share: `compile`'s config pair, the XLA step set-up, the
state of the random generators in saved files, presets, and `generate` through the sampling
contract of `kgan.sampling`.

Example:
    >>> @kgan.models.register_trainer("my_gan")
    ... class MyGAN(kgan.GAN):
    ...     pass
    >>> kgan.models.build_trainer("my_gan", (2,))
"""

import numbers
import re
import types

import keras
import numpy as np
import tensorflow as tf

from kgan import sampling
from kgan.models.step_xla import StepXLA, resolve_jit_compile
from kgan.zoo.mixin import PresetMixin

_REGISTRY = {}
# The registry, read-only: name -> trainer class.
TRAINERS = types.MappingProxyType(_REGISTRY)
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_SEED_STATE_KEY = "seed_generator_state"
_LAYER_SEED_STATE_KEY = "layer_seed_generator_state_{}"


def register_trainer(name, package=None):
    """Class decorator: registers a `Trainer` subclass under `name`, and with Keras.

    Args:
        name: the trainer's name (`kgan train NAME`), lower case, digits and underscores.
        package: the Keras serialization package; `"kgan"` for kgan's own trainers, else the
            top-level module of the class.

    Returns:
        The decorator, which returns the class unchanged (registered).

    Example:
        >>> @kgan.models.register_trainer("my_gan")
        ... class MyGAN(kgan.GAN):
        ...     pass
    """
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(
            f"a trainer's name is lower case letters, digits and underscores, starting with a "
            f"letter, e.g. 'info_gan'; got {name!r}"
        )

    def decorate(cls):
        if not (isinstance(cls, type) and issubclass(cls, Trainer)):
            raise TypeError(
                f"register_trainer({name!r}) decorates a subclass of kgan.models.Trainer; got "
                f"{cls!r}"
            )
        held = _REGISTRY.get(name)
        if held is not None and held.__qualname__ != cls.__qualname__:
            raise ValueError(
                f"the trainer name {name!r} is taken by {held.__module__}.{held.__qualname__}; "
                "choose another name"
            )
        if getattr(cls.from_shape, "__func__", None) is Trainer.from_shape.__func__:
            raise TypeError(f"{cls.__name__} must define from_shape(shape, num_classes, **options)")
        owner = package or ("kgan" if cls.__module__.startswith("kgan.") else None)
        owner = owner or cls.__module__.split(".")[0]
        keras.saving.register_keras_serializable(package=owner)(cls)
        cls.trainer_name = name
        _REGISTRY[name] = cls
        return cls

    return decorate


def unregister_trainer(name):
    """Removes `name` from the registry (for trainers defined in tests or notebooks)."""
    _REGISTRY.pop(name, None)


def get_trainer(name):
    """The trainer class registered under `name`, or a `ValueError` that lists the names."""
    if name not in _REGISTRY:
        raise ValueError(f"unknown model {name!r}; choose one of {list_trainers()}")
    return _REGISTRY[name]


def list_trainers():
    """The registered trainer names, sorted."""
    return sorted(_REGISTRY)


def resolve_optimizer(optimizer, default_factory, argument):
    """An optimizer from `"auto"`/None (the default), a name or config, or an instance."""
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


def with_learning_rate(optimizer, learning_rate):
    """A new optimizer of `optimizer`'s class and config with another learning rate (a float
    or a `keras.optimizers.schedules.LearningRateSchedule`)."""
    config = optimizer.get_config()
    config["learning_rate"] = learning_rate
    return type(optimizer).from_config(config)


def check_samples(x, shape=None):
    """`x` as a float32 numpy array of samples, after the checks every public method that reads
    data makes: floats (images in [-1, 1]), finite, and of `shape` per sample when given.

    Args:
        x: array-like `[n, *shape]`.
        shape: the per-sample shape a model takes, or None for any (rank >= 1).

    Returns:
        A float32 numpy array.

    Raises:
        ValueError: naming what is wrong.
    """
    x = np.asarray(x)
    if shape is not None:
        shape = tuple(shape)
        if x.ndim != len(shape) + 1 or tuple(x.shape[1:]) != shape:
            raise ValueError(
                f"x must have shape (n, {', '.join(map(str, shape))}): samples of shape "
                f"{shape}, as the model takes; got {x.shape}"
            )
    elif x.ndim < 2:
        raise ValueError(f"x must be samples [n, ...] (rank >= 2); got shape {x.shape}")
    if not np.issubdtype(x.dtype, np.floating):
        raise ValueError(
            f"x must be float samples (images in [-1, 1], as kgan.data gives them); got {x.dtype}"
        )
    if not np.isfinite(x).all():
        raise ValueError("x holds NaN or infinite values; x must hold finite floats")
    return x.astype("float32")


def check_non_negative(**values):
    """Raises a clear `ValueError` naming the first of `values` (argument name: value) that is
    not a real number >= 0 (a bool is not one)."""
    for argument, value in values.items():
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value >= 0:
            raise ValueError(f"{argument} must be a float >= 0; got {value!r}")


def check_encoder(encoder, sample_shape, code_dim):
    """Raises a clear `ValueError` unless `encoder` is a `keras.Model` from samples of
    `sample_shape` to codes `[batch, code_dim]` (the generator's latent size)."""
    if not isinstance(encoder, keras.Model):
        raise ValueError(
            "encoder must be a keras.Model (build one with kgan.networks.code_encoder); got "
            f"{type(encoder).__name__}"
        )
    if tuple(encoder.inputs[0].shape[1:]) != tuple(sample_shape):
        raise ValueError(
            f"the generator makes samples of shape {tuple(sample_shape)} but the encoder takes "
            f"{tuple(encoder.inputs[0].shape[1:])}; build them for the same data"
        )
    if tuple(encoder.outputs[0].shape[1:]) != (code_dim,):
        raise ValueError(
            f"the encoder must return codes of the generator's latent size, (batch, {code_dim}); "
            f"it returns {tuple(encoder.outputs[0].shape)}"
        )


class Trainer(PresetMixin, keras.Model):
    """The base of every kgan trainer; see the module's docstring for the protocol.

    A subclass sets in `__init__`: its networks (attributes named in `network_names`),
    `latent_dim`, `sample_shape` (one example's shape) and `seed_generator` (a
    `keras.random.SeedGenerator`); its `compile`
    calls `_compile_step` and builds its optimizers (see `_resolve_optimizers`); it implements
    `from_shape`, `default_optimizer`, `train_step`, `_generate_batch(latents, labels)` and
    `inference_functions()`.
    """

    trainer_name = None
    network_names = ()
    optimizer_names = ()
    loss_owners = ()
    inference_names = ()
    build_options = ()
    conditional = False
    num_classes = None
    # How `generate` draws latents: "normal" when they are N(0, I) by the sampling contract
    # (an exported runner can then draw them itself); anything else means "pass latents".
    latent_distribution = "normal"

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        # No XLA until `compile` says otherwise.
        self._step_jit = False
        self._xla = StepXLA(self, enabled=False)

    # Protocol ---------------------------------------------------------------------------

    @classmethod
    def from_shape(cls, shape, num_classes=None, **options):
        """Builds the trainer with its default networks for data of `shape`.

        Args:
            shape: one example's shape, e.g. `(28, 28, 1)` or `(2,)`.
            num_classes: the data's number of classes (conditional trainers need it; the
                others ignore it).
            **options: the names in `build_options`.

        Returns:
            An uncompiled trainer.
        """
        raise NotImplementedError(f"{cls.__name__} does not define from_shape")

    def default_optimizer(self, name, learning_rate=None):
        """The optimizer `compile` gives the argument `name` for `"auto"`.

        Args:
            name: one of `optimizer_names`.
            learning_rate: a learning rate (or schedule) in place of the default one.

        Returns:
            A new `keras.optimizers.Optimizer`.
        """
        raise NotImplementedError(f"{type(self).__name__} does not define default_optimizer")

    def default_optimizers(self, learning_rate=None, cosine_decay_steps=None):
        """`{name: optimizer}` for `compile(**...)`: `"auto"` for each optimizer argument, or
        `default_optimizer(name, learning_rate)` when a learning rate is given; with
        `cosine_decay_steps`, each learning rate decays along a cosine to 1% of its start over
        that many updates (`keras.optimizers.schedules.CosineDecay`, `alpha=0.01`).

        Example:
            >>> model.compile(**model.default_optimizers(learning_rate=1e-3))
        """
        optimizers = {}
        for name in self.optimizer_names:
            optimizer = "auto"
            if learning_rate is not None:
                optimizer = self.default_optimizer(name, learning_rate=learning_rate)
            if cosine_decay_steps is not None:
                optimizer = self.default_optimizer(name) if optimizer == "auto" else optimizer
                start = float(optimizer.get_config()["learning_rate"])
                schedule = keras.optimizers.schedules.CosineDecay(
                    start, cosine_decay_steps, alpha=0.01
                )
                optimizer = with_learning_rate(optimizer, schedule)
            optimizers[name] = optimizer
        return optimizers

    def network_map(self):
        """`{attribute: network}` of every network the trainer holds (EMA copies included)."""
        found = {}
        for name in (*self.network_names, *self._extra_network_names()):
            network = getattr(self, name, None)
            if isinstance(network, keras.Model):
                found[name] = network
        return found

    def _extra_network_names(self):
        return ()

    @classmethod
    def check_build_options(cls, options):
        """Raises a `ValueError` naming every key of `options` that `from_shape` does not take."""
        unknown = [key for key in options if key not in cls.build_options]
        if unknown:
            raise ValueError(
                f"{', '.join(unknown)}: not options of {cls.trainer_name or cls.__name__}; its "
                f"options are {', '.join(cls.build_options) or 'none'}"
            )

    # Serialization ----------------------------------------------------------------------

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in cls.network_names:
            config[key] = keras.saving.deserialize_keras_object(config[key])
        return cls(**config)

    def get_compile_config(self):
        if not self.compiled:
            return {}
        config = {
            key: keras.saving.serialize_keras_object(getattr(self, key))
            for key in self.optimizer_names
        }
        config["jit_compile"] = self._jit_compile_setting
        config["steps_per_execution"] = self.steps_per_execution
        return config

    def compile_from_config(self, config):
        config = dict(config)
        for key in self.optimizer_names:
            config[key] = keras.saving.deserialize_keras_object(config[key])
        self.compile(**config)

    # Compilation ------------------------------------------------------------------------

    def _compile_step(self, jit_compile, run_eagerly):
        """Resolves `jit_compile`, sets which parts of the step XLA compiles (see `StepXLA`)
        and keeps the setting for `get_compile_config`; returns it."""
        jit_compile = resolve_jit_compile(self, jit_compile, run_eagerly)
        self._step_jit = bool(jit_compile) and not run_eagerly
        self._xla = StepXLA(self, self._step_jit)
        self._jit_compile_setting = jit_compile
        return jit_compile

    def _resolve_optimizers(self, given):
        """`{name: optimizer}` from `compile`'s arguments: `"auto"` gives `default_optimizer`,
        distinct instances are required, and under a float16 policy each is wrapped in a
        `keras.optimizers.LossScaleOptimizer` (as `keras.Model.compile` does)."""
        resolved = {
            name: resolve_optimizer(value, lambda name=name: self.default_optimizer(name), name)
            for name, value in given.items()
        }
        if len({id(optimizer) for optimizer in resolved.values()}) < len(resolved):
            count = {2: "two", 3: "three"}.get(len(given), str(len(given)))
            raise ValueError(f"{', '.join(given)} must be {count} distinct optimizers")
        float16 = any(layer.compute_dtype == "float16" for layer in self._flatten_layers())
        return {
            name: keras.optimizers.LossScaleOptimizer(optimizer)
            if float16 and not isinstance(optimizer, keras.optimizers.LossScaleOptimizer)
            else optimizer
            for name, optimizer in resolved.items()
        }

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        """Nothing to build: the trainers and their optimizers are built by `__init__` and
        `compile`. (Under a strategy Keras would build an unbuilt model from a data batch it
        reduces over the replicas, which fails for `(x, y)` batches under
        `MultiWorkerMirroredStrategy`.)"""

    # Random state in saved files --------------------------------------------------------

    def _layer_seed_generators(self):
        own = getattr(self, "seed_generator", None)
        found, seen = [], {id(own)}
        for layer in self._flatten_layers(include_self=False):
            for generator in getattr(layer, "_seed_generators", ()):
                if id(generator) not in seen:
                    seen.add(id(generator))
                    found.append(generator)
        return found

    def save_own_variables(self, store):
        """Saves the weights and the state of every `keras.random.SeedGenerator`.

        Keras saves no `SeedGenerator` state: without it a resumed run would redraw the latents
        (or noise) of its first epochs, and layers such as `Dropout` inside the networks would
        repeat their masks. The trainer's own `seed_generator` is stored under one key, those
        of the networks' layers in the order `_flatten_layers` visits them (fixed by the
        architecture).
        """
        super().save_own_variables(store)
        store[_SEED_STATE_KEY] = np.asarray(self.seed_generator.state.numpy())
        for i, generator in enumerate(self._layer_seed_generators()):
            store[_LAYER_SEED_STATE_KEY.format(i)] = np.asarray(generator.state.numpy())

    def load_own_variables(self, store):
        keys = list(store.keys())
        if _SEED_STATE_KEY in keys:
            self.seed_generator.state.assign(store[_SEED_STATE_KEY])
        # Files written before the layers' states were saved hold none: those stay as they are.
        for i, generator in enumerate(self._layer_seed_generators()):
            key = _LAYER_SEED_STATE_KEY.format(i)
            if key in keys:
                generator.state.assign(store[key])
        own = {
            k for k in keys if k == _SEED_STATE_KEY or k.startswith("layer_seed_generator_state_")
        }
        super().load_own_variables({k: store[k] for k in keys if k not in own})

    # Generation -------------------------------------------------------------------------

    # Reading data outside the step -------------------------------------------------------

    def _check_samples(self, x):
        """`x` as float32 numpy samples of this model's shape (see `check_samples`)."""
        return check_samples(x, self.sample_shape)

    def _traced(self, name, function, signature=None):
        """`function` traced once per model for any batch size (kept outside Keras's attribute
        tracking) on `signature`, by default one float32 batch of samples
        `[None, *sample_shape]`."""
        traced = self.__dict__.get(name)
        if traced is None:
            if signature is None:
                signature = [tf.TensorSpec([None, *self.sample_shape], tf.float32)]
            traced = tf.function(function, input_signature=signature)
            object.__setattr__(self, name, traced)
        return traced

    def _generate_function(self):
        """`_generate_batch` traced once per model for any number of samples: float32 latents
        `[None, latent_dim]` (and int32 labels `[None]` for a conditional model)."""
        latents = tf.TensorSpec([None, self.latent_dim], tf.float32)
        if self.conditional:
            labels = tf.TensorSpec([None], tf.int32)
            return self._traced("_generate_traced", self._generate_batch, [latents, labels])
        generate_batch = self._generate_batch
        return self._traced("_generate_traced", lambda z: generate_batch(z, None), [latents])

    def _map_batches(self, name, function, x, batch_size, empty):
        """`function` (traced once as `name`) over checked samples `x` in batches of
        `batch_size`; its outputs (a tensor or a tuple of them) as numpy arrays concatenated
        along the batch, `empty` (the same structure of numpy arrays) when `x` is empty."""
        x = self._check_samples(x)
        batch_size = sampling.check_positive_int("batch_size", batch_size)
        traced = self._traced(name, function)
        parts = [traced(x[i : i + batch_size]) for i in range(0, len(x), batch_size)]
        if not parts:
            return empty
        if isinstance(parts[0], tuple | list):
            return tuple(
                np.concatenate([np.asarray(p[i]) for p in parts]) for i in range(len(parts[0]))
            )
        return np.concatenate([np.asarray(p) for p in parts])

    def _draw_latents(self, num_samples, seed):
        """Latents of `generate` when none are given: N(0, I) by the sampling contract."""
        return sampling.draw_latents(num_samples, self.latent_dim, seed)

    def _generate_batch(self, latents, labels):
        """Samples `[batch, *sample_shape]` for latents (and labels); traced by `generate`."""
        raise NotImplementedError

    def generation_inputs(self, num_samples=None, latents=None, labels=None, seed=None):
        """`(latents, labels)` that `generate` would use for these arguments (see
        `kgan.sampling.generation_inputs`); labels are None for an unconditional model."""
        return sampling.generation_inputs(
            num_samples,
            latents,
            labels,
            seed,
            latent_dim=self.latent_dim,
            num_classes=self.num_classes if self.conditional else None,
            conditional=self.conditional,
            draw=self._draw_latents,
            who=type(self).__name__,
        )

    def generate(self, num_samples=None, latents=None, labels=None, seed=None, batch_size=256):
        """Generates samples in the data's range (images in [-1, 1]).

        Latents and labels follow the sampling contract of `kgan.sampling`: latents drawn with
        `numpy.random.default_rng(seed)` (from the model's prior), labels of a conditional
        model cycled `0, 1, ..., num_classes - 1, 0, ...` when omitted.

        Args:
            num_samples: how many samples; inferred from `latents` or `labels` when omitted.
            latents: `[n, latent_dim]` latents; drawn from the prior when omitted.
            labels: `[n]` int class labels of a conditional model, or one int for all.
            seed: int seed of the drawn latents, for reproducible samples.
            batch_size: samples per network call.

        Returns:
            A numpy array `[n, *sample_shape]` of float32.

        Example:
            >>> images = model.generate(16, seed=0)
        """
        latents, labels = self.generation_inputs(num_samples, latents, labels, seed)
        batch_size = sampling.check_positive_int("batch_size", batch_size)
        function = self._generate_function()
        outputs = []
        for start in range(0, latents.shape[0], batch_size):
            z = latents[start : start + batch_size]
            if labels is None:
                outputs.append(np.asarray(function(z)))
            else:
                outputs.append(np.asarray(function(z, labels[start : start + batch_size])))
        return np.concatenate(outputs, axis=0)
