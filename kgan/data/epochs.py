"""Epoch-indexed shuffling: the order of epoch `e` is a function of `(seed, e)` alone.

A dataset from `kgan.data.load` holds an epoch counter. Each pass over the dataset reads it,
shuffles with the stateless seed `(seed, epoch)` and advances it by one, so a run resumed at
epoch `k` sees the same batches as an uninterrupted run, whether it passes
`load(..., initial_epoch=k)` or sets the counter with `set_epoch` (which
`kgan.callbacks.DataEpoch` does at the start of every Keras epoch).
"""

import numpy as np
import tensorflow as tf

# The attribute of a dataset from `load` that holds its epoch counter.
_COUNTER = "_kgan_epoch_counter"


def stream_seed(seed):
    """An int64 seed for the stateless shuffles; None draws one from numpy's global RNG, so
    `keras.utils.set_random_seed` still makes an unseeded dataset reproducible."""
    if seed is None:
        return int(np.random.randint(0, 2**62))
    return int(seed) % 2**63


def new_counter(initial_epoch):
    if (
        isinstance(initial_epoch, bool)
        or not isinstance(initial_epoch, (int, np.integer))
        or initial_epoch < 0
    ):
        raise ValueError(f"initial_epoch must be an int >= 0; got {initial_epoch!r}")
    with tf.init_scope(), tf.device("/cpu:0"):
        return tf.Variable(int(initial_epoch), dtype=tf.int64, trainable=False, name="epoch")


def _next_epoch(counter):
    """Reads the counter and advances it: the epoch index of the pass that starts."""
    return counter.assign_add(1) - 1


def plain(function):
    """`function` for `tf.data` without AutoGraph's source conversion: kgan's pipeline
    functions hold no Python control flow on tensors, and converting them was most of the
    time to a first batch."""
    return tf.autograph.experimental.do_not_convert(function)


def per_epoch(make_pass, seed, counter, cardinality=None, start=None):
    """A dataset whose every pass is `make_pass(seeds)`, `seeds` the int64 [2] tensor
    `(seed, epoch)` of the epoch that starts.

    Args:
        make_pass: a function of the pass's seeds (and of `start`'s result, when given) that
            returns the pass's `tf.data.Dataset`.
        seed: an int (see `stream_seed`).
        counter: the int64 epoch variable, read and advanced at the start of each pass.
        cardinality: the number of elements of every pass, if known; Keras reads it for its
            progress bar and the epoch's end (a `flat_map` hides it).
        start: a function of no arguments run at the start of each pass, before `make_pass`;
            its result is `make_pass`'s second argument.

    Returns:
        A `tf.data.Dataset`.
    """
    seed = tf.constant(seed, tf.int64)

    # The pass's changes of state (the counter, `start`) run in a map before the function
    # that builds the pass: stateful operations there upset tf.data's rewrites of the pass.
    def begin(_):
        seeds = tf.stack([seed, _next_epoch(counter)])
        return seeds if start is None else (seeds, start())

    ds = tf.data.Dataset.range(1).map(plain(begin)).flat_map(plain(make_pass))
    if cardinality is None or cardinality < 0:
        return ds
    return ds.apply(tf.data.experimental.assert_cardinality(cardinality))


def permutation(num_examples, seeds):
    """`0 .. num_examples - 1` in the order of the pass seeded by `seeds` (int64 [2]), as an
    int64 tensor [num_examples]."""
    return tf.random.experimental.stateless_shuffle(
        tf.range(num_examples, dtype=tf.int64), seed=seeds
    )


def seeded_shuffle(dataset, buffer_size, seeds):
    """`dataset` through a shuffle buffer seeded by the int64 [2] tensor `seeds`.

    `Dataset.shuffle` takes only Python seeds; the op takes a pass's seeds as tensors.
    """
    specs = tf.nest.flatten(dataset.element_spec)
    op_seeds = tf.random.stateless_uniform(
        [2], seed=seeds, minval=0, maxval=2**62, dtype=tf.int64
    )  # [2]
    variant = tf.raw_ops.ShuffleDatasetV3(
        input_dataset=tf.data.experimental.to_variant(dataset),
        buffer_size=tf.constant(buffer_size, tf.int64),
        seed=op_seeds[0],
        seed2=op_seeds[1],
        seed_generator=tf.raw_ops.DummySeedGenerator(),
        output_types=[spec.dtype for spec in specs],
        output_shapes=[spec.shape for spec in specs],
        reshuffle_each_iteration=False,
    )
    return tf.data.experimental.from_variant(variant, dataset.element_spec)


def shuffled_stream(dataset, buffer_size, seed, counter):
    """`dataset`'s examples through a shuffle buffer seeded by `(seed, epoch)` on each pass.

    `dataset` must give the same sequence on every pass (a fixed file order), so that the
    shuffled order of an epoch depends on its seed alone.

    Args:
        dataset: the unshuffled, unbatched examples.
        buffer_size: the shuffle buffer's size.
        seed: an int (see `stream_seed`).
        counter: the int64 epoch variable.

    Returns:
        An unbatched `tf.data.Dataset`.
    """
    return per_epoch(
        lambda seeds: seeded_shuffle(dataset, buffer_size, seeds),
        seed,
        counter,
        int(dataset.cardinality()),
    )


def attach_counter(dataset, counter):
    setattr(dataset, _COUNTER, counter)
    return dataset


def counter_of(dataset):
    """The epoch counter a dataset from `load` holds, or None."""
    return getattr(dataset, _COUNTER, None)


def set_epoch(dataset, epoch):
    """Makes the next pass over a dataset from `kgan.data.load` yield the order of `epoch`.

    Passes after it continue with `epoch + 1`, `epoch + 2`, ... A dataset that is not shuffled
    accepts the call and keeps its fixed order.

    Args:
        dataset: the `tf.data.Dataset` returned by `kgan.data.load` (not a dataset derived
            from it with `map`, `take`, ...).
        epoch: an int >= 0, the epoch index (Keras's `epoch` argument of `on_epoch_begin`).

    Example:
        >>> train = kgan.data.load("ring8", batch_size=256, seed=0)
        >>> kgan.data.set_epoch(train, 3)  # the next pass is epoch 3 of seed 0
    """
    counter = counter_of(dataset)
    if counter is None:
        raise ValueError(
            "this dataset holds no epoch counter: pass the dataset returned by "
            "kgan.data.load itself, not one derived from it with map, take or batch"
        )
    if isinstance(epoch, bool) or not isinstance(epoch, (int, np.integer)) or epoch < 0:
        raise ValueError(f"epoch must be an int >= 0; got {epoch!r}")
    counter.assign(int(epoch))


def get_epoch(dataset):
    """The epoch index that the next pass over a dataset from `kgan.data.load` yields.

    Args:
        dataset: the `tf.data.Dataset` returned by `kgan.data.load`.

    Returns:
        An int.
    """
    counter = counter_of(dataset)
    if counter is None:
        raise ValueError(
            "this dataset holds no epoch counter: pass the dataset returned by kgan.data.load"
        )
    return int(counter.numpy())
