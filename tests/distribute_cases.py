"""Training runs that tests/test_distribute.py compares across device layouts.

Logical devices must be configured before TensorFlow starts, so the multi-device runs happen in
their own processes:

    python tests/distribute_cases.py mirrored OUT.json
        trains every case on one device and under MirroredStrategy over two logical CPU devices
        and writes how far the weights are apart, with the other checks of test_distribute.py;
    python tests/distribute_cases.py worker CASE OUT.npz STREAMS    (TF_CONFIG set)
        trains CASE under MultiWorkerMirroredStrategy, this process one of the workers, each
        worker reading its own rows of every global batch, and saves the final weights; then
        reads each streamed source of the folder STREAMS (`write_streams`) through
        `kgan.data.load_distributed` for two epochs, saving the ids of the images it saw, and
        trains CASE one epoch from the folder that way.

Imported, it gives the cases (`train`) to a single-device run in the test's own process.
"""

import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

IMAGE_SHAPE = (8, 8, 1)
DATA_DIM = 4
NUM_CLASSES = 3
GLOBAL_BATCH = 8
# Three steps: 8, 8 and 5 examples; the last splits unevenly (3 and 2) over two replicas.
NUM_EXAMPLES = 21
# Two full global batches for the multi-worker run.
WORKER_EXAMPLES = 16
# The cases whose steps run XLA-compiled (the pieces between updates, under a strategy).
XLA_CASES = ("vae",)  # compiled in pieces between the updates under a strategy
CASES = ("gan", "gan_gp", "cgan", "vae", "vaegan", "clustergan", "infogan", "bigan")


def data(case, num_examples=NUM_EXAMPLES):
    """The case's training data: `(x,)` or `(images, labels)`, as numpy arrays."""
    import numpy as np

    rng = np.random.default_rng(0)
    if case in ("gan", "gan_gp", "vae", "clustergan", "infogan", "bigan"):
        return ((rng.normal(size=(num_examples, DATA_DIM)) * 0.5 + 1.0).astype("float32"),)
    images = np.tanh(rng.normal(size=(num_examples, *IMAGE_SHAPE))).astype("float32")
    if case == "cgan":
        return images, rng.integers(0, NUM_CLASSES, num_examples).astype("int32")
    return (images,)


def build(case, jit=None):
    """A compiled trainer of the case, with plain SGD so that a gradient twice too large moves
    the weights twice as far (Adam would hide it); XLA as `jit`, by default for XLA_CASES."""
    import keras

    import kgan
    from kgan import networks

    keras.utils.set_random_seed(0)
    sgd = keras.optimizers.SGD
    jit = case in XLA_CASES if jit is None else jit
    if case in ("gan", "gan_gp"):
        generator = networks.mlp_generator(DATA_DIM, latent_dim=3, hidden_units=(16,))
        discriminator = networks.mlp_discriminator(DATA_DIM, hidden_units=(16,))
        if case == "gan":
            model = kgan.GAN(generator, discriminator, seed=0)
        else:
            model = kgan.WGANGP(generator, discriminator, d_steps=2, seed=0)
        model.compile(d_optimizer=sgd(0.05), g_optimizer=sgd(0.05), jit_compile=jit)
    elif case == "cgan":
        # Batch normalization in the generator, its statistics taken over the global batch.
        model = kgan.models.build_trainer(
            "cgan",
            IMAGE_SHAPE,
            num_classes=NUM_CLASSES,
            latent_dim=4,
            width=4,
            synchronized_batch_norm=True,
            loss="hinge",
            seed=0,
        )
        model.compile(d_optimizer=sgd(0.05), g_optimizer=sgd(0.05), jit_compile=jit)
    elif case == "vae":
        model = kgan.models.build_vae((DATA_DIM,), latent_dim=2, width=16, seed=0)
        model.compile(optimizer=sgd(0.01), jit_compile=jit)
    elif case == "vaegan":
        model = kgan.models.build_vaegan(
            IMAGE_SHAPE, latent_dim=4, width=4, synchronized_batch_norm=True, seed=0
        )
        model.compile(
            e_optimizer=sgd(0.01), g_optimizer=sgd(0.01), d_optimizer=sgd(0.01), jit_compile=jit
        )
    elif case in ("clustergan", "infogan", "bigan"):
        # The code GANs' draws (one-hot and continuous codes) and BiGAN's encoder update; no
        # dropout, whose draws are per replica.
        options = {"noise_dim": 2} if case != "bigan" else {"latent_dim": 2, "dropout": 0.0}
        model = kgan.models.build_trainer(
            case, (DATA_DIM,), num_clusters=3, width=8, seed=0, **options
        )
        model.compile(d_optimizer=sgd(0.05), g_optimizer=sgd(0.05), jit_compile=jit)
    else:
        raise ValueError(f"unknown case {case!r}; choose one of {CASES}")
    return model


def train(case, strategy=None, num_examples=None, dataset=None, jit=None):
    """Builds the case (inside `strategy`'s scope when given) and trains it one epoch on
    `num_examples` (by default NUM_EXAMPLES, two full batches for the XLA cases, which compile
    once per batch shape).

    Returns:
        `(initial_weights, final_weights)`, lists of numpy arrays.
    """
    import contextlib

    scope = strategy.scope() if strategy is not None else contextlib.nullcontext()
    with scope:
        model = build(case, jit)
    initial = model.get_weights()
    if dataset is None:
        if num_examples is None:
            num_examples = 2 * GLOBAL_BATCH if case in XLA_CASES else NUM_EXAMPLES
        arrays = data(case, num_examples)
        model.fit(*arrays, batch_size=GLOBAL_BATCH, epochs=1, shuffle=False, verbose=0)
    else:
        model.fit(dataset, epochs=1, verbose=0, shuffle=False)  # the dataset shuffles itself
    return initial, model.get_weights()


def _norm(tensors):
    import numpy as np

    return float(np.sqrt(sum(np.sum(np.square(t, dtype="float64")) for t in tensors)))


def _difference(a, b):
    return [x - y for x, y in zip(a, b)]


def compare(initial, weights, reference):
    """How far `weights` are from `reference`, both trained from `initial`.

    Returns:
        A dict: `relative_error` `||w - r|| / ||r||`, `update_error` `||w - r|| / ||r - i||`
        (the error against what training moved) and `relative_update` `||r - i|| / ||i||`,
        norms over all tensors together.
    """
    error = _norm(_difference(weights, reference))
    update = _norm(_difference(reference, initial))
    return {
        "relative_error": error / _norm(reference),
        "update_error": error / update,
        "relative_update": update / _norm(initial),
    }


def _configure_devices(count):
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(count)]
    )


def _draws(strategy):
    """What each of the two replicas draws with ReplicaBatch and replica_seed_generator."""
    import keras
    import numpy as np
    import tensorflow as tf

    from kgan import distribute

    with strategy.scope():
        generator = keras.random.SeedGenerator(7)

    @tf.function
    def draw():
        def per_replica():
            layout = distribute.ReplicaBatch(4)
            rows = layout.normal((2,), generator)  # [4, 2] of the global [8, 2]
            own = keras.random.normal((4, 2), seed=distribute.replica_seed_generator(generator))
            return rows, own

        return strategy.run(per_replica)

    rows, own = draw()
    rows = [np.asarray(r) for r in strategy.experimental_local_results(rows)]
    own = [np.asarray(o) for o in strategy.experimental_local_results(own)]
    global_draw = np.asarray(keras.random.normal((8, 2), seed=keras.random.SeedGenerator(7)))
    return {
        "rows_differ": bool(not np.allclose(rows[0], rows[1])),
        "rows_are_global_draw": bool(np.allclose(np.concatenate(rows), global_draw)),
        "own_differ": bool(not np.allclose(own[0], own[1])),
    }


def _overflow_on_one_replica(strategy):
    """A float16 step where one replica's gradients overflow and the other's do not."""
    import keras
    import numpy as np

    import kgan

    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        with strategy.scope():
            keras.utils.set_random_seed(0)
            model = kgan.models.build_vae((DATA_DIM,), latent_dim=2, width=16, seed=0)
            model.compile(jit_compile=False)
        x = np.ones((GLOBAL_BATCH, DATA_DIM), "float32")
        x[GLOBAL_BATCH // 2 :] = 1e6  # beyond float16: the second replica's rows overflow
        before = model.get_weights()
        model.fit(x, batch_size=GLOBAL_BATCH, epochs=1, shuffle=False, verbose=0)
        after = model.get_weights()
        return {
            "weights_finite": bool(all(np.all(np.isfinite(w)) for w in after)),
            "weights_unchanged": bool(all(np.array_equal(a, b) for a, b in zip(before, after))),
            "loss_scale": float(model.optimizer.dynamic_scale.numpy()),
            "initial_loss_scale": float(model.optimizer.initial_scale),
        }
    finally:
        keras.mixed_precision.set_global_policy("float32")


def _augmented_step(strategy):
    """DiffAugment under two replicas (draws folded with the replica id): finite losses."""
    import numpy as np

    import kgan

    with strategy.scope():
        model = kgan.models.build_trainer(
            "gan", IMAGE_SHAPE, latent_dim=4, width=4, augment="translation,cutout,color"
        )
        model.compile(jit_compile=False)
    (images,) = data("vaegan", GLOBAL_BATCH)
    history = model.fit(images, batch_size=GLOBAL_BATCH, epochs=1, verbose=0)
    return {"losses_finite": bool(all(np.all(np.isfinite(v)) for v in history.history.values()))}


def run_mirrored(out_path):
    _configure_devices(2)
    import tensorflow as tf

    from kgan import distribute

    mirrored = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    assert mirrored.num_replicas_in_sync == 2
    results = {"cases": {}}
    for case in CASES:
        # XLA's random number generators give other numbers than TensorFlow's kernels, and
        # under a strategy the draws are made outside XLA: the reference runs without it.
        initial, one = train(case, jit=False)
        _, two = train(case, mirrored)
        results["cases"][case] = compare(initial, two, one)
    # One step with each replica's loss left unweighted: summed gradients twice too large.
    initial, one = train("gan", num_examples=GLOBAL_BATCH)
    weight = distribute.ReplicaBatch.weight
    distribute.ReplicaBatch.weight = lambda self: 1.0
    try:
        _, unweighted = train("gan", mirrored, num_examples=GLOBAL_BATCH)
    finally:
        distribute.ReplicaBatch.weight = weight
    results["unweighted"] = compare(initial, unweighted, one)
    results["unweighted"]["update_ratio"] = _norm(_difference(unweighted, initial)) / _norm(
        _difference(one, initial)
    )
    results["draws"] = _draws(mirrored)
    results["overflow"] = _overflow_on_one_replica(mirrored)
    results["augment"] = _augmented_step(mirrored)
    with open(out_path, "w") as file:
        json.dump(results, file, indent=2)


def worker_dataset(case, strategy):
    """Each worker's rows of every global batch of `data(case, WORKER_EXAMPLES)`, so that the
    replicas' rows, in replica order, are the global batches of a single-device run."""
    import tensorflow as tf

    arrays = data(case, WORKER_EXAMPLES)

    def dataset_fn(context):
        local = context.get_per_replica_batch_size(GLOBAL_BATCH)
        first = context.input_pipeline_id * local
        rows = [
            start + first + i
            for start in range(0, WORKER_EXAMPLES, GLOBAL_BATCH)
            for i in range(local)
        ]
        parts = tuple(array[rows] for array in arrays)
        return tf.data.Dataset.from_tensor_slices(parts).batch(local)

    return strategy.distribute_datasets_from_function(dataset_fn)


# Streamed sources for the workers: an image folder and TFRecord packs of STREAM_EXAMPLES
# images whose first two pixels hold their id.
STREAM_EXAMPLES = 40
STREAM_SOURCES = ("folder", "pack_4_shards", "pack_1_shard")


def write_streams(root):
    """Writes the folder and its packs (4 shards: one pair per worker; 1 shard: records
    dealt out) under `root`."""
    import numpy as np
    from PIL import Image

    from kgan import data as kgan_data

    folder = os.path.join(root, "folder")
    for i in range(STREAM_EXAMPLES):
        image = np.random.default_rng(i).integers(0, 256, IMAGE_SHAPE[:2], dtype=np.uint8)
        image[0, 0], image[0, 1] = i // 256, i % 256
        path = os.path.join(folder, f"class_{i % NUM_CLASSES}", f"{i:03d}.png")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        Image.fromarray(image, "L").save(path)
    kgan_data.pack_folder(folder, os.path.join(root, "pack_4_shards"), examples_per_shard=10)
    kgan_data.pack_folder(folder, os.path.join(root, "pack_1_shard"))


def image_ids(images):
    """The ids written by `write_streams` into a batch of images in [-1, 1]."""
    import numpy as np

    pixels = np.rint((np.asarray(images)[:, 0, :2, 0] + 1) * 127.5).astype(int)
    return (pixels[:, 0] * 256 + pixels[:, 1]).tolist()


def _seen(strategy, dataset, epochs=2):
    """The ids of the images this worker's replicas see in each of `epochs` passes."""
    seen = []
    for _ in range(epochs):
        ids = []
        for images, _labels in dataset:
            for local in strategy.experimental_local_results(images):
                ids += image_ids(local)
        seen.append(ids)
    return seen


def run_worker(case, out_path, streams):
    import numpy as np

    import kgan
    from kgan import distribute

    strategy = distribute.get_strategy("multi_worker")
    _, weights = train(case, strategy, dataset=worker_dataset(case, strategy))
    np.savez(out_path, *weights)
    seen = {}
    for source in STREAM_SOURCES:
        dataset = kgan.data.load_distributed(
            strategy,
            os.path.join(streams, source),
            batch_size=GLOBAL_BATCH,
            seed=3,
            cache=False,
            drop_remainder=True,
        )
        seen[source] = _seen(strategy, dataset)
    dataset = kgan.data.load_distributed(
        strategy, os.path.join(streams, "folder"), batch_size=GLOBAL_BATCH, seed=3, cache=False
    )
    _, streamed = train(case, strategy, dataset=dataset)
    np.savez(out_path.replace(".npz", "_streamed.npz"), *streamed)
    with open(out_path.replace(".npz", "_seen.json"), "w") as file:
        json.dump(seen, file)


if __name__ == "__main__":
    if sys.argv[1] == "mirrored":
        run_mirrored(sys.argv[2])
    elif sys.argv[1] == "worker":
        run_worker(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        raise SystemExit(f"unknown mode {sys.argv[1]!r}: use 'mirrored' or 'worker'")
