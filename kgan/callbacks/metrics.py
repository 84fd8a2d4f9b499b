"""Scoring samples during `fit`, with optional early stopping on a metric."""

import keras
import numpy as np

from kgan.metrics.evaluate import (
    LOWER_IS_BETTER,
    METRICS,
    check_metrics,
    generate_for_evaluation,
    real_images,
    score_features,
)


class MetricsCallback(keras.callbacks.Callback):
    """Scores generated samples every `every` epochs and writes the scores into the epoch logs.

    The scores (`logs["fid"]`, `logs["consistency"]`, ... see `kgan.metrics.score_features`)
    land in the `History` that `fit` returns, in `CSVLogger` files, and in TensorBoard when a
    `keras.callbacks.TensorBoard` comes after this callback in the list. The samples come from
    the same seed at every evaluation; real features are computed once.

    With `monitor` and `patience`, training stops when the monitored score has not improved for
    `patience` evaluations (lower is better for `fid` and `kid`, higher for the others).

    Args:
        metrics: names among `fid`, `kid`, `pr`, `dc`, `is`, `consistency`; `consistency`
            is skipped for unconditional models.
        every: evaluate every this many epochs.
        num_samples: generated images per evaluation.
        extractor: a `kgan.metrics.FeatureExtractor`; `kgan.metrics.domain_extractor(data)`
            when None (built at the first evaluation).
        real: real images `[n, h, w, c]` in [-1, 1]; `data`'s train split when None.
        data: dataset of the default extractor and real images.
        seed: seed of the samples.
        monitor: a result key (e.g. `"fid"`) to stop on; None for no early stopping.
        patience: evaluations without improvement before stopping.
        min_delta: smallest change that counts as an improvement.
        verbose: print the scores after each evaluation.

    Example:
        >>> history = cgan.fit(
        ...     data,
        ...     epochs=40,
        ...     callbacks=[
        ...         kgan.callbacks.MetricsCallback(["fid", "consistency"], every=5,
        ...                                      monitor="fid", patience=3),
        ...         keras.callbacks.TensorBoard("runs/cgan/logs"),
        ...     ],
        ... )
        >>> history.history["fid"]
    """

    def __init__(
        self,
        metrics=("fid", "consistency"),
        every=1,
        num_samples=1000,
        extractor=None,
        real=None,
        data="mnist_5k",
        seed=0,
        monitor=None,
        patience=None,
        min_delta=0.0,
        verbose=0,
    ):
        super().__init__()
        self.metric_names = check_metrics(metrics)
        if every < 1 or num_samples < 2:
            raise ValueError(f"every must be >= 1 and num_samples >= 2; got {every}, {num_samples}")
        keys = [key for name in self.metric_names for key in METRICS[name]]
        if monitor is not None and monitor not in keys:
            raise ValueError(f"monitor must be one of the scores {keys}; got {monitor!r}")
        if patience is not None and (monitor is None or patience < 1):
            raise ValueError("patience needs a monitor and must be >= 1")
        self.every = every
        self.num_samples = num_samples
        self.extractor = extractor
        self.real = real
        self.data = data
        self.seed = seed
        self.monitor = monitor
        self.patience = patience
        self.min_delta = min_delta
        self.verbose = verbose
        self._real_features = None
        self.best = None
        self.wait = 0
        self.stopped_epoch = None

    def _setup(self):
        if self.extractor is None:
            from kgan.metrics.features import domain_extractor

            self.extractor = domain_extractor(self.data)
        real = real_images(self.data) if self.real is None else np.asarray(self.real, "float32")
        self._real_features = self.extractor(real)

    def evaluate(self):
        """Scores the model's samples now; returns the dict of scores."""
        if self._real_features is None:
            self._setup()
        names = list(self.metric_names)
        if "consistency" in names and not getattr(self.model, "conditional", False):
            names.remove("consistency")
        fake, labels = generate_for_evaluation(self.model, self.num_samples, self.seed)
        logits = None
        if hasattr(self.extractor, "features_and_logits"):
            features, logits = self.extractor.features_and_logits(fake)
        else:
            features = self.extractor(fake)
        return score_features(
            self._real_features,
            features,
            names,
            fake_logits=logits,
            labels=labels,
            kid_subset_size=min(1000, self.num_samples, len(self._real_features)),
            seed=self.seed,
        )

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every:
            return
        scores = self.evaluate()
        if logs is not None:
            logs.update(scores)
        if self.verbose:
            text = ", ".join(f"{k} {v:.4g}" for k, v in scores.items())
            print(f"epoch {epoch + 1}: {text}", flush=True)
        if self.monitor is None or self.monitor not in scores:
            return
        value = scores[self.monitor]
        sign = 1.0 if LOWER_IS_BETTER.get(self.monitor, False) else -1.0
        if self.best is None or sign * (self.best - value) > self.min_delta:
            self.best = value
            self.wait = 0
        elif self.patience is not None:
            self.wait += 1
            if self.wait >= self.patience:
                self.stopped_epoch = epoch + 1
                self.model.stop_training = True
