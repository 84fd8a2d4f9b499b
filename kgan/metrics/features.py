"""Feature extractors: networks that map images in [-1, 1] to the features metrics compare."""

from typing import Protocol, runtime_checkable

import keras
import numpy as np
from keras import ops


@runtime_checkable
class FeatureExtractor(Protocol):
    """What the metrics need of a feature extractor.

    Any object with a `name` and a call from images `[n, h, w, c]` in [-1, 1] to a numpy array
    of features `[n, d]` will do, e.g. a small class wrapping a custom network.

    Attributes:
        name: a short name of the feature space, stored with the scores it produces.
    """

    name: str

    def __call__(self, images) -> np.ndarray: ...


def _check_images(images):
    images = np.asarray(images, dtype="float32")
    if images.ndim != 4 or images.shape[-1] not in (1, 3):
        raise ValueError(
            "images must be float32 in [-1, 1] with shape (n, height, width, 1 or 3); got "
            f"{images.dtype} {images.shape}"
        )
    if len(images) == 0:
        raise ValueError("images is empty")
    return images


class KerasFeatureExtractor:
    """A feature extractor from a `keras.Model`, called in batches.

    Args:
        model: a `keras.Model` from images (after `preprocess`) to `[n, d]` features.
        name: the name of the feature space.
        preprocess: optional callable applied to each batch of images in [-1, 1] first.
        batch_size: images per call of `model`.

    Example:
        >>> net = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten()])
        >>> extractor = kgan.metrics.KerasFeatureExtractor(net, name="pixels")
        >>> extractor(images).shape
        (n, 784)
    """

    def __init__(self, model, name, preprocess=None, batch_size=256):
        self.model = model
        self.name = name
        self.preprocess = preprocess
        self.batch_size = batch_size

    def __call__(self, images):
        images = _check_images(images)
        outputs = []
        for start in range(0, len(images), self.batch_size):
            batch = images[start : start + self.batch_size]
            if self.preprocess is not None:
                batch = self.preprocess(batch)
            outputs.append(np.asarray(ops.convert_to_numpy(self.model(batch, training=False))))
        return np.concatenate(outputs, axis=0).astype("float64")


def inception_extractor(weights="imagenet", batch_size=32):
    """The 2,048 pooled features of InceptionV3, the feature space of the published FID.

    Images in [-1, 1] (InceptionV3's own input range) are resized to 299x299 bilinearly and grey
    images repeated to three channels. Keras reads ImageNet weights from its cache
    (`~/.keras/models/inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5`) and downloads
    them there on first use. Scores from this Keras port are close to, but not identical with,
    those of the TF1 graph the FID papers used.

    Args:
        weights: `"imagenet"`, a path to a weights file, or None for random weights (useful
            only to test shapes).
        batch_size: images per network call.

    Returns:
        A `kgan.metrics.KerasFeatureExtractor` named `"inception_v3"` giving `[n, 2048]`.

    Raises:
        RuntimeError: when the weights can neither be found in the cache nor downloaded.

    Example:
        >>> extractor = kgan.metrics.inception_extractor()
        >>> kgan.metrics.fid(extractor(real_images), extractor(fake_images))
    """
    try:
        network = keras.applications.InceptionV3(
            include_top=False, pooling="avg", weights=weights, input_shape=(299, 299, 3)
        )
    except Exception as error:  # a failed download surfaces as several error types
        if weights is None:
            raise
        raise RuntimeError(
            f"could not load InceptionV3 weights {weights!r} ({type(error).__name__}: {error}). "
            "Without network access, copy inception_v3_weights_tf_dim_ordering_tf_kernels_"
            "notop.h5 into ~/.keras/models/, pass weights=<path to it>, or use "
            "kgan.metrics.domain_extractor for a feature space trained here"
        ) from error

    def preprocess(batch):
        batch = ops.image.resize(batch, (299, 299), interpolation="bilinear")
        if batch.shape[-1] == 1:
            batch = ops.repeat(batch, 3, axis=-1)
        return batch

    return KerasFeatureExtractor(network, "inception_v3", preprocess, batch_size)


class DomainExtractor(KerasFeatureExtractor):
    """Features and logits of a dataset's reference classifier (see `domain_extractor`).

    Calling it gives the penultimate-layer features; `logits` the class scores; `features_and_
    logits` both from one pass.
    """

    def __init__(self, classifier, name, batch_size=256):
        dense = [layer for layer in classifier.layers if isinstance(layer, keras.layers.Dense)]
        if len(dense) < 2:
            raise ValueError(
                "the classifier needs a hidden Dense layer before its output to give features"
            )
        both = keras.Model(classifier.inputs[0], [dense[-2].output, classifier.outputs[0]])
        super().__init__(both, name, batch_size=batch_size)
        self.classifier = classifier
        self.accuracy = None

    def features_and_logits(self, images):
        """Returns `(features [n, d], logits [n, num_classes])` as float64 numpy arrays."""
        images = _check_images(images)
        features, logits = [], []
        for start in range(0, len(images), self.batch_size):
            f, lg = self.model(images[start : start + self.batch_size], training=False)
            features.append(ops.convert_to_numpy(f))
            logits.append(ops.convert_to_numpy(lg))
        return (
            np.concatenate(features).astype("float64"),
            np.concatenate(logits).astype("float64"),
        )

    def __call__(self, images):
        return self.features_and_logits(images)[0]

    def logits(self, images):
        """Returns the classifier's logits `[n, num_classes]`."""
        return self.features_and_logits(images)[1]


def domain_extractor(data="mnist_5k", classifier=None, cache_dir=None, batch_size=256):
    """Features of the dataset's reference classifier: a domain-specific FID feature space.

    The features are the activations of the classifier's hidden Dense layer (128 units for
    `kgan.metrics.reference_classifier`); `extractor.logits(images)` gives the class scores for
    class consistency and the Inception Score. On small grey digits this space is far more
    sensitive than ImageNet features, and needs no download; its scores are not comparable to
    published Inception FIDs.

    Args:
        data: the dataset whose reference classifier is used (trained and cached on first use).
        classifier: a trained `keras.Model` to use instead of the reference classifier; it must
            end in Dense layers (hidden, then logits).
        cache_dir: cache folder of the reference classifier.
        batch_size: images per network call.

    Returns:
        A `kgan.metrics.DomainExtractor` named `"<data>_classifier"`; its `accuracy` is the
        reference classifier's test accuracy (None for a given classifier).

    Example:
        >>> extractor = kgan.metrics.domain_extractor("mnist_5k")
        >>> features, logits = extractor.features_and_logits(cgan.generate(1000, seed=0))
    """
    accuracy = None
    if classifier is None:
        from kgan.metrics.class_consistency import reference_classifier

        classifier, accuracy = reference_classifier(data, cache_dir=cache_dir)
    extractor = DomainExtractor(classifier, f"{data}_classifier", batch_size=batch_size)
    extractor.accuracy = accuracy
    return extractor
