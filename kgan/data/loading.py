"""The public entry points: `load`, `load_arrays`, `info` and `names`."""

import dataclasses
import os
import warnings

import numpy as np
import tensorflow as tf

from kgan.data.builtin import (
    IMAGE_NAMES,
    MIXTURE_DEFAULT_COUNTS,
    MIXTURE_NAMES,
    STACKED_COUNTS,
    digits_raw,
    mixture_arrays,
    mixture_spec,
    mnist_5k_raw,
    split_indices,
    stacked_mnist_raw,
    unknown_dataset_error,
)
from kgan.data.epochs import (
    attach_counter,
    counter_of,
    new_counter,
    per_epoch,
    permutation,
    plain,
    stream_seed,
)
from kgan.data.files import (
    array_bytes,
    evenly_spaced_subset,
    images_to_unit,
    lazy_arrays,
    npz_raw,
    npz_splits,
    resize_images,
    scan,
    to_unit,
    unit_range,
)
from kgan.data.folders import (
    IMAGE_EXTENSIONS,
    decode_file,
    folder_files,
    folder_shape,
    mixed_sizes_error,
    parse_image_size,
    pixels_to_unit,
)
from kgan.data.records import is_pack, parse_batch, read_manifest, records_dataset, shard_plan
from kgan.data.tfds_source import tfds_builder, tfds_dataset
from kgan.sampling import check_positive_int

# `cache="auto"` reads a file source into memory when its float32 images take at most this
# many bytes (5,461 images of 64x64x3, 85,598 of 28x28x1), and streams it from disk beyond.
MEMORY_BUDGET = 256 * 2**20
_SPLITS = ("train", "test", "all")
_PATH_EXTENSIONS = (".npz", ".npy", ".csv", ".txt", ".tfrecord") + IMAGE_EXTENSIONS


@dataclasses.dataclass(frozen=True)
class DatasetInfo:
    """What a dataset holds, as returned by `kgan.data.info`.

    Args:
        name: The name or path the dataset was asked for by.
        shape: Shape of one example, e.g. `(28, 28, 1)` for images or `(2,)` for vectors.
            Image folders with mixed sizes report `(None, None, channels)`.
        num_classes: Number of classes, or None for unlabelled data.
        kind: `"image"` or `"vector"`.
        num_examples: Examples per split, for the splits whose size is known.
    """

    name: str
    shape: tuple
    num_classes: int | None
    kind: str
    num_examples: dict


def info(name_or_path, data_dir=None) -> DatasetInfo:
    """Describes a dataset without building a pipeline and without reading every file.

    Built-in and TFDS names are described from metadata (TFDS data is not downloaded); image
    folders from their file list and the headers of up to 1,000 evenly spaced images; TFRecord
    packs from their manifest; `.npz` / `.npy` files from their arrays, memory-mapped where
    they are not compressed.

    Args:
        name_or_path: A built-in name (see `names()`), a TFDS name, an `.npz` or `.npy` path,
            an image folder or a TFRecord pack folder.
        data_dir: TFDS data directory; ignored for other sources.

    Returns:
        A `DatasetInfo`.

    Example:
        >>> kgan.data.info("ring8").shape
        (2,)
    """
    source, target = _resolve(name_or_path)
    if source == "mnist_5k":
        return DatasetInfo(target, (28, 28, 1), 10, "image", {"train": 4000, "test": 1000})
    if source == "stacked_mnist_5k":
        return DatasetInfo(target, (28, 28, 3), 1000, "image", dict(STACKED_COUNTS))
    if source == "digits":
        counts = {s: len(split_indices(digits_raw()[1], s)) for s in ("train", "test")}
        return DatasetInfo(target, (8, 8, 1), 10, "image", counts)
    if source == "mixture":
        k = mixture_spec(target).num_modes
        return DatasetInfo(target, (2,), k, "vector", dict(MIXTURE_DEFAULT_COUNTS))
    if source == "tfds":
        builder, image_key, label_key = tfds_builder(target, data_dir)
        features = builder.info.features
        counts = {k: int(v.num_examples) for k, v in builder.info.splits.items()}
        num_classes = getattr(features[label_key], "num_classes", None)
        return DatasetInfo(target, tuple(features[image_key].shape), num_classes, "image", counts)
    if source == "pack":
        manifest = read_manifest(target)
        return DatasetInfo(
            str(name_or_path),
            tuple(manifest["shape"]),
            manifest["num_classes"],
            "image",
            {"train": manifest["num_examples"]},
        )
    if source == "folder":
        files, labels = folder_files(target)
        shape, _ = folder_shape(target, files, None)
        num_classes = None if labels is None else int(labels.max()) + 1
        return DatasetInfo(str(name_or_path), shape, num_classes, "image", {"train": len(files)})
    counts, num_classes = {}, None
    for split in npz_splits(target):
        x, y = lazy_arrays(target, split) or npz_raw(target, split)
        counts[split] = len(x)
        if y is not None:
            num_classes = max(num_classes or 0, int(y.max()) + 1)
    shape = x.shape[1:]
    kind = "vector" if x.ndim == 2 else "image"
    return DatasetInfo(str(name_or_path), shape, num_classes, kind, counts)


def load_arrays(
    name_or_path,
    split="train",
    image_size=None,
    data_dir=None,
    value_range=None,
    num_examples=None,
):
    """Loads a whole split into memory as numpy arrays.

    Args:
        name_or_path: A built-in name (see `names()`), a TFDS name such as `"cifar10"`, a path
            to an `.npz` file (arrays `x` and optional `y`, or `x_train`/`y_train`/`x_test`/
            `y_test`) or an `.npy` file (unlabelled `x`), an image folder (class subfolders,
            or a flat folder without labels) or a TFRecord pack (`kgan data pack`).
        split: `"train"`, `"test"` or `"all"` (TFDS names accept any TFDS split string).
        image_size: Optional `(height, width)` (or one int) to resize images to (bilinear).
        data_dir: TFDS data directory; ignored for other sources.
        value_range: `(lo, hi)` range of the images in an `.npz` file, mapped linearly to
            [-1, 1]. Default: (0, 255) for integer images, (-1, 1) for float images.
        num_examples: Keep this many examples. Mixtures draw this many points (default
            100,000 train / 10,000 test) and `stacked_mnist_5k` this many triples of the
            split's digits (default 20,000 train / 2,000 test; a smaller number gives the
            first examples of the default split); TFDS names and packs take the first ones
            (a pack's order is shuffled when it is written); other sources keep an evenly
            spaced subset, so class-sorted data keeps every class.

    Returns:
        `(x, y)`: x float32 images [N, H, W, C] in [-1, 1] (or float32 vectors [N, D]), y int32
        labels [N] or None for unlabelled data.

    Example:
        >>> x, y = kgan.data.load_arrays("mnist_5k", split="test")
        >>> x.shape, y.shape
        ((1000, 28, 28, 1), (1000,))
    """
    source, target = _resolve(name_or_path)
    image_size, num_examples = _check_common(source, split, image_size, num_examples, value_range)
    if source == "tfds":
        ds = tfds_dataset(
            target, split, data_dir, image_size, num_examples, False, None, False, None
        )
        parts = list(ds.batch(1024).as_numpy_iterator())
        if not parts:
            raise ValueError(f"TFDS dataset {target!r} split {split!r} holds no examples")
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
    if source == "mixture":
        return mixture_arrays(target, split, num_examples)
    if source in ("folder", "pack"):
        return _read_whole(_file_stream(source, target, split, image_size, num_examples, None))
    if source == "npz":
        x, y = npz_raw(target, split)
        if x.ndim == 2:
            _check_vector_options(target, x, image_size, value_range)
            x = x.astype(np.float32)
        else:
            x = images_to_unit(x, value_range, target)
    elif source == "stacked_mnist_5k":
        # Like a mixture's points, the triples are drawn to order: num_examples per split.
        splits = ("train", "test") if split == "all" else (split,)
        parts = [stacked_mnist_raw(s, num_examples) for s in splits]
        x = np.concatenate([p[0] for p in parts]) / np.float32(127.5) - 1
        y = np.concatenate([p[1] for p in parts])
    else:
        x, y = mnist_5k_raw() if source == "mnist_5k" else digits_raw()
        idx = (
            np.concatenate([split_indices(y, s) for s in ("train", "test")])
            if (split == "all")
            else split_indices(y, split)
        )
        x, y = x[idx], y[idx]
        x = x / np.float32(127.5) - 1 if source == "mnist_5k" else x / np.float32(8) - 1
    if source != "stacked_mnist_5k":
        x, y = evenly_spaced_subset(x, y, num_examples)
    if image_size is not None:
        x = resize_images(x, image_size)
    return x.astype(np.float32, copy=False), y


def load(
    name_or_path,
    split="train",
    batch_size=64,
    shuffle=True,
    seed=None,
    drop_remainder=False,
    image_size=None,
    data_dir=None,
    value_range=None,
    num_examples=None,
    cache="auto",
    initial_epoch=0,
    shard=None,
) -> tf.data.Dataset:
    """Builds a batched, shuffled and prefetched `tf.data.Dataset`.

    Labelled sources yield `(images, labels)`: float32 [batch, H, W, C] in [-1, 1] (float32
    [batch, D] for vectors) and int32 [batch]. Unlabelled sources (an `.npz` without `y`, an
    `.npy`, a flat image folder) yield the images tensor alone.

    Files are read into memory or streamed from disk (`cache`). Streamed, an image folder is
    read a file at a time (parallel decoding, `tf.io.decode_image`), an `.npy` or uncompressed
    `.npz` a batch at a time through a memory map, and a TFRecord pack a record at a time:
    memory stays flat in the size of the data. Image folders and arrays give the same batches
    either way; a pack's streamed order comes from its shuffled shards and a shuffle buffer
    of about 64 MiB, also a function of `(seed, epoch)`.

    Args:
        name_or_path: A built-in name, TFDS name, `.npz` / `.npy` path, image folder or
            TFRecord pack; see `load_arrays`.
        split: `"train"`, `"test"` or `"all"` (TFDS names accept any TFDS split string).
        batch_size: Examples per batch, > 0 (per shard with `shard`).
        shuffle: Reshuffle the examples every epoch (every pass over the dataset).
        seed: Shuffle seed. The order of epoch `e` is a function of `(seed, e)` alone, so
            the same seed gives the same sequence of epochs, and a run resumed at epoch `k`
            sees the batches an uninterrupted run sees. None draws a seed from numpy's
            global RNG (so `keras.utils.set_random_seed` fixes it too).
        drop_remainder: Drop the last, smaller batch.
        image_size: Optional `(height, width)` to resize images to.
        data_dir: TFDS data directory; ignored for other sources.
        value_range: `(lo, hi)` of the images in an `.npz` / `.npy` file; see `load_arrays`.
        num_examples: Keep this many examples; see `load_arrays`.
        cache: `"auto"` (default): files whose float32 images take at most `MEMORY_BUDGET`
            bytes (256 MiB) are read into memory, larger ones are streamed; `True` reads
            into memory whatever the size; `False` streams (a compressed `.npz` cannot be
            streamed: save it with `np.savez`). TFDS names cache their decoded examples in
            memory unless `cache=False`. Built-in names are always in memory.
        initial_epoch: The epoch index of the first pass; each pass advances it by one.
            `kgan.data.set_epoch` (or the `kgan.callbacks.DataEpoch` callback) sets it later.
        shard: `(index, count)` or a `tf.distribute.InputContext`: this reader's share of
            every epoch when `count` readers share the data (one per worker; see
            `load_distributed`). The readers draw the same permutation of each epoch and take
            disjoint parts of it: image folders and arrays, the reader's `batch_size` rows of
            every global batch of `count * batch_size` (so the readers' batches together are
            the batches of one reader with the global batch), and every `count`-th example of
            the last, partial one; packs, every `count`-th shard file when there are at least
            `count`, else every `count`-th record. Each yields as many examples as the
            smallest share, so that all take the same number of steps (at most `count - 1`
            examples of an epoch go unread).

    Returns:
        A `tf.data.Dataset`. It holds its epoch counter, which `kgan.data.set_epoch` and
        `kgan.data.get_epoch` reach; datasets derived from it with `map`, `take`, ... shuffle
        the same way but do not carry the counter.

    Example:
        >>> ds = kgan.data.load("ring8", batch_size=256, seed=0)
        >>> points, modes = next(iter(ds))  # [256, 2] float32, [256] int32
    """
    if (
        isinstance(batch_size, bool)
        or not isinstance(batch_size, (int, np.integer))
        or (batch_size <= 0)
    ):
        raise ValueError(f"batch_size must be a positive int; got {batch_size!r}")
    if seed is not None and not isinstance(seed, (int, np.integer)):
        raise ValueError(f"seed must be an int or None; got {seed!r}")
    if cache not in ("auto", True, False):
        raise ValueError(f"cache must be 'auto', True or False; got {cache!r}")
    shard = _check_shard(shard)
    counter = new_counter(initial_epoch)
    source, target = _resolve(name_or_path)
    seed = stream_seed(seed) if shuffle else None
    image_size, num_examples = _check_common(source, split, image_size, num_examples, value_range)
    if source == "tfds":
        ds = tfds_dataset(
            target,
            split,
            data_dir,
            image_size,
            num_examples,
            shuffle,
            seed,
            cache is not False,
            counter,
            shard,
        )
        ds = ds.batch(batch_size, drop_remainder=drop_remainder).prefetch(tf.data.AUTOTUNE)
        return attach_counter(ds, counter)
    stream = None
    if source in ("folder", "pack", "npz"):
        stream = _file_stream(source, target, split, image_size, num_examples, value_range)
        if cache is True or (cache == "auto" and stream.nbytes <= MEMORY_BUDGET):
            # A folder or pack read whole through the stream already listed; arrays by
            # load_arrays below.
            stream = None if source == "npz" else _ArrayStream(*_read_whole(stream))
        elif not stream.open():
            if cache is False:
                raise ValueError(
                    f"{target!r} is a compressed .npz, which cannot be read a batch at a time; "
                    "save it with np.savez (uncompressed), or pass cache=True"
                )
            warnings.warn(
                f"{target!r} is a compressed .npz ({stream.nbytes / 2**20:.0f} MiB as float32), "
                "read whole into memory; save it with np.savez (uncompressed) to stream it",
                stacklevel=2,
            )
            stream = None
    if stream is None:
        stream = _ArrayStream(
            *load_arrays(name_or_path, split, image_size, data_dir, value_range, num_examples)
        )
    if drop_remainder and batch_size > stream.per_reader(shard, batch_size):
        raise ValueError(
            f"batch_size={batch_size} exceeds the {stream.per_reader(shard, batch_size)} examples"
            f"{' of this shard' if shard else ''}, so drop_remainder=True would give no "
            "batch; lower batch_size"
        )
    ds = stream.dataset(shuffle, seed, counter, shard, batch_size, drop_remainder)
    return attach_counter(ds.prefetch(tf.data.AUTOTUNE), counter)


def load_distributed(strategy, name_or_path, batch_size=64, **kwargs):
    """The dataset of `load` for `fit` under `strategy`, each worker reading its own share.

    Under a `MultiWorkerMirroredStrategy`, each worker builds its pipeline with
    `shard=(worker, workers)` and the per-replica batch, through
    `strategy.distribute_datasets_from_function`: a worker reads and decodes only its share
    of the files, and together the workers see every example once per epoch. Under other
    strategies (one machine) it is `load(..., batch_size=batch_size)`, which Keras splits
    over the local replicas.

    Args:
        strategy: a `tf.distribute.Strategy`.
        name_or_path: see `load`.
        batch_size: the global batch: examples per step over all replicas.
        **kwargs: the other arguments of `load` (not `shard`).

    Returns:
        A dataset for `model.fit`; `kgan.data.set_epoch` and `kgan.callbacks.DataEpoch`
        reach its epoch counter.

    Example:
        >>> strategy = kgan.distribute.get_strategy("multi_worker")
        >>> train = kgan.data.load_distributed(strategy, "faces", batch_size=256, seed=0)
    """
    if "shard" in kwargs:
        raise ValueError("load_distributed decides each worker's shard; do not pass shard")
    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return load(name_or_path, batch_size=batch_size, **kwargs)
    made = []

    def dataset_fn(context):
        made.append(
            load(
                name_or_path,
                batch_size=context.get_per_replica_batch_size(batch_size),
                shard=context,
                **kwargs,
            )
        )
        return made[-1]

    distributed = strategy.distribute_datasets_from_function(dataset_fn)
    return attach_counter(distributed, counter_of(made[0]))


# Sources read by index: arrays in memory, memory-mapped arrays and image files; and packs.


class _ArrayStream:
    """Examples held in memory as numpy arrays."""

    def __init__(self, x, y):
        self.x, self.y = x, y
        self.num_examples = len(x)
        self.labels_known = y is not None

    def open(self):
        """Prepares the stream for reading; False when the source cannot be streamed."""
        return True

    def order(self, seeds, shard, batch_size):
        """This reader's example indices for one pass, int64 [m]: the permutation seeded by
        `seeds` (None: in order); under `shard=(index, count)`, rows `index * batch_size` to
        `(index + 1) * batch_size` of every global batch of `count * batch_size` of it, and
        every `count`-th of the last, partial one (as many as the smallest share). The
        readers' batches, side by side, are the batches of one reader with the global batch
        size."""
        n = self.num_examples
        order = tf.range(n, dtype=tf.int64) if seeds is None else permutation(n, seeds)
        if shard is None or shard[1] == 1:
            return order
        index, count = shard
        full = (n // (batch_size * count)) * batch_size * count
        own = tf.reshape(order[:full], [-1, count, batch_size])[:, index]  # [batches, batch]
        rest = order[full:][index::count][: (n - full) // count]
        return tf.concat([tf.reshape(own, [-1]), rest], 0)

    def per_reader(self, shard, batch_size):
        """The examples a reader yields per pass (see `order`)."""
        n = self.num_examples
        if shard is None or shard[1] == 1:
            return n
        width = batch_size * shard[1]
        return (n // width) * batch_size + (n % width) // shard[1]

    def elements(self, order):
        """The unbatched elements `batches` reads, for the indices `order`."""
        return tf.data.Dataset.from_tensor_slices(order)

    def examples(self, shuffle, seed, counter, shard, batch_size):
        """This reader's unbatched elements, one pass per iteration, in the order of its
        epoch."""

        def one_pass(seeds):
            return self.elements(self.order(seeds, shard, batch_size))

        count = self.per_reader(shard, batch_size)
        if not shuffle:
            return one_pass(None).apply(tf.data.experimental.assert_cardinality(count))
        return per_epoch(one_pass, seed, counter, count)

    def dataset(self, shuffle, seed, counter, shard, batch_size, drop_remainder):
        """This reader's batches, one pass per iteration (see `load`)."""
        examples = self.examples(shuffle, seed, counter, shard, batch_size)
        return self.batches(examples, batch_size, drop_remainder)

    def batches(self, indices, batch_size, drop_remainder):
        # Gather whole batches: the permutation holds ints, not images.
        x_t = tf.constant(self.x)
        ds = indices.batch(batch_size, drop_remainder=drop_remainder)
        if self.y is None:
            return ds.map(plain(lambda i: tf.gather(x_t, i)))
        y_t = tf.constant(self.y)
        return ds.map(plain(lambda i: (tf.gather(x_t, i), tf.gather(y_t, i))))


class _FolderStream(_ArrayStream):
    """Image files read and decoded as the batches are made.

    Each file is decoded with the checks that name a bad file (`decode_file`) until one pass
    of this dataset has decoded every file; later passes decode without them (TensorFlow
    still refuses a bad file, without its name), which reads about a tenth faster. A reader
    of a share (`shard`) does not read every file in a pass, so it checks every pass.
    """

    def __init__(self, folder, image_size, num_examples):
        files, labels = folder_files(folder)
        self.shape, sizes = folder_shape(folder, files, image_size)
        if self.shape[0] is None:
            raise mixed_sizes_error(folder, sizes)
        files, self.y = evenly_spaced_subset(np.asarray(files), labels, num_examples)
        self.files, self.image_size = files, image_size
        self.num_examples, self.labels_known = len(files), self.y is not None
        self.nbytes = 4 * len(files) * int(np.prod(self.shape))
        # Made here, eagerly: the traced pass captures the file list instead of embedding a
        # constant of every path in its graph.
        self.paths_t = tf.constant(files)
        self.labels_t = None if self.y is None else tf.constant(self.y)
        with tf.init_scope(), tf.device("/cpu:0"):
            # Files decoded with the checks in the current pass, and whether a pass decoded
            # them all.
            self.decoded = tf.Variable(0, dtype=tf.int64, trainable=False, name="decoded")
            self.verified = tf.Variable(False, trainable=False, name="verified")

    def dataset(self, shuffle, seed, counter, shard, batch_size, drop_remainder):
        def one_pass(seeds, verified):
            order = self.order(seeds, shard, batch_size)
            return self.decoded_pass(order, verified, batch_size, drop_remainder)

        count = self.per_reader(shard, batch_size)
        batches = count // batch_size if drop_remainder else -(-count // batch_size)
        if shuffle:
            ds = per_epoch(one_pass, seed, counter, start=self.start_pass)
        else:  # a pass a time too, so that a pass after a complete one skips the checks
            ds = tf.data.Dataset.range(1).map(plain(lambda _: self.start_pass()))
            ds = ds.flat_map(plain(lambda verified: one_pass(None, verified)))
        return ds.apply(tf.data.experimental.assert_cardinality(batches))

    def start_pass(self):
        """Whether the files are verified, at the start of a pass: a file is read at most
        once a pass, so a pass that decoded as many files as there are decoded each of them
        and found none bad (a reader of a share never does)."""
        done = self.verified.assign(
            tf.logical_or(self.verified, tf.equal(self.decoded, self.num_examples))
        )
        with tf.control_dependencies([done]):
            restart = self.decoded.assign(0)
        with tf.control_dependencies([restart]):
            return tf.cast(self.verified.read_value(), tf.int64)

    def decoded_pass(self, order, verified, batch_size, drop_remainder):
        """The batches of the files at `order`, decoded in parallel, in order; checked unless
        `verified` (int64 1). Batched within the pass: a pass that hands over batches rather
        than images reads about a tenth faster."""
        # The pass's paths (and labels) gathered at once: no gather per image.
        paths = tf.gather(self.paths_t, order)
        if self.labels_t is None:
            files = tf.data.Dataset.from_tensor_slices(paths)
        else:
            files = tf.data.Dataset.from_tensor_slices((paths, tf.gather(self.labels_t, order)))

        def scale(pixels, *labels):  # per batch: one op for 64 images
            return (pixels_to_unit(pixels), *labels) if labels else pixels_to_unit(pixels)

        def read(checked):
            def one(path, *labels):
                image = decode_file(path, self.shape, self.image_size, checked=checked)
                if checked:
                    with tf.control_dependencies([image]):
                        counted = self.decoded.assign_add(1)
                    with tf.control_dependencies([counted]):
                        image = tf.identity(image)
                return (image, *labels) if labels else image

            ds = files.map(plain(one), num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
            ds = ds.batch(batch_size, drop_remainder=drop_remainder)
            # In the batching thread: a parallel map of one op a batch costs more in handing
            # batches between threads than it saves.
            return ds.map(plain(scale))

        # Only the chosen pipeline is read (a parallel map starts working on its first read).
        return tf.data.Dataset.choose_from_datasets(
            [read(True), read(False)], tf.data.Dataset.from_tensors(verified).repeat()
        )


class _MemmapStream(_ArrayStream):
    """Rows of a memory-mapped `.npy` / `.npz` array, read a batch at a time."""

    def __init__(self, path, split, image_size, num_examples, value_range):
        self.path, self.split, self.image_size = path, split, image_size
        self.num_examples_arg, self.value_range = num_examples, value_range
        self.nbytes = array_bytes(path, split)  # the array is mapped and checked by open

    def open(self):
        """Maps the array and checks it; False when it cannot be mapped (compressed)."""
        lazy = lazy_arrays(self.path, self.split)
        if lazy is None:
            return False
        x, self.y = lazy
        rows, self.y = evenly_spaced_subset(np.arange(len(x)), self.y, self.num_examples_arg)
        self.x, self.rows = x, rows
        self.num_examples, self.labels_known = len(rows), self.y is not None
        if x.ndim == 2:
            _check_vector_options(self.path, x, self.image_size, self.value_range)
            self.range = None
        else:
            _, low, high = scan(x)
            self.range = unit_range(low, high, x.dtype, self.value_range, self.path)
        return True

    def batches(self, indices, batch_size, drop_remainder):
        rows_t = tf.constant(self.rows)
        y_t = None if self.y is None else tf.constant(self.y)
        x, dtype = self.x, tf.as_dtype(self.x.dtype)

        def gather(positions):  # numpy: read the rows in file order, return them in ours
            order = np.argsort(positions, kind="stable")
            out = np.empty((len(positions), *x.shape[1:]), x.dtype)
            out[order] = x[positions[order]]
            return out

        def read(i):
            batch = tf.numpy_function(gather, [tf.gather(rows_t, i)], dtype, stateful=False)
            batch = tf.ensure_shape(batch, [None, *x.shape[1:]])
            if self.range is None:
                batch = tf.cast(batch, tf.float32)
            else:
                batch = to_unit(batch, *self.range)
                if self.image_size is not None:
                    batch = tf.clip_by_value(
                        tf.image.resize(batch, self.image_size, antialias=True), -1.0, 1.0
                    )
            return batch if y_t is None else (batch, tf.gather(y_t, i))

        ds = indices.batch(batch_size, drop_remainder=drop_remainder)
        return ds.map(plain(read), num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)


class _PackStream:
    """A TFRecord pack, read a record at a time (see `kgan.data.records`)."""

    def __init__(self, path, image_size, num_examples):
        self.path, self.image_size, self.num_examples_arg = path, image_size, num_examples
        self.manifest = read_manifest(path)
        total = self.manifest["num_examples"]
        if num_examples is not None and num_examples > total:
            raise ValueError(
                f"num_examples={num_examples} but the pack has only {total} examples; lower "
                "num_examples or leave it as None"
            )
        self.num_examples = num_examples or total
        self.labels_known = self.manifest["num_classes"] is not None
        height, width, channels = self.manifest["shape"]
        if image_size is not None:
            height, width = image_size
        self.nbytes = 4 * self.num_examples * height * width * channels

    def open(self):
        return True

    def per_reader(self, shard, batch_size):
        return shard_plan(self.manifest, self.num_examples_arg, shard)[3]

    def examples(self, shuffle, seed, counter, shard, batch_size):
        return records_dataset(
            self.path, self.manifest, shuffle, seed, counter, self.num_examples_arg, shard
        )

    dataset = _ArrayStream.dataset

    def batches(self, records, batch_size, drop_remainder):
        ds = records.batch(batch_size, drop_remainder=drop_remainder)
        return ds.map(
            plain(lambda serialized: parse_batch(serialized, self.manifest, self.image_size)),
            num_parallel_calls=tf.data.AUTOTUNE,
            deterministic=True,
        )


def _read_whole(stream):
    """`(x, y)`: every example of a folder or pack stream, in its order, as numpy arrays."""
    ds = stream.dataset(False, None, None, None, 256, False)
    parts = list(ds.as_numpy_iterator())
    if stream.labels_known:
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
    return np.concatenate(parts), None


def _file_stream(source, target, split, image_size, num_examples, value_range):
    if source in ("folder", "pack") and split == "test":
        raise ValueError(
            f"{'image folder' if source == 'folder' else 'pack'} {target!r} has no test split; "
            "use split='train' (or 'all'), or keep test images in a separate folder"
        )
    if source == "folder":
        return _FolderStream(target, image_size, num_examples)
    if source == "pack":
        return _PackStream(target, image_size, num_examples)
    return _MemmapStream(target, split, image_size, num_examples, value_range)


def _check_vector_options(path, x, image_size, value_range):
    if image_size is not None or value_range is not None:
        raise ValueError(
            f"{path!r} holds vectors {x.shape}; image_size and "
            "value_range apply only to images, leave them as None"
        )


def _check_shard(shard):
    if shard is None:
        return None
    if isinstance(shard, tf.distribute.InputContext):
        return (shard.input_pipeline_id, shard.num_input_pipelines)
    if (
        not isinstance(shard, (tuple, list))
        or len(shard) != 2
        or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in shard)
        or not 0 <= shard[0] < shard[1]
    ):
        raise ValueError(
            "shard must be (index, count) with 0 <= index < count, or a "
            f"tf.distribute.InputContext; got {shard!r}"
        )
    return (int(shard[0]), int(shard[1]))


# Resolution and argument checks.


def _resolve(name_or_path):
    """Returns (source, target): source is a built-in name, mixture, npz, folder or tfds."""
    if isinstance(name_or_path, os.PathLike):
        text, is_path = os.fspath(name_or_path), True
    elif isinstance(name_or_path, str):
        text, is_path = name_or_path, False
    else:
        raise TypeError(
            "name_or_path must be a dataset name or a path (str or os.PathLike); "
            f"got {type(name_or_path).__name__}"
        )
    if not is_path and text in IMAGE_NAMES:
        return text, text
    if not is_path and text in MIXTURE_NAMES:
        return "mixture", text
    path = os.path.expanduser(text)
    if os.path.isdir(path):
        return ("pack" if is_pack(path) else "folder"), path
    if os.path.isfile(path):
        if path.lower().endswith((".npz", ".npy")):
            return "npz", path
        raise ValueError(
            f"cannot read {text!r}: files must be .npz (array x, optional y) or .npy (array "
            "x); put images in a folder and pass the folder, or pass a pack's folder"
        )
    looks_like_path = text.startswith((".", "/", "~", "\\")) or text.lower().endswith(
        _PATH_EXTENSIONS
    )
    if is_path or looks_like_path or not text:
        raise unknown_dataset_error(text)
    return "tfds", text


def _check_common(source, split, image_size, num_examples, value_range):
    if source != "tfds" and split not in _SPLITS:
        raise ValueError(f"unknown split {split!r}; valid splits are {_SPLITS}")
    image_size = parse_image_size(image_size, source)
    if num_examples is not None:
        check_positive_int("num_examples", num_examples)
    if value_range is not None and source != "npz":  # .npz and .npy
        raise ValueError(
            "value_range describes the pixel range of an .npz file; leave it as "
            f"None for {source!r} sources, whose range is known"
        )
    return image_size, num_examples
