"""Input checks and batch sources for `GaussianMixture`: arrays in memory or streamed batches."""

import numpy as np
import tensorflow as tf


def is_stream(X):
    """Whether `X` is streamed data: a `tf.data.Dataset`, a function returning an iterable of
    batches, or a list/tuple of 2-D batches (anything else is one array)."""
    if isinstance(X, tf.data.Dataset) or callable(X):
        return True
    if isinstance(X, (np.ndarray, tf.Tensor)) or hasattr(X, "__array__"):
        return False
    if isinstance(X, (list, tuple)):
        return len(X) > 0 and np.ndim(X[0]) == 2
    if hasattr(X, "__next__") and iter(X) is X:
        raise ValueError(
            "X is a one-shot iterator, but EM reads the data once per iteration; pass a "
            "tf.data.Dataset, a list of batches, or a function returning a fresh iterator"
        )
    return hasattr(X, "__iter__")


def check_matrix(X, dtype, num_features=None, name="X"):
    """`X` as a finite `[n, d]` numpy array of `dtype`, or a ValueError that says what to fix."""
    if isinstance(X, tf.Tensor):
        X = X.numpy()
    try:
        array = np.asarray(X, dtype=dtype)
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"{name} must be a numeric array [n_samples, n_features]; {error}"
        ) from None
    if array.ndim != 2:
        raise ValueError(
            f"{name} must be a 2-D array [n_samples, n_features]; got shape {array.shape}. "
            "Reshape one feature with x.reshape(-1, 1) or one sample with x.reshape(1, -1)"
        )
    if array.shape[0] == 0:
        raise ValueError(f"{name} has no samples (shape {array.shape}); pass at least one row")
    if num_features is not None and array.shape[1] != num_features:
        raise ValueError(
            f"{name} has {array.shape[1]} features, but the GaussianMixture was fitted with "
            f"{num_features} features"
        )
    if not np.isfinite(array).all():
        bad = int((~np.isfinite(array)).any(axis=1).sum())
        raise ValueError(
            f"{name} contains NaN or infinity in {bad} of {len(array)} rows; remove or impute "
            "them first"
        )
    return array


class BatchSource:
    """Re-iterable batches of a stream, each a finite `[b, d]` numpy array.

    Args:
        X: a `tf.data.Dataset` of batches or of `(x, y)` pairs, a list of batches, or a
            function returning an iterable of batches (called once per pass).
        dtype: numpy dtype of the batches.
    """

    def __init__(self, X, dtype):
        self.source = X
        self.dtype = dtype
        self.num_features = None

    def __iter__(self):
        batches = self.source() if callable(self.source) else self.source
        if isinstance(batches, tf.data.Dataset):
            batches = batches.as_numpy_iterator()
        for batch in batches:
            if isinstance(batch, (tuple, list)) and not isinstance(batch, np.ndarray):
                batch = batch[0]  # (x, y) pairs: y is not used
            batch = check_matrix(batch, self.dtype, self.num_features, name="a batch of X")
            self.num_features = batch.shape[1]
            yield batch

    def head(self, num_samples):
        """The first `num_samples` rows (or all there are) as one array."""
        rows, taken = [], 0
        for batch in self:
            rows.append(batch[: num_samples - taken])
            taken += len(rows[-1])
            if taken >= num_samples:
                break
        if not rows:
            raise ValueError("X yielded no batches; pass a non-empty stream of [b, d] arrays")
        return np.concatenate(rows)
