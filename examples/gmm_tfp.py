"""Fit a Gaussian mixture by EM, read it as a TFP distribution, stream data, export it.

python examples/gmm_tfp.py --out gmm_export
"""

import argparse

import numpy as np
import tensorflow as tf

from kgan.mixture import GaussianMixture


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default="gmm_export")
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    centers = rng.normal(0.0, 4.0, (5, 2))
    x = centers[rng.integers(0, 5, 20_000)] + rng.normal(size=(20_000, 2))

    gmm = GaussianMixture(n_components=5, random_state=0).fit(x)
    print("weights", np.round(gmm.weights_, 3), "mean log-likelihood", gmm.score(x))

    distribution = gmm.distribution()  # tfd.MixtureSameFamily, built from the fitted arrays
    print(
        "max |log_prob - score_samples|",
        np.abs(distribution.log_prob(x) - gmm.score_samples(x)).max(),
    )

    # The same fit from batches that could come from disk: EM reads the dataset once per step.
    dataset = tf.data.Dataset.from_tensor_slices(x).batch(4096)
    streamed = GaussianMixture(
        5, means_init=gmm.means_, weights_init=gmm.weights_, precisions_init=gmm.precisions_
    ).fit(dataset)
    print("streamed refit moved the means by", np.abs(streamed.means_ - gmm.means_).max())

    module = gmm.inference_module()
    tf.saved_model.save(module, args.out, signatures=module.signatures())
    restored = tf.saved_model.load(args.out)
    scores = restored.signatures["score_samples"](x=tf.constant(x[:3], tf.float32))["output_0"]
    print("SavedModel score_samples", scores.numpy(), "vs", gmm.score_samples(x[:3]))


if __name__ == "__main__":
    main()
