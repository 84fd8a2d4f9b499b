"""Class consistency: the share of conditional samples a classifier assigns to their label."""

import json
import os

import keras
import numpy as np
from keras import layers

from kgan import data as data_lib
from kgan.atomic import atomic_write, atomic_write_json
from kgan.cache import cache_root


def _classifier_network(shape, num_classes):
    return keras.Sequential(
        [
            keras.Input(shape=shape),
            layers.Conv2D(32, 3, activation="relu", padding="same"),
            layers.MaxPooling2D(),
            layers.Conv2D(64, 3, activation="relu", padding="same"),
            layers.MaxPooling2D(),
            layers.Flatten(),
            layers.Dropout(0.4),
            layers.Dense(128, activation="relu"),
            layers.Dropout(0.4),
            layers.Dense(num_classes),
        ],
        name="classifier",
    )


# Bumped whenever the recipe of `train_classifier` changes, so cached classifiers are retrained.
RECIPE_VERSION = 2


def train_classifier(data="mnist_5k", epochs=30, batch_size=64, seed=0, verbose=0):
    """Trains a small CNN on a labelled image dataset's train split and scores it on test.

    Light augmentation (shifts of up to 2 pixels, rotations of up to 8 degrees, zooms of up to
    8%) and a cosine-decayed learning rate help on the 4,000 training digits of `mnist_5k`.

    Args:
        data: a labelled image dataset known to `kgan.data` with train and test splits.
        epochs: training epochs.
        batch_size: batch size.
        seed: seed of the initialization and the data order.
        verbose: Keras verbosity of `fit`.

    Returns:
        `(classifier, test_accuracy)`: a `keras.Model` from images in [-1, 1] to class logits,
        and its accuracy on the test split.

    Example:
        >>> classifier, accuracy = kgan.metrics.train_classifier("mnist_5k")
    """
    x_train, y_train = data_lib.load_arrays(data, split="train")
    x_test, y_test = data_lib.load_arrays(data, split="test")
    if y_train is None or x_train.ndim != 4:
        raise ValueError(f"a classifier needs labelled images; {data!r} has none")
    keras.utils.set_random_seed(seed)
    num_classes = int(max(y_train.max(), y_test.max())) + 1
    classifier = _classifier_network(x_train.shape[1:], num_classes)
    augment = keras.Sequential(
        [
            layers.RandomTranslation(
                2 / 28, 2 / 28, fill_mode="constant", fill_value=-1.0, seed=seed
            ),
            layers.RandomRotation(8 / 360, fill_mode="constant", fill_value=-1.0, seed=seed + 1),
            layers.RandomZoom(0.08, fill_mode="constant", fill_value=-1.0, seed=seed + 2),
        ]
    )
    trainer = keras.Sequential([augment, classifier])
    steps = epochs * -(-len(x_train) // batch_size)
    trainer.compile(
        optimizer=keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(2e-3, steps)),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    trainer.fit(x_train, y_train, epochs=epochs, batch_size=batch_size, verbose=verbose)
    predictions = np.argmax(classifier.predict(x_test, batch_size=256, verbose=0), axis=1)
    return classifier, float(np.mean(predictions == y_test))


def _cache_dir(cache_dir):
    return cache_dir or cache_root()


def _cache_paths(data, cache_dir):
    folder = os.path.join(_cache_dir(cache_dir), "classifiers")
    return os.path.join(folder, f"{data}.keras"), os.path.join(folder, f"{data}.json")


def cached_reference_classifier(data="mnist_5k", cache_dir=None):
    """Returns `(classifier, test_accuracy)` from the cache, or None; never trains.

    A classifier cached by another recipe (`RECIPE_VERSION`) counts as absent.

    Args:
        data: a labelled image dataset known to `kgan.data`.
        cache_dir: cache folder; None for kgan's cache root (`kgan.cache.cache_root`).

    Returns:
        `(classifier, test_accuracy)` or None.
    """
    path, meta_path = _cache_paths(data, cache_dir)
    if not (os.path.exists(path) and os.path.exists(meta_path)):
        return None
    with open(meta_path) as f:
        meta = json.load(f)
    if meta.get("recipe_version") != RECIPE_VERSION:
        return None
    return keras.saving.load_model(path), meta["test_accuracy"]


# Published presets of reference classifiers (`kgan.zoo`), trained by `train_classifier`.
CLASSIFIER_PRESETS = {"mnist_5k": "mnist_classifier"}


def _classifier_from_preset(data):
    """`(classifier, test_accuracy)` from the dataset's published preset when it was trained by
    this recipe version and can be had (cached, or from the mirror), else None."""
    name = CLASSIFIER_PRESETS.get(data)
    if name is None:
        return None
    from kgan import zoo

    entry = zoo.builtin_presets().get(name)
    if entry is None or entry.get("metrics", {}).get("recipe_version") != RECIPE_VERSION:
        return None
    try:
        return zoo.load(name, verbose=False), float(entry["metrics"]["test_accuracy"])
    except (zoo.PresetError, OSError):
        return None


def reference_classifier(data="mnist_5k", cache_dir=None, verbose=0, use_preset=True):
    """Returns the reference classifier of a dataset: from the cache, else from its published
    preset (`mnist_classifier` for `mnist_5k`), else trained; cached on first use.

    The cache records `RECIPE_VERSION`; a classifier trained by another recipe is replaced.
    The preset is used only when it was trained by the current recipe, so every machine scores
    with the same weights.

    Args:
        data: a labelled image dataset known to `kgan.data`.
        cache_dir: cache folder; None for kgan's cache root (`kgan.cache.cache_root`).
        verbose: Keras verbosity when it has to train.
        use_preset: take the published preset before training.

    Returns:
        `(classifier, test_accuracy)`.
    """
    cached = cached_reference_classifier(data, cache_dir)
    if cached is not None:
        return cached
    path, meta_path = _cache_paths(data, cache_dir)
    found = _classifier_from_preset(data) if use_preset else None
    classifier, accuracy = found or train_classifier(data, verbose=verbose)
    atomic_write(path, classifier.save)
    atomic_write_json(meta_path, {"test_accuracy": accuracy, "recipe_version": RECIPE_VERSION})
    return classifier, accuracy


def class_consistency(images, labels, classifier, batch_size=256):
    """Share of `images` that `classifier` assigns to the matching entry of `labels`.

    Args:
        images: `[n, h, w, c]` images in the classifier's input range.
        labels: `[n]` int requested labels.
        classifier: a `keras.Model` from images to class scores.
        batch_size: images per classifier call.

    Returns:
        A float in [0, 1].
    """
    labels = np.asarray(labels)
    if len(images) != labels.shape[0]:
        raise ValueError(f"got {len(images)} images for {labels.shape[0]} labels")
    scores = classifier.predict(np.asarray(images), batch_size=batch_size, verbose=0)
    return float(np.mean(np.argmax(scores, axis=1) == labels))


def generated_class_consistency(model, classifier, num_per_class=100, seed=0):
    """Class consistency of a conditional model's samples, `num_per_class` of every class.

    Args:
        model: a conditional trainer such as `kgan.ConditionalGAN`.
        classifier: a `keras.Model` from images to class scores.
        num_per_class: samples per class.
        seed: seed of the latents.

    Returns:
        A float in [0, 1].

    Example:
        >>> classifier, _ = kgan.metrics.reference_classifier("mnist_5k")
        >>> kgan.metrics.generated_class_consistency(cgan, classifier)
    """
    if not getattr(model, "conditional", False):
        raise ValueError("class consistency needs a conditional model (e.g. ConditionalGAN)")
    labels = np.repeat(np.arange(model.num_classes), num_per_class).astype("int32")
    images = model.generate(labels=labels, seed=seed)
    return class_consistency(images, labels, classifier)
