"""Mode coverage: of samples from a known Gaussian mixture (the 2-D ring and grid benchmarks) and
of Stacked MNIST samples (1,000 modes, one per digit triple)."""

import numpy as np


def mode_coverage(samples, means, std, num_std=3.0):
    """Scores samples against the modes of a mixture, as in VEEGAN, PacGAN and GDPP.

    A sample is *high quality* when it lies within `num_std` standard deviations of its nearest
    mode; a mode is *captured* when it is the nearest mode of at least one high-quality sample.
    The reverse KL is `KL(p || uniform)` between the histogram `p` of the samples' nearest
    modes and the uniform histogram over the modes (0 for a perfectly balanced model, `log K`
    when every sample falls to one mode). The papers score 2,500 samples.

    Args:
        samples: `[n, d]` generated points.
        means: `[k, d]` mode centres, e.g. `kgan.data.mixture_spec("ring8").means`.
        std: the modes' standard deviation.
        num_std: the high-quality radius in standard deviations (3 in the papers).

    Returns:
        A dict with `modes_captured` (int), `num_modes` (int), `high_quality` (fraction in
        [0, 1]) and `reverse_kl` (float, nats).

    Example:
        >>> spec = kgan.data.mixture_spec("ring8")
        >>> kgan.metrics.mode_coverage(gan.generate(2500, seed=0), spec.means, spec.std)
    """
    samples = np.asarray(samples, dtype="float64")
    means = np.asarray(means, dtype="float64")
    if samples.ndim != 2 or means.ndim != 2 or samples.shape[1] != means.shape[1]:
        raise ValueError(
            f"samples [n, d] and means [k, d] must share d; got {samples.shape} and {means.shape}"
        )
    if len(samples) == 0 or not np.isfinite(samples).all():
        raise ValueError("samples must be a non-empty array of finite values")
    if std <= 0:
        raise ValueError(f"std must be > 0; got {std}")
    distances = np.linalg.norm(samples[:, None, :] - means[None, :, :], axis=-1)  # [n, k]
    nearest = distances.argmin(axis=1)  # [n]
    high_quality = distances[np.arange(len(samples)), nearest] <= num_std * std  # [n]
    num_modes = len(means)
    return {
        "modes_captured": int(np.unique(nearest[high_quality]).size),
        "num_modes": num_modes,
        "high_quality": float(high_quality.mean()),
        "reverse_kl": reverse_kl_to_uniform(nearest, num_modes),
    }


def reverse_kl_to_uniform(modes, num_modes):
    """`KL(p || uniform)` in nats of the histogram `p` of integer `modes` over `num_modes`."""
    histogram = np.bincount(modes, minlength=num_modes) / len(modes)
    present = histogram > 0
    return float(np.sum(histogram[present] * np.log(histogram[present] * num_modes)))


STACKED_MNIST_MODES = 1000


def stacked_mnist_modes(images, classifier=None, batch_size=512):
    """Mode coverage of Stacked MNIST samples (VEEGAN, PacGAN, GDPP).

    Each of an image's three channels is classified as a digit by `classifier` (the
    reference `mnist_5k` classifier when None); the triple `(first, second, third)` is the
    image's mode, one of 1,000. The papers score 26,000 samples: modes captured (at least one
    sample) and the reverse KL between the histogram of modes and the uniform one over 1,000.
    Also the confidence of the classifier (its mean top probability over channels), which
    falls when samples stop looking like digits.

    Args:
        images: `[n, 28, 28, 3]` samples in [-1, 1].
        classifier: a `keras.Model` from `[n, 28, 28, 1]` digits in [-1, 1] to 10 class scores
            (logits); `kgan.metrics.reference_classifier("mnist_5k")` when None.
        batch_size: images per classifier call.

    Returns:
        A dict with `modes_captured` (int), `num_modes` (1000), `reverse_kl` (nats) and
        `confidence` (in [0, 1]).

    Example:
        >>> kgan.metrics.stacked_mnist_modes(gan.generate(26000, seed=0))
    """
    images = np.asarray(images, dtype="float32")
    if images.ndim != 4 or images.shape[1:] != (28, 28, 3) or len(images) == 0:
        raise ValueError(
            f"Stacked MNIST samples have shape (n, 28, 28, 3), n >= 1; got {images.shape}"
        )
    if not np.isfinite(images).all():
        raise ValueError("images hold NaN or infinite values")
    if classifier is None:
        from kgan.metrics.class_consistency import reference_classifier

        classifier = reference_classifier("mnist_5k")[0]
    digits, confidence = [], []
    for channel in range(3):
        logits = classifier.predict(images[..., channel : channel + 1], batch_size, verbose=0)
        logits = np.asarray(logits, "float64")
        probabilities = np.exp(logits - logits.max(axis=1, keepdims=True))
        probabilities /= probabilities.sum(axis=1, keepdims=True)
        digits.append(probabilities.argmax(axis=1))
        confidence.append(probabilities.max(axis=1))
    modes = 100 * digits[0] + 10 * digits[1] + digits[2]
    return {
        "modes_captured": int(np.unique(modes).size),
        "num_modes": STACKED_MNIST_MODES,
        "reverse_kl": reverse_kl_to_uniform(modes, STACKED_MNIST_MODES),
        "confidence": float(np.mean(confidence)),
    }
