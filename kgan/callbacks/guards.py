"""Guards of a training run: non-finite losses and weights, and samples losing diversity."""

import math
import warnings

import keras
import numpy as np
import tensorflow as tf

from kgan import sampling


def _networks(model):
    """`{attribute: network}` of the networks a trainer holds (`Trainer.network_map`); empty
    for a plain `keras.Model`."""
    network_map = getattr(model, "network_map", None)
    return network_map() if callable(network_map) else {}


def _finite(variables):
    """Whether every float variable in `variables` holds finite values only."""
    for variable in variables:
        if (
            "float" in str(variable.dtype)
            and not np.isfinite(keras.ops.convert_to_numpy(variable)).all()
        ):
            return False
    return True


def nonfinite_networks(model):
    """Names the networks of a trainer whose weights hold NaN or infinite values.

    Args:
        model: a kgan trainer (or any `keras.Model`; its own weights count as `"model"` when it
            holds none of the named networks).

    Returns:
        A list of attribute names such as `["discriminator", "generator"]`; empty when every
        weight is finite.
    """
    networks = _networks(model)
    if not networks:
        return [] if _finite(model.weights) else ["model"]
    return [name for name, network in networks.items() if not _finite(network.weights)]


class DivergenceGuard(keras.callbacks.Callback):
    """Stops training when a loss or a weight turns NaN or infinite, and says which network
    diverged.

    After every batch it reads the trainer's losses, each owned by the network its
    `loss_owners` declares (`d_loss` -> discriminator, `g_loss` -> generator; for a VAE `kl` ->
    encoder, `reconstruction` -> decoder, `loss` -> both), and
    notes which networks hold non-finite weights (one traced check per batch). At the first
    non-finite loss, or the first non-finite weight while the losses are still finite (in graph
    mode TensorFlow's oneDNN fused dense + ReLU maps NaN inputs to 0, so broken weights need not
    show in the losses), it sets `model.stop_training` and names the network that diverged: the
    one whose weights had turned non-finite before that step (or in it, when the losses are
    finite), or else the owner of the first non-finite loss in the order the step computes
    them. `message` and
    `diverged_network` keep the verdict, which is also warned. Keras still calls `on_epoch_end`
    for the interrupted epoch; `RunCheckpoint` does not save non-finite weights, so a run
    folder keeps its last good epoch.

    Args:
        raise_error: raise a `FloatingPointError` with the message at the end of training
            instead of only warning.

    Example:
        >>> guard = kgan.callbacks.DivergenceGuard()
        >>> gan.fit(data, epochs=10, callbacks=[guard])
        >>> if guard.message: print(guard.message)
    """

    def __init__(self, raise_error=False):
        super().__init__()
        self.raise_error = raise_error
        self.message = None
        self.diverged_network = None
        self.epoch = None
        self._current_epoch = 0
        self._check = None
        self._nonfinite_before = []

    def on_train_begin(self, logs=None):
        self.message = self.diverged_network = self.epoch = None
        networks = _networks(self.model) or {"model": self.model}
        floats = {
            name: [v for v in network.weights if "float" in str(v.dtype)]
            for name, network in networks.items()
        }

        @tf.function
        def finite():
            return {
                name: tf.reduce_all([tf.reduce_all(tf.math.is_finite(v)) for v in variables])
                for name, variables in floats.items()
                if variables
            }

        self._check = finite
        self._nonfinite_before = self._nonfinite_networks()

    def _nonfinite_networks(self):
        return [name for name, ok in self._check().items() if not bool(ok)]

    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.message is not None or not logs:
            return
        # The losses a trainer declares, in the order its step computes them.
        owners = tuple(getattr(self.model, "loss_owners", ()))
        known = {name for name, _ in owners}
        bad = [(name, network) for name, network in owners if not _finite_log(logs, name)]
        bad += [(name, None) for name in logs if name not in known and not _finite_log(logs, name)]
        now = self._nonfinite_networks()
        if not bad and not now:
            self._nonfinite_before = now
            return
        self.model.stop_training = True
        self.epoch = self._current_epoch + 1
        losses = ", ".join(f"{name} is {float(logs[name])}" for name, _ in bad)
        losses = losses or "the losses are finite but weights are not"
        if self._nonfinite_before:
            self.diverged_network = self._nonfinite_before[0]
            why = "its weights turned non-finite first"
        elif not bad:
            self.diverged_network = now[0]
            why = "its weights turned non-finite"
        else:
            self.diverged_network = next((n for _, n in bad if n), "model")
            why = "its loss turned non-finite first in the step"
        held = f"non-finite weights now in: {', '.join(now)}" if now else "weights still finite"
        advice = "Lower the learning rate"
        if "discriminator" in _networks(self.model):
            advice += ", or steady the discriminator (a gradient penalty, R1, spectral norm)"
        self.message = (
            f"training diverged in epoch {self.epoch}, batch {batch + 1}: {losses}. The "
            f"{self.diverged_network} diverged ({why}; {held}). {advice}"
        )
        warnings.warn(self.message, RuntimeWarning, stacklevel=2)

    def on_train_end(self, logs=None):
        if self.message is not None and self.raise_error:
            raise FloatingPointError(self.message)


def _finite_log(logs, name):
    """False only for a numeric log entry that is NaN or infinite."""
    try:
        return math.isfinite(float(logs[name]))
    except (KeyError, TypeError, ValueError):
        return True


class ModeCollapseWarning(UserWarning):
    """Generated samples have lost much of the real data's diversity."""


def _mean_pairwise_distance(x):
    """Mean Euclidean distance between the distinct pairs of rows of `x` [n, d]."""
    x = x.reshape(len(x), -1).astype("float64")
    if len(x) < 2:
        return float("nan")
    squared = np.sum(x * x, axis=1)
    distances = squared[:, None] + squared[None, :] - 2.0 * x @ x.T  # [n, n]
    distances = np.sqrt(np.maximum(distances, 0.0))
    return float(distances.sum() / (len(x) * (len(x) - 1)))


def _class_perplexity(predictions, num_classes):
    """exp(entropy) of the histogram of predicted classes: 1 for one class, up to num_classes."""
    predicted = np.argmax(np.asarray(predictions).reshape(len(predictions), -1), axis=1)
    share = np.bincount(predicted, minlength=num_classes) / len(predicted)
    share = share[share > 0]
    return float(np.exp(-np.sum(share * np.log(share))))


class ModeCollapseMonitor(keras.callbacks.Callback):
    """Warns when generated samples lose the diversity of the real data.

    Every `every` epochs it draws `num_samples` samples from fixed latents and compares their
    mean pairwise distance with the real samples' own: `logs["diversity"]` is the ratio
    (about 1 for a generator as varied as the data, 0 for a constant one). A conditional
    model given `real_labels` is compared class by class and the worst class counts. With a
    reference `classifier`, `logs["class_coverage"]` is the perplexity of the predicted-class
    histogram of the samples over that of the real samples (a generator that draws one class
    scores 1 / num_classes). Either figure below `threshold` emits a `ModeCollapseWarning`.
    Put it before `keras.callbacks.CSVLogger` so the figures reach the history.

    Args:
        real_samples: real data, `[n, *sample_shape]` in the model's range.
        real_labels: `[n]` int labels of `real_samples`, for a class-by-class comparison of a
            conditional model.
        num_samples: samples drawn per check (and real samples compared).
        every: check every this many epochs.
        threshold: warn below this fraction of the real data's diversity.
        classifier: optional `keras.Model` from samples to class scores `[n, num_classes]`,
            e.g. from `kgan.metrics.cached_reference_classifier`; never trained here.
        start_epoch: first epoch (1-based) that may warn; earlier checks only log.
        seed: seed of the fixed latents and of the real subset.

    Example:
        >>> x, y = kgan.data.load_arrays("mnist_5k", num_examples=500)
        >>> monitor = kgan.callbacks.ModeCollapseMonitor(x, y, every=5)
        >>> cgan.fit(data, epochs=40, callbacks=[monitor])
    """

    def __init__(
        self,
        real_samples,
        real_labels=None,
        num_samples=256,
        every=1,
        threshold=0.5,
        classifier=None,
        start_epoch=1,
        seed=0,
    ):
        super().__init__()
        real_samples = np.asarray(real_samples, dtype="float32")
        if num_samples < 2 or every < 1 or len(real_samples) < 2:
            raise ValueError(
                "num_samples must be >= 2, every >= 1 and real_samples must hold >= 2 samples; "
                f"got {num_samples}, {every}, {len(real_samples)}"
            )
        if not 0.0 < threshold < 1.0:
            raise ValueError(f"threshold must be in (0, 1); got {threshold!r}")
        rng = np.random.default_rng(seed)
        keep = rng.permutation(len(real_samples))[:num_samples]
        self.real_samples = real_samples[keep]
        self.real_labels = None
        if real_labels is not None:
            real_labels = np.asarray(real_labels).reshape(-1)
            if len(real_labels) != len(real_samples):
                raise ValueError(
                    f"got {len(real_labels)} real_labels for {len(real_samples)} real_samples"
                )
            self.real_labels = real_labels[keep].astype("int32")
        self.num_samples = num_samples
        self.every = every
        self.threshold = threshold
        self.classifier = classifier
        self.start_epoch = start_epoch
        self.seed = seed
        self.history = []
        self._real_diversity = None
        self._real_perplexity = None

    def _generate(self):
        model = self.model
        if getattr(model, "conditional", False):
            labels = sampling.cycled_labels(self.num_samples, model.num_classes)
            return model.generate(labels=labels, seed=self.seed), labels
        return model.generate(self.num_samples, seed=self.seed), None

    def _diversity(self, samples, labels):
        """The ratio of generated to real diversity, and the class it was worst for."""
        if labels is None or self.real_labels is None:
            if self._real_diversity is None:
                self._real_diversity = _mean_pairwise_distance(self.real_samples)
            return _mean_pairwise_distance(samples) / self._real_diversity, None
        if self._real_diversity is None:
            self._real_diversity = {
                int(c): _mean_pairwise_distance(self.real_samples[self.real_labels == c])
                for c in np.unique(self.real_labels)
            }
        ratios = {
            c: _mean_pairwise_distance(samples[labels == c]) / real
            for c, real in self._real_diversity.items()
            if real > 0 and np.sum(labels == c) >= 2
        }
        if not ratios:
            raise ValueError(
                "no class has two real and two generated samples; raise num_samples or pass "
                "more real samples"
            )
        worst = min(ratios, key=ratios.get)
        return ratios[worst], worst

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every:
            return
        samples, labels = self._generate()
        if not np.isfinite(samples).all():
            return  # a diverged model; DivergenceGuard reports it
        diversity, worst_class = self._diversity(samples, labels)
        record = {"epoch": epoch + 1, "diversity": diversity}
        problems = []
        if diversity < self.threshold:
            where = "" if worst_class is None else f" (class {worst_class})"
            problems.append(
                f"sample diversity{where} is {diversity:.3f} of the real data's "
                f"(mean pairwise distance; threshold {self.threshold})"
            )
        if self.classifier is not None:
            scores = self.classifier.predict(samples, verbose=0)
            num_classes = int(np.asarray(scores).reshape(len(samples), -1).shape[1])
            if self._real_perplexity is None:
                real_scores = self.classifier.predict(self.real_samples, verbose=0)
                self._real_perplexity = _class_perplexity(real_scores, num_classes)
            coverage = _class_perplexity(scores, num_classes) / self._real_perplexity
            record["class_coverage"] = coverage
            if coverage < self.threshold:
                problems.append(
                    f"the predicted classes cover {coverage:.3f} of the real data's spread "
                    f"(histogram perplexity; threshold {self.threshold})"
                )
        self.history.append(record)
        if logs is not None:
            logs.update({k: v for k, v in record.items() if k != "epoch"})
        if problems and epoch + 1 >= self.start_epoch:
            warnings.warn(
                f"possible mode collapse at epoch {epoch + 1}: {'; '.join(problems)}. Try a "
                "lower learning rate, PacGAN packing, a gradient penalty or augmentation",
                ModeCollapseWarning,
                stacklevel=2,
            )
