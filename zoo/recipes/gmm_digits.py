"""Fits, measures and writes the gmm_digits mixture (then publish it with gmm_digits.sh).

A 10-component full-covariance Gaussian mixture fitted by EM on the 64 pixels of
scikit-learn's 8x8 digits (train split, pixels scaled to [-1, 1]); measured on the test split
against scikit-learn's `GaussianMixture` with the same settings.
"""

import json
import os

import numpy as np
import sklearn.mixture

import kgan

SETTINGS = {
    "n_components": 10,
    "covariance_type": "full",
    "reg_covar": 1e-2,
    "n_init": 3,
    "random_state": 0,
}


def main(out="runs/gmm_digits"):
    x_train, y_train = kgan.data.load_arrays("digits", split="train")
    x_test, y_test = kgan.data.load_arrays("digits", split="test")
    x_train = x_train.reshape(len(x_train), -1).astype("float64")
    x_test = x_test.reshape(len(x_test), -1).astype("float64")
    gmm = kgan.mixture.GaussianMixture(**SETTINGS).fit(x_train)
    reference = sklearn.mixture.GaussianMixture(**SETTINGS).fit(x_train)
    metrics = {
        "test_log_likelihood": float(gmm.score(x_test)),
        "sklearn_test_log_likelihood": float(reference.score(x_test)),
        "test_clustering_accuracy": float(
            kgan.cluster.clustering_accuracy(y_test, gmm.predict(x_test))
        ),
        "sklearn_test_clustering_accuracy": float(
            kgan.cluster.clustering_accuracy(y_test, reference.predict(x_test))
        ),
        "n_iter": int(gmm.n_iter_),
        "converged": int(bool(gmm.converged_)),
    }
    os.makedirs(out, exist_ok=True)
    gmm.save(os.path.join(out, "gmm.npz"))
    kgan.atomic.atomic_write_json(os.path.join(out, "metrics.json"), metrics)
    print(json.dumps(metrics, indent=2))
    assert np.isfinite(metrics["test_log_likelihood"])


if __name__ == "__main__":
    main()
