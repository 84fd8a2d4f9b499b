"""Clustering benchmark: ACC / NMI / ARI of kgan's clusterings beside k-means and the papers.

Every method clusters a whole dataset (`digits`: 1,797 8x8 images; `mnist_5k`: 5,000 MNIST
digits); the labels serve only for scoring. Rows:

- `kmeans_raw`: scikit-learn `KMeans(10, n_init=10)` on the raw pixels.
- `gmm_pca50`: `kgan.mixture.GaussianMixture(10, covariance_type="full", n_init=5)` on the first
  50 principal components of the pixels (a full covariance on 784 raw pixels is singular at
  the constant border pixels).
- `umap_gmm`: UMAP of the raw pixels, then the GaussianMixture (`LatentClustering(None,
  manifold=umap)`): N2D's manifold step without the autoencoder.
- `vae_gmm`: a `kgan.models.VAE` (normal prior), then `kgan.cluster.LatentClustering` with a
  full-covariance GaussianMixture on its posterior means. On `digits` the VAE has the
  convolutional networks; on `mnist_5k` it follows N2D: MLPs 784-500-500-2000-10 on the
  flattened pixels with a tiny KL weight (beta 0.01), close to a plain autoencoder.
- `vae_umap_gmm`: N2D-style (McConville et al. 2020): the same VAE's means, embedded by UMAP,
  then the GaussianMixture (`LatentClustering(vae, manifold=umap)`).
- `vade`: `kgan.cluster.VaDEClustering` fine-tuning the same VAE with a mixture prior,
  initialized from a full-covariance GaussianMixture on its posterior means.
- `self_labeling`: `kgan.cluster.SelfLabelingClustering` started from `umap_gmm`'s clusters:
  every round trains a fresh classifier on the most confident half of every cluster (by
  log-density under the mixture) and clusters its features by UMAP (the dataset's neighbours)
  and the GaussianMixture again (DeepCluster's alternation, Caron et al. 2018, with N2D's
  clusterer); no VAE. On `mnist_5k` the classifier is a small CNN that augments with random
  shifts, rotations and zooms (15 epochs a round); on the 8x8 `digits` an MLP (40 epochs).

The three VAE rows share one pretrained VAE per dataset and seed; their times include it.

python benchmarks/clustering.py                       # both datasets, 5 seeds
python benchmarks/clustering.py --datasets digits --seeds 1 --quick
"""

import argparse
import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.cluster import KMeans  # noqa: E402
from sklearn.decomposition import PCA  # noqa: E402

import kgan  # noqa: E402
import kgan.cluster  # noqa: E402
from kgan.mixture import GaussianMixture  # noqa: E402

METHODS = (
    "kmeans_raw",
    "gmm_pca50",
    "umap_gmm",
    "vae_gmm",
    "vae_umap_gmm",
    "vade",
    "self_labeling",
)
DATASETS = ("digits", "mnist_5k")

# Published clustering accuracies (percent) on the full MNIST (70,000 digits), for context.
PUBLISHED = {
    "mnist_5k": {
        "kmeans_raw": "53-57 (k-means, pixels)",
        "vae_gmm": "88 (autoencoder + k-means)",
        "vae_umap_gmm": "97.9 (N2D, McConville et al. 2020)",
        "vade": "94.46 (VaDE, Jiang et al. 2017)",
        "self_labeling": "none for MNIST (SCAN, DeepCluster report CIFAR/STL/ImageNet)",
        "other": "DEC 84.3 (Xie et al. 2016); IIC 99.2 (Ji et al. 2019)",
    },
    "digits": {"kmeans_raw": "about 79 (k-means, pixels)"},
}

# The VAE and its downstream settings, per dataset (see the module docstring of the results).
SETTINGS = {
    "digits": dict(
        latent_dim=16,
        likelihood="bernoulli",
        beta=0.05,
        epochs=100,
        batch_size=64,
        vade_epochs=20,
        umap_neighbors=5,
        self_labeling_rounds=3,
        self_labeling_epochs=40,
    ),
    # N2D's recipe (McConville et al. 2020): an MLP 784-500-500-2000-10 on the flattened
    # pixels, close to a plain autoencoder (tiny beta), then UMAP to 10 dimensions.
    "mnist_5k": dict(
        latent_dim=10,
        hidden_units=[500, 500, 2000],
        likelihood="bernoulli",
        beta=0.01,
        epochs=100,
        batch_size=256,
        vade_epochs=5,
        umap_neighbors=20,
        self_labeling_rounds=3,
        self_labeling_epochs=15,
    ),
}
QUICK = dict(epochs=3, vade_epochs=1, self_labeling_rounds=1, self_labeling_epochs=1)


def vae_inputs(x, settings):
    """The VAE's view of `x`: the images, or flattened vectors for the MLP networks."""
    return x.reshape(len(x), -1) if settings.get("hidden_units") else x


def train_vae(x, settings, seed):
    """A VAE with the normal prior on `x`, the shared start of the three VAE rows.

    With `hidden_units` in the settings the networks are MLPs on the flattened samples (the
    decoder mirrors the encoder); without, the convolutional networks on the images.
    """
    keras.utils.set_random_seed(seed)
    x = vae_inputs(x, settings)
    shape, latent_dim = x.shape[1:], settings["latent_dim"]
    hidden = settings.get("hidden_units")
    if hidden:
        encoder = kgan.networks.vae_encoder(shape, latent_dim, hidden_units=tuple(hidden))
        decoder = kgan.networks.vae_decoder(shape, latent_dim, hidden_units=tuple(hidden[::-1]))
    else:
        encoder = kgan.networks.vae_encoder(shape, latent_dim)
        decoder = kgan.networks.vae_decoder(shape, latent_dim)
    vae = kgan.models.VAE(
        encoder, decoder, likelihood=settings["likelihood"], beta=settings["beta"], seed=seed
    )
    vae.compile()
    vae.fit(x, epochs=settings["epochs"], batch_size=settings["batch_size"], verbose=0)
    return vae


def run_method(method, x, settings, seed, vae, y):
    """Cluster ids `[n]` of `x` by one method, and a dict of details for the results.

    `y` only scores the intermediate clusters of `self_labeling`.
    """
    if method == "self_labeling":

        def umap_mixture():
            manifold = kgan.cluster.umap_embedding(
                10, n_neighbors=settings["umap_neighbors"], random_state=seed
            )
            return kgan.cluster.LatentClustering(None, 10, manifold=manifold, random_state=seed)

        clustering = kgan.cluster.SelfLabelingClustering(
            umap_mixture(),
            n_clusters=10,
            clusterer=umap_mixture(),
            rounds=settings["self_labeling_rounds"],
            epochs=settings["self_labeling_epochs"],
            random_state=seed,
        )
        labels = clustering.fit_predict(x)
        details = {
            "acc_per_round": [
                kgan.cluster.clustering_accuracy(y, round_labels)
                for round_labels in clustering.labels_per_round_
            ],
            "seconds_per_round": [entry["seconds"] for entry in clustering.history_],
        }
        return labels, details
    return _run_plain_method(method, x, settings, seed, vae), {}


def _run_plain_method(method, x, settings, seed, vae):
    flat = x.reshape(len(x), -1)
    if method == "kmeans_raw":
        return KMeans(10, n_init=10, random_state=seed).fit_predict(flat)
    if method == "gmm_pca50":
        features = PCA(50, random_state=seed).fit_transform(flat)
        mixture = GaussianMixture(10, covariance_type="full", n_init=5, random_state=seed)
        return mixture.fit_predict(features)
    if method == "umap_gmm":
        manifold = kgan.cluster.umap_embedding(
            10, n_neighbors=settings["umap_neighbors"], random_state=seed
        )
        clustering = kgan.cluster.LatentClustering(None, 10, manifold=manifold, random_state=seed)
        return clustering.fit_predict(x)
    x = vae_inputs(x, settings) if method in ("vae_gmm", "vae_umap_gmm", "vade") else x
    if method == "vae_gmm":
        return kgan.cluster.LatentClustering(vae, 10, random_state=seed).fit_predict(x)
    if method == "vae_umap_gmm":
        manifold = kgan.cluster.umap_embedding(
            10, n_neighbors=settings["umap_neighbors"], random_state=seed
        )
        clustering = kgan.cluster.LatentClustering(vae, 10, manifold=manifold, random_state=seed)
        return clustering.fit_predict(x)
    if method == "vade":
        keras.utils.set_random_seed(seed)
        vade = kgan.cluster.VaDEClustering(
            10,
            epochs=settings["vade_epochs"],
            batch_size=settings["batch_size"],
            likelihood=settings["likelihood"],
            vae=vae,
            random_state=seed,
        )
        return vade.fit_predict(x)
    raise ValueError(f"unknown method {method!r}; choose from {METHODS}")


def summarize(runs):
    """Mean and standard deviation of each score over the seeds."""
    summary = {}
    for key in ("acc", "nmi", "ari", "seconds"):
        values = np.array([run[key] for run in runs])
        summary[key] = {"mean": float(values.mean()), "std": float(values.std())}
    return summary


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=DATASETS)
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--seeds", type=int, default=5, help="seeds 0 .. N-1")
    parser.add_argument("--quick", action="store_true", help="a few epochs: checks it runs")
    parser.add_argument("--out", default="benchmarks/results/clustering.json")
    parser.add_argument(
        "--update",
        action="store_true",
        help="keep the other datasets and methods already in --out",
    )
    args = parser.parse_args(argv)

    results = {"settings": {}, "results": {}}
    if args.update and os.path.exists(args.out):
        with open(args.out) as f:
            results = json.load(f)
    results.update(published_acc=PUBLISHED, quick=args.quick)
    for dataset in args.datasets:
        x, y = kgan.data.load_arrays(dataset, split="all")
        settings = dict(SETTINGS[dataset], **(QUICK if args.quick else {}))
        results["settings"][dataset] = settings
        runs = {method: [] for method in args.methods}
        for seed in range(args.seeds):
            vae, vae_seconds = None, 0.0
            if any(m in ("vae_gmm", "vae_umap_gmm", "vade") for m in args.methods):
                started = time.perf_counter()
                vae = train_vae(x, settings, seed)
                vae_seconds = time.perf_counter() - started
            for method in args.methods:
                started = time.perf_counter()
                labels, details = run_method(method, x, settings, seed, vae, y)
                seconds = time.perf_counter() - started
                if method in ("vae_gmm", "vae_umap_gmm", "vade"):
                    seconds += vae_seconds
                run = dict(
                    kgan.cluster.clustering_scores(y, labels), seconds=seconds, seed=seed, **details
                )
                runs[method].append(run)
                print(
                    f"{dataset:9s} {method:13s} seed {seed}  ACC {run['acc']:.4f}  "
                    f"NMI {run['nmi']:.4f}  ARI {run['ari']:.4f}  {seconds:6.1f} s",
                    flush=True,
                )
            if vae is not None:
                del vae
                keras.backend.clear_session()
            # Written after every seed, so an interrupted run keeps what it measured.
            rows = results["results"].get(dataset, {}) if args.update else {}
            rows.update(
                {
                    method: {
                        "runs": method_runs,
                        "seeds": len(method_runs),
                        **summarize(method_runs),
                    }
                    for method, method_runs in runs.items()
                }
            )
            results["results"][dataset] = rows
            kgan.atomic.atomic_write_json(args.out, results)

    print(
        f"\n{'dataset':9s} {'method':13s} {'ACC %':>13s} {'NMI %':>13s} {'ARI %':>13s} "
        f"{'s / seed':>8s}  published MNIST ACC %"
    )
    for dataset, rows in results["results"].items():
        if dataset not in args.datasets:
            continue
        for method, row in rows.items():
            cells = "".join(
                f" {100 * row[k]['mean']:6.2f} ± {100 * row[k]['std']:4.2f}"
                for k in ("acc", "nmi", "ari")
            )
            published = PUBLISHED.get(dataset, {}).get(method, "")
            print(f"{dataset:9s} {method:13s}{cells} {row['seconds']['mean']:8.1f}  {published}")
    print(f"wrote {args.out}")
    return results


if __name__ == "__main__":
    sys.exit(main() and 0)
