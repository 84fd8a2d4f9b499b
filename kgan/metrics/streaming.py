"""FID and KID as `keras.metrics.Metric`s that accumulate generated features batch by batch."""

import keras
import numpy as np
from keras import ops

from kgan.metrics.distances import frechet_distance, kid


def _extract(extractor, images):
    if extractor is None:
        return images
    return extractor(ops.convert_to_numpy(images))


class FID(keras.metrics.Metric):
    """Streaming Fréchet distance of the features seen so far to fixed real statistics.

    The state is three additive variables in float64: the count, the sum of the features `[d]`
    and the sum of their outer products `[d, d]`. Keras sums such variables across replicas
    (`aggregation="sum"`), so the metric is distribution-safe, and the mean and the unbiased
    covariance are recovered exactly in `result()`: `cov = (S2 - n mu mu^T) / (n - 1)`. Feeding
    the same features in any batching gives `kgan.metrics.fid` of them against the real set.

    `update_state` runs the extractor eagerly (it takes numpy images); `result` computes the
    distance in numpy, so call it outside a compiled function, as callbacks do.

    Args:
        extractor: a feature extractor (`kgan.metrics.FeatureExtractor`), or None when
            `update_state` receives features directly.
        real_statistics: `(mean [d], covariance [d, d])` of the real features, from
            `kgan.metrics.feature_statistics`.
        name: the metric's name.

    Example:
        >>> extractor = kgan.metrics.domain_extractor("mnist_5k")
        >>> real = kgan.metrics.feature_statistics(extractor(real_images))
        >>> metric = kgan.metrics.FID(extractor, real)
        >>> for batch in np.split(cgan.generate(1000, seed=0), 10):
        ...     metric.update_state(batch)
        >>> float(metric.result())
    """

    def __init__(self, extractor, real_statistics, name="fid", **kwargs):
        super().__init__(name=name, dtype="float64", **kwargs)
        mean, covariance = (np.asarray(x, "float64") for x in real_statistics)
        d = mean.shape[0]
        if mean.ndim != 1 or covariance.shape != (d, d):
            raise ValueError(
                "real_statistics must be (mean [d], covariance [d, d]); got shapes "
                f"{mean.shape} and {covariance.shape}"
            )
        self.extractor = extractor
        self.real_mean = mean
        self.real_covariance = covariance
        self.count = self.add_variable((), "zeros", dtype="float64", name="count")
        self.feature_sum = self.add_variable((d,), "zeros", dtype="float64", name="feature_sum")
        self.outer_sum = self.add_variable((d, d), "zeros", dtype="float64", name="outer_sum")

    def update_state(self, images, sample_weight=None):
        """Adds a batch: images for the extractor, or `[n, d]` features without one."""
        features = ops.cast(ops.convert_to_tensor(_extract(self.extractor, images)), "float64")
        if len(features.shape) != 2 or features.shape[1] != self.real_mean.shape[0]:
            raise ValueError(
                f"expected features [n, {self.real_mean.shape[0]}]; got {tuple(features.shape)}"
            )
        self.count.assign_add(ops.cast(ops.shape(features)[0], "float64"))
        self.feature_sum.assign_add(ops.sum(features, axis=0))
        self.outer_sum.assign_add(ops.matmul(ops.transpose(features), features))

    def statistics(self):
        """Mean `[d]` and unbiased covariance `[d, d]` of the features seen, as numpy arrays."""
        n = float(ops.convert_to_numpy(self.count))
        if n < 2:
            raise ValueError(f"FID needs at least 2 samples; it has seen {int(n)}")
        total = ops.convert_to_numpy(self.feature_sum)
        outer = ops.convert_to_numpy(self.outer_sum)
        mean = total / n
        return mean, (outer - n * np.outer(mean, mean)) / (n - 1)

    def result(self):
        mean, covariance = self.statistics()
        return frechet_distance(self.real_mean, self.real_covariance, mean, covariance)

    def reset_state(self):
        for variable in (self.count, self.feature_sum, self.outer_sum):
            variable.assign(ops.zeros(variable.shape, "float64"))


class KID(keras.metrics.Metric):
    """Streaming KID: a bounded uniform reservoir of the features seen, scored against real ones.

    KID needs the features themselves, not sums, so the metric keeps at most `capacity` of them,
    chosen by reservoir sampling (Vitter's algorithm R): after any number of updates the
    reservoir is a uniform sample of all features seen. Up to `capacity` samples the result
    equals `kgan.metrics.kid` of all of them. The reservoir is replaced eagerly in numpy, so
    this metric is for single-replica evaluation loops and callbacks, not for aggregation
    across replicas.

    Args:
        extractor: a feature extractor, or None when `update_state` receives features.
        real_features: `[n, d]` features of real samples.
        capacity: the most generated features kept.
        num_subsets: subsets averaged by `kgan.metrics.kid`.
        subset_size: samples per subset.
        seed: seed of the reservoir and of the subsets.
        name: the metric's name.

    Example:
        >>> metric = kgan.metrics.KID(extractor, extractor(real_images))
        >>> metric.update_state(cgan.generate(500, seed=0))
        >>> mean, error = metric.result()
    """

    def __init__(
        self,
        extractor,
        real_features,
        capacity=2000,
        num_subsets=100,
        subset_size=1000,
        seed=0,
        name="kid",
        **kwargs,
    ):
        super().__init__(name=name, dtype="float64", **kwargs)
        real = np.asarray(real_features, "float64")
        if real.ndim != 2 or len(real) < 2:
            raise ValueError(f"real_features must be [n >= 2, d]; got {real.shape}")
        if capacity < 2:
            raise ValueError(f"capacity must be >= 2; got {capacity}")
        self.extractor = extractor
        self.real_features = real
        self.capacity = capacity
        self.num_subsets = num_subsets
        self.subset_size = subset_size
        self.seed = seed
        d = real.shape[1]
        self.seen = self.add_variable((), "zeros", dtype="float64", name="seen")
        self.reservoir = self.add_variable(
            (capacity, d), "zeros", dtype="float64", name="reservoir"
        )
        self._rng = np.random.default_rng(seed)

    def update_state(self, images, sample_weight=None):
        """Adds a batch: images for the extractor, or `[n, d]` features without one."""
        features = np.asarray(ops.convert_to_numpy(_extract(self.extractor, images)), "float64")
        if features.ndim != 2 or features.shape[1] != self.real_features.shape[1]:
            raise ValueError(
                f"expected features [n, {self.real_features.shape[1]}]; got {features.shape}"
            )
        reservoir = ops.convert_to_numpy(self.reservoir).copy()
        seen = int(ops.convert_to_numpy(self.seen))
        for row in features:
            if seen < self.capacity:
                reservoir[seen] = row
            else:
                slot = self._rng.integers(0, seen + 1)
                if slot < self.capacity:
                    reservoir[slot] = row
            seen += 1
        self.reservoir.assign(reservoir)
        self.seen.assign(float(seen))

    def result(self):
        """Returns `(mean, standard_error)` of KID against the real features."""
        kept = min(int(ops.convert_to_numpy(self.seen)), self.capacity)
        features = ops.convert_to_numpy(self.reservoir)[:kept]
        return kid(self.real_features, features, self.num_subsets, self.subset_size, seed=self.seed)

    def reset_state(self):
        self.seen.assign(0.0)
        self.reservoir.assign(np.zeros(self.reservoir.shape))
        self._rng = np.random.default_rng(self.seed)
