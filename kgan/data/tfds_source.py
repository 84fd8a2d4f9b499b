"""Datasets from TensorFlow Datasets, loaded lazily (the `datasets` extra)."""

import tensorflow as tf

from kgan.data.builtin import names, unknown_dataset_error
from kgan.data.epochs import plain, shuffled_stream
from kgan.data.folders import pixels_to_unit


def _tfds(name):
    """`tensorflow_datasets`, or an ImportError saying why `name` needs it."""
    try:
        import tensorflow_datasets as tfds
    except ImportError as e:
        raise ImportError(
            f"{name!r} is not a built-in name ({', '.join(names())}) or an "
            "existing file or folder, so it is read as a TFDS dataset, which "
            "needs tensorflow-datasets: pip install kgan[datasets]"
        ) from e
    return tfds


def tfds_builder(name, data_dir):
    tfds = _tfds(name)
    try:
        builder = tfds.builder(name, data_dir=data_dir)
    except tfds.core.DatasetNotFoundError as e:
        raise unknown_dataset_error(name) from e
    keys = builder.info.supervised_keys
    if not keys or len(keys) != 2 or not all(isinstance(k, str) for k in keys):
        raise ValueError(
            f"TFDS dataset {name!r} has no (image, label) supervised keys "
            f"(got {keys!r}); kgan.data reads image classification datasets"
        )
    return builder, keys[0], keys[1]


def tfds_dataset(
    name, split, data_dir, image_size, num_examples, shuffle, seed, cache, counter, shard=None
):
    """Unbatched (image float32 [-1, 1], label int32) examples of a TFDS split.

    Under `shard=(index, count)` the reader keeps every `count`-th example of the files' fixed
    order, as many as the smallest share.

    Shuffled, the files are read in one order fixed by `seed` and the examples pass through a
    buffer seeded by `(seed, epoch)`, the epoch read from `counter` at the start of each pass.
    """
    tfds = _tfds(name)
    builder, image_key, _ = tfds_builder(name, data_dir)
    shape = builder.info.features[image_key].shape
    if len(shape) != 3 or tf.as_dtype(builder.info.features[image_key].dtype) != tf.uint8:
        raise ValueError(
            f"TFDS dataset {name!r} has {builder.info.features[image_key]}; "
            "kgan.data reads uint8 images of shape (H, W, C)"
        )
    if (shape[0] is None or shape[1] is None) and image_size is None:
        raise ValueError(
            f"TFDS dataset {name!r} has images of varying size {shape}; pass "
            "image_size=(height, width)"
        )
    try:
        builder.download_and_prepare()
    except Exception as e:
        target = data_dir or "~/tensorflow_datasets"
        raise RuntimeError(
            f"TFDS dataset {name!r} is not prepared in {target!r} and could not be downloaded "
            f"({type(e).__name__}: {e}). On a machine with network access run\n"
            f"  python -c \"import tensorflow_datasets as tfds; tfds.load('{name}', "
            f"data_dir='DIR')\"\n(or `tfds build {name} --data_dir DIR`), copy DIR here and "
            "pass data_dir=DIR"
        ) from e
    splits = dict(builder.info.splits)
    bases = [part.split("[")[0].strip() for part in str(split).split("+")]
    if splits and any(b not in splits and b != "all" for b in bases):
        raise ValueError(
            f"unknown split {split!r} for TFDS dataset {name!r}; valid splits "
            f"are {sorted(splits) + ['all']}"
        )
    ds = builder.as_dataset(
        split=split,
        as_supervised=True,
        shuffle_files=shuffle,
        read_config=tfds.ReadConfig(shuffle_seed=seed, shuffle_reshuffle_each_iteration=False),
    )
    if num_examples is not None:
        ds = ds.take(num_examples)
    if shard is not None and shard[1] > 1:
        total = num_examples or getattr(splits.get(split), "num_examples", None)
        ds = ds.shard(shard[1], shard[0])
        if total:
            ds = ds.take(total // shard[1])

    def to_unit(image, label):
        image = image[..., :3]
        if image_size is not None:
            image = tf.image.resize(image, image_size, antialias=True)  # float32, 0-255
        return pixels_to_unit(image), tf.cast(label, tf.int32)

    if image_size is not None:
        ds = ds.map(plain(to_unit), num_parallel_calls=tf.data.AUTOTUNE)
    ds = ds.cache() if cache else ds  # without resizing, cache the 4x smaller uint8 images
    if shuffle:
        count = num_examples or getattr(splits.get(split), "num_examples", 0) or 10_000
        ds = shuffled_stream(ds, min(count, 50_000), seed, counter)
    if image_size is None:
        ds = ds.map(plain(to_unit), num_parallel_calls=tf.data.AUTOTUNE)
    return ds
