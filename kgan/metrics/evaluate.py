"""Scoring a generative model's samples against a dataset's real images, several metrics at once."""

import numpy as np

from kgan import data as data_lib
from kgan import sampling
from kgan.metrics import distances

# Metric names accepted by `evaluate_model`, `score_features` and `kgan evaluate`, and the keys
# each one adds to the results.
METRICS = {
    "fid": ("fid",),
    "kid": ("kid", "kid_std_error"),
    "pr": ("precision", "recall"),
    "dc": ("density", "coverage"),
    "is": ("inception_score", "inception_score_std"),
    "consistency": ("consistency",),
    "balance": ("class_kl", "smallest_class"),
    # high_quality on the 2-D mixtures, confidence on stacked_mnist_5k.
    "modes": ("modes_captured", "num_modes", "high_quality", "reverse_kl", "confidence"),
}
# Whether a smaller value of a result key is better (for early stopping and tables).
LOWER_IS_BETTER = {"fid": True, "kid": True}


def check_metrics(metrics):
    """Validates metric names; returns them as a list without duplicates."""
    if isinstance(metrics, str):
        metrics = [m.strip() for m in metrics.split(",") if m.strip()]
    metrics = list(dict.fromkeys(metrics))
    bad = [m for m in metrics if m not in METRICS]
    if not metrics or bad:
        raise ValueError(
            f"metrics must be a non-empty list of {', '.join(METRICS)}; got {metrics!r}"
        )
    return metrics


def score_features(
    real_features,
    fake_features,
    metrics=("fid", "kid", "pr", "dc"),
    fake_logits=None,
    labels=None,
    kid_subset_size=1000,
    seed=0,
):
    """Scores one feature set against another with the named metrics.

    Args:
        real_features: `[n, d]` features of real images.
        fake_features: `[m, d]` features of the images being scored.
        metrics: names from `fid`, `kid`, `pr` (precision/recall), `dc` (density/coverage),
            `is` (Inception Score, needs `fake_logits`) and `consistency` (needs `fake_logits`
            and `labels`).
        fake_logits: `[m, num_classes]` classifier logits of the scored images.
        labels: `[m]` labels the scored images were generated (or are known) to have.
        kid_subset_size: samples per KID subset.
        seed: seed of the KID subsets.

    Returns:
        A dict from result keys (`fid`, `kid`, `kid_std_error`, `precision`, `recall`,
        `density`, `coverage`, `inception_score`, `inception_score_std`, `consistency`,
        `class_kl`, `smallest_class`) to floats. `balance` (needs `fake_logits`): the
        classifier's class histogram of the scored images against the uniform one, as
        `class_kl` (KL(histogram || uniform), nats; 0 when balanced, log K when one class) and
        `smallest_class` (the rarest class's share times the number of classes: 1 when
        balanced, 0 when a class is missing), so a model that drops a class shows it.

    Example:
        >>> kgan.metrics.score_features(real_features, fake_features, ["fid", "pr"])
    """
    metrics = check_metrics(metrics)
    results = {}
    if "fid" in metrics:
        results["fid"] = distances.fid(real_features, fake_features)
    if "kid" in metrics:
        results["kid"], results["kid_std_error"] = distances.kid(
            real_features, fake_features, subset_size=kid_subset_size, seed=seed
        )
    if "pr" in metrics:
        results.update(distances.precision_recall(real_features, fake_features))
    if "dc" in metrics:
        results.update(distances.density_coverage(real_features, fake_features))
    if "is" in metrics:
        if fake_logits is None:
            raise ValueError("the Inception Score needs fake_logits")
        splits = min(10, len(fake_logits))
        results["inception_score"], results["inception_score_std"] = distances.inception_score(
            fake_logits, splits=splits
        )
    if "consistency" in metrics:
        if fake_logits is None or labels is None:
            raise ValueError("class consistency needs fake_logits and labels")
        labels = np.asarray(labels)
        if labels.shape != (len(fake_logits),):
            raise ValueError(f"got {labels.shape} labels for {len(fake_logits)} logits")
        results["consistency"] = float(np.mean(np.argmax(fake_logits, axis=1) == labels))
    if "balance" in metrics:
        from kgan.metrics.mode_coverage import reverse_kl_to_uniform

        if fake_logits is None:
            raise ValueError("balance needs fake_logits")
        num_classes = np.shape(fake_logits)[1]
        classes = np.argmax(fake_logits, axis=1)
        results["class_kl"] = reverse_kl_to_uniform(classes, num_classes)
        histogram = np.bincount(classes, minlength=num_classes) / len(classes)
        results["smallest_class"] = float(histogram.min() * num_classes)
    return results


def generate_for_evaluation(model, num_samples, seed=0):
    """Draws `num_samples` images; a conditional model's labels cycle through the classes.

    Returns:
        `(images, labels)`, labels None for an unconditional model.
    """
    if not hasattr(model, "generate") or len(getattr(model, "sample_shape", ())) != 3:
        raise ValueError(f"{type(model).__name__} is not an image generator with generate()")
    if getattr(model, "conditional", False):
        labels = sampling.cycled_labels(num_samples, model.num_classes)
        return model.generate(labels=labels, seed=seed), labels
    return model.generate(num_samples=num_samples, seed=seed), None


def real_images(data="mnist_5k", split="train"):
    """The real images of `data` (float32 in [-1, 1]) that samples are compared with."""
    images, _ = data_lib.load_arrays(data, split=split)
    if images.ndim != 4:
        raise ValueError(f"{data!r} holds no images (shape {images.shape})")
    return images


def evaluate_model(
    model,
    data="mnist_5k",
    metrics=("fid", "kid", "pr", "dc", "consistency"),
    num_samples=1000,
    seed=0,
    extractor=None,
    real=None,
):
    """Scores a trained image generator's samples against a dataset's real images.

    Samples are drawn with a fixed seed (a conditional model's labels cycle through the
    classes). `consistency` applies to conditional models only and is skipped for the others;
    it and `is` need an extractor with `features_and_logits` (the default
    `kgan.metrics.domain_extractor(data)`). `modes` scores a 2-D generator on the built-in
    mixtures `ring8` and `grid25` with `kgan.metrics.mode_coverage` (use 2,500 samples, as the
    literature does), or a `stacked_mnist_5k` generator with `kgan.metrics.stacked_mnist_modes`
    (26,000 samples in the literature), and goes alone.

    Args:
        model: a trainer with `generate` (GANs, VAEs).
        data: the dataset whose train split is the real reference (and whose reference
            classifier gives the default features).
        metrics: names, see `kgan.metrics.score_features`.
        num_samples: generated images scored.
        seed: seed of the samples and of KID's subsets.
        extractor: a `kgan.metrics.FeatureExtractor`; `domain_extractor(data)` when None.
        real: real images to compare with instead of `data`'s train split.

    Returns:
        A dict of the result keys plus `extractor`, `num_samples`, `num_real` and `skipped`
        (metric names that did not apply).

    Example:
        >>> cgan, _ = kgan.callbacks.load_run("runs/cgan_mnist")
        >>> kgan.metrics.evaluate_model(cgan, "mnist_5k", ["fid", "consistency"])
    """
    from kgan.metrics.features import domain_extractor

    metrics = check_metrics(metrics)
    if not isinstance(num_samples, int | np.integer) or num_samples < 2:
        raise ValueError(f"num_samples must be an int >= 2; got {num_samples!r}")
    if "modes" in metrics:
        return _mode_coverage(model, data, metrics, num_samples, seed)
    skipped = []
    if "consistency" in metrics and not getattr(model, "conditional", False):
        metrics.remove("consistency")
        skipped.append("consistency")
    extractor = extractor if extractor is not None else domain_extractor(data)
    needs_logits = {"consistency", "is", "balance"} & set(metrics)
    if needs_logits and not hasattr(extractor, "features_and_logits"):
        raise ValueError(
            "consistency, is and balance need an extractor with logits (domain_extractor)"
        )
    real = real_images(data) if real is None else np.asarray(real, "float32")
    fake, labels = generate_for_evaluation(model, num_samples, seed)
    if hasattr(extractor, "features_and_logits"):
        fake_features, fake_logits = extractor.features_and_logits(fake)
    else:
        fake_features, fake_logits = extractor(fake), None
    results = score_features(
        extractor(real),
        fake_features,
        metrics,
        fake_logits=fake_logits,
        labels=labels,
        kid_subset_size=min(1000, num_samples, len(real)),
        seed=seed,
    )
    results.update(
        extractor=extractor.name, num_samples=int(num_samples), num_real=len(real), skipped=skipped
    )
    return results


def _mode_coverage(model, data, metrics, num_samples, seed):
    from kgan.metrics.mode_coverage import mode_coverage, stacked_mnist_modes

    if metrics != ["modes"]:
        raise ValueError("modes counts a generator's modes and goes alone; drop the other metrics")
    if data == "stacked_mnist_5k":
        if tuple(getattr(model, "sample_shape", ())) != (28, 28, 3):
            raise ValueError(
                f"modes on stacked_mnist_5k needs a generator of 28x28x3 images; this one makes "
                f"{model.sample_shape}"
            )
        results = stacked_mnist_modes(generate_for_evaluation(model, num_samples, seed)[0])
        results.update(extractor=None, num_samples=int(num_samples), num_real=0, skipped=[])
        return results
    if tuple(getattr(model, "sample_shape", ())) != (2,):
        raise ValueError(
            f"modes needs a generator of 2-D points; this one makes {model.sample_shape}"
        )
    spec = data_lib.mixture_spec(data)
    samples = model.generate(num_samples=num_samples, seed=seed)
    results = mode_coverage(samples, spec.means, spec.std)
    results.update(extractor=None, num_samples=int(num_samples), num_real=0, skipped=[])
    return results
