"""Training on several devices or machines with `tf.distribute`.

`get_strategy(name)` makes the strategy; build and compile the trainer inside its scope, then
call `fit` as usual:

    strategy = kgan.distribute.get_strategy("mirrored")
    with strategy.scope():
        cgan = kgan.models.build_trainer("cgan", (28, 28, 1), num_classes=10)
        cgan.compile()
    cgan.fit(kgan.data.load("mnist_5k", batch_size=256), epochs=20)

The dataset's batch is the global batch: each of the `n` replicas gets `1/n` of it, and the
trainers' steps give the same update as one device on the whole batch. `ReplicaBatch` and
`apply_gradients` are the pieces of a step that make that hold: losses are weighted by the
replica's share of the global batch (Keras's optimizers sum the replicas' gradients), random
numbers are drawn for the global batch and each replica takes its rows, and logged values are
global-batch means. Two things stay per replica: batch normalization statistics (build the
networks with `synchronized_batch_norm=True` to share them) and the DiffAugment draws (each
replica folds its id into the seed).
"""

import json
import os

import keras
import tensorflow as tf
from keras import ops

STRATEGIES = ("default", "one_device", "mirrored", "multi_worker")


def get_strategy(name="default", devices=None):
    """Makes a `tf.distribute.Strategy` by name.

    Args:
        name: `"default"` (the current strategy: no distribution unless a scope is open),
            `"one_device"` (the first GPU, else the CPU, or `devices[0]`), `"mirrored"`
            (synchronous data parallelism over all local GPUs, or over `devices`; the CPU
            alone when there is no GPU) or `"multi_worker"` (synchronous data parallelism
            over the machines listed in the `TF_CONFIG` environment variable, every local
            GPU of each; make it before any other TensorFlow call of the process).
        devices: device names for `"one_device"` and `"mirrored"`, e.g.
            `["/gpu:0", "/gpu:1"]`.

    Returns:
        A `tf.distribute.Strategy`.

    Example:
        >>> strategy = kgan.distribute.get_strategy("mirrored")
        >>> with strategy.scope():
        ...     gan = kgan.models.build_trainer("gan", (28, 28, 1))
        ...     gan.compile()
    """
    if name not in STRATEGIES:
        raise ValueError(f"unknown strategy {name!r}; choose one of {list(STRATEGIES)}")
    if devices is not None and name not in ("one_device", "mirrored"):
        raise ValueError(
            f"devices applies to the 'one_device' and 'mirrored' strategies; {name!r} takes "
            "none (multi_worker uses every local GPU of each machine in TF_CONFIG)"
        )
    if devices is not None and (isinstance(devices, str) or not devices):
        raise ValueError(
            f"devices must be a non-empty list of names such as ['/gpu:0']; got {devices!r}"
        )
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "one_device":
        if devices is not None:
            if len(devices) != 1:
                raise ValueError(f"'one_device' takes one device; got {list(devices)}")
            return tf.distribute.OneDeviceStrategy(devices[0])
        device = "/gpu:0" if tf.config.list_logical_devices("GPU") else "/cpu:0"
        return tf.distribute.OneDeviceStrategy(device)
    if name == "mirrored":
        return tf.distribute.MirroredStrategy(devices)
    _check_tf_config()
    return tf.distribute.MultiWorkerMirroredStrategy()


def _check_tf_config():
    example = (
        'e.g. {"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
        '"task": {"type": "worker", "index": 0}}'
    )
    text = os.environ.get("TF_CONFIG")
    if not text:
        raise ValueError(
            "the 'multi_worker' strategy reads the cluster from the TF_CONFIG environment "
            f"variable, which is not set; set it on every machine, {example}, with this "
            "machine's own task index"
        )
    try:
        config = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"TF_CONFIG is not valid JSON ({error}); {example}") from None
    workers = config.get("cluster", {}).get("worker") if isinstance(config, dict) else None
    task = config.get("task", {}) if isinstance(config, dict) else {}
    if not workers or not isinstance(workers, list):
        raise ValueError(f"TF_CONFIG must list the workers under cluster.worker; {example}")
    if task.get("type") not in ("worker", "chief") or not isinstance(task.get("index"), int):
        raise ValueError(
            f"TF_CONFIG must name this machine's task, type 'worker' and its index; {example}"
        )
    if task["type"] == "worker" and not 0 <= task["index"] < len(workers):
        raise ValueError(
            f"TF_CONFIG's task index {task['index']} is outside the {len(workers)} workers"
        )


def num_replicas():
    """The number of replicas of the current strategy (1 outside any strategy)."""
    return tf.distribute.get_strategy().num_replicas_in_sync


class ReplicaBatch:
    """This replica's share of the global batch of a step.

    Under a strategy with `n` replicas the step runs once per replica on that replica's rows
    of the global batch. Made at the start of the step from the local batch size, this object
    gives what a distribution-correct step needs:

    - `scale(loss)`: the replica's batch-mean loss weighted by its share of the global batch,
      so that the sum of the replicas' gradients (Keras's optimizers all-reduce them with SUM)
      is the gradient of the global batch's mean loss;
    - `normal(shape, seed)` and `uniform(shape, seed)`: per-example random numbers, drawn for
      the whole global batch from the shared seed state and cut to this replica's rows, so the
      replicas draw different numbers and the step is the one a single device takes on the
      global batch;
    - `mean(values)`: global-batch means of per-replica batch means, for the logged metrics.

    Draws whose shape is the local batch take `replica_seed_generator` instead.

    Outside a strategy (one replica) all of these reduce to the plain operations. When the
    batch size is static (as TPUs need), the replicas must hold equal batches; otherwise the
    sizes are all-reduced, so uneven last batches are weighted correctly.

    Args:
        batch_size: the local batch size, an int or a scalar tensor.

    Example:
        >>> layout = kgan.distribute.ReplicaBatch(ops.shape(images)[0])
        >>> latents = layout.normal((latent_dim,), seed=seed_generator)  # [local, latent_dim]
        >>> scaled_loss = layout.scale(loss)
    """

    def __init__(self, batch_size):
        self.local_size = batch_size
        self.num_replicas = num_replicas()
        context = tf.distribute.get_replica_context()
        if self.num_replicas == 1 or context is None:
            self.replica_id, self.offset, self.global_size = 0, 0, batch_size
            self._context = None
            return
        self._context = context
        self.replica_id = context.replica_id_in_sync_group
        if isinstance(batch_size, int):
            self.offset = self.replica_id * batch_size
            self.global_size = batch_size * self.num_replicas
            return
        local = ops.cast(batch_size, "float32")
        sizes = context.all_reduce(
            tf.distribute.ReduceOp.SUM, ops.one_hot(self.replica_id, self.num_replicas) * local
        )  # [replicas]
        sizes = ops.cast(sizes, "int32")
        before = ops.arange(self.num_replicas) < self.replica_id
        self.offset = ops.sum(ops.where(before, sizes, 0))
        self.global_size = ops.sum(sizes)

    @property
    def distributed(self):
        """Whether the step runs on several replicas."""
        return self._context is not None

    def weight(self):
        """`local_size / global_size`, the replica's share of the global batch (a float32)."""
        if not self.distributed:
            return 1.0
        return ops.cast(self.local_size, "float32") / ops.cast(self.global_size, "float32")

    def scale(self, loss):
        """Weights a batch-mean loss by the replica's share of the global batch.

        Args:
            loss: a scalar, the mean over this replica's examples.

        Returns:
            The scalar whose gradient, summed over the replicas, is the gradient of the mean
            over the global batch.
        """
        if not self.distributed:
            return loss
        return loss * ops.cast(self.weight(), loss.dtype)

    def mean(self, values):
        """Global-batch means of per-replica batch means.

        Args:
            values: a list of scalars, each a mean over this replica's examples.

        Returns:
            A list of scalars, the same on every replica.
        """
        if not self.distributed:
            return list(values)
        stacked = ops.stack([ops.cast(v, "float32") for v in values])  # [values]
        # A replica with no rows (an uneven last batch) contributes nothing, not a NaN mean.
        weighted = ops.where(self.local_size > 0, stacked * self.weight(), 0.0)
        total = self._context.all_reduce(tf.distribute.ReduceOp.SUM, weighted)
        return [total[i] for i in range(len(values))]

    def _rows(self, draw):
        if not self.distributed:
            return draw
        start = [self.offset] + [0] * (len(draw.shape) - 1)
        size = [self.local_size] + list(draw.shape[1:])
        return ops.slice(draw, start, size)

    def normal(self, shape, seed):
        """Standard normal numbers `[local_size, *shape]` for this replica's rows.

        Args:
            shape: the per-example shape, a tuple of ints.
            seed: a `keras.random.SeedGenerator` (the same on every replica).
        """
        return self._rows(keras.random.normal((self.global_size, *shape), seed=seed))

    def uniform(self, shape, seed):
        """Uniform numbers in [0, 1), `[local_size, *shape]`, for this replica's rows.

        Args:
            shape: the per-example shape, a tuple of ints.
            seed: a `keras.random.SeedGenerator` (the same on every replica).
        """
        return self._rows(keras.random.uniform((self.global_size, *shape), seed=seed))


def replica_seed_generator(generator):
    """A seed generator for draws whose shape is the local batch, different on each replica.

    `generator` itself on one replica; under several, a view of it that advances it and folds
    the replica id into each seed it hands out (the state, the same on every replica, is the
    wrapped generator's, so saving and restoring it is unchanged).

    Args:
        generator: a `keras.random.SeedGenerator`.

    Returns:
        A `keras.random.SeedGenerator`.

    Example:
        >>> seed = kgan.distribute.replica_seed_generator(model.seed_generator)
        >>> images = kgan.augment.diff_augment(images, "translation", seed=seed)
    """
    if num_replicas() == 1:
        return generator
    context = tf.distribute.get_replica_context()
    if context is None:
        return generator
    return _ReplicaSeedGenerator(generator, context.replica_id_in_sync_group)


class _ReplicaSeedGenerator(keras.random.SeedGenerator):
    """A view of a seed generator that folds a replica id into its seeds.

    It shares the wrapped generator's state (nothing new is saved or restored) and passes
    wherever Keras's random functions take a `seed`.
    """

    def __init__(self, generator, replica_id):
        # No state of its own: `next` advances the wrapped generator.
        self.name = f"{generator.name}_replica"
        self.backend = generator.backend
        self._initial_seed = generator._initial_seed
        self._generator = generator
        self._replica_id = replica_id
        self.state = generator.state

    def next(self, ordered=True):
        seed = self._generator.next(ordered=ordered)
        folded = tf.random.experimental.stateless_fold_in(
            tf.cast(seed, "int64"), tf.cast(self._replica_id, "int64")
        )
        return tf.cast(folded, seed.dtype)


def apply_gradients(optimizer, grads, variables):
    """`optimizer.apply(grads, variables)`, with a loss-scale optimizer's skip agreed by all
    replicas.

    A `keras.optimizers.LossScaleOptimizer` skips a step whose gradients are not finite, but
    it checks each replica's own gradients before they are summed; when one replica overflows
    and another does not, they would disagree. Here every replica's gradients are made
    non-finite when any replica's are, so all skip together and halve the loss scale.

    Args:
        optimizer: a `keras.optimizers.Optimizer`.
        grads: the gradients, one per variable (None for none).
        variables: the variables.
    """
    if isinstance(optimizer, keras.optimizers.LossScaleOptimizer) and num_replicas() > 1:
        context = tf.distribute.get_replica_context()
        overflowed = ops.cast(ops.logical_not(optimizer.check_finite(grads)), "float32")
        anywhere = context.all_reduce(tf.distribute.ReduceOp.SUM, overflowed) > 0
        poison = ops.where(anywhere, float("nan"), 0.0)
        grads = [None if g is None else g + ops.cast(poison, g.dtype) for g in grads]
    optimizer.apply(grads, variables)


def step_logs(logs):
    """What a train or test step returns to Keras: `logs`, the scalars as they are, or under
    `MultiWorkerMirroredStrategy` across machines each of shape `[1]`.

    There Keras averages the replicas' logs along axis 0, which fails on scalars; the mean of
    the `[1]` values is again a scalar, so `fit` logs scalars either way.

    Args:
        logs: a dict of scalars.

    Returns:
        A dict with the same keys.
    """
    strategy = tf.distribute.get_strategy()
    across_machines = isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy) and (
        strategy.num_replicas_in_sync > len(strategy.extended.worker_devices)
    )
    if not across_machines:
        return logs
    return {name: ops.reshape(value, (1,)) for name, value in logs.items()}
