"""Unsupervised learning with GANs: clusters and codes found without labels, beside the papers.

On all 5,000 `mnist_5k` digits (and all 1,797 8x8 `digits`), labels used only for scoring:

- clustering: ACC (Hungarian matching, `kgan.cluster.clustering_accuracy`, not purity), NMI and
  ARI of each GAN-native method's own clusters (`model.cluster(x)`), mean and std over seeds,
  seconds per seed (training included);
- codes: the 1-NN accuracy of each encoder's features, fitted on the training split's digits
  and scored on the held-out ones (mnist_5k: 4,000 / 1,000), beside raw pixels, PCA-32 and the
  `vae_mnist` preset's encoder.

Rows of kgan's GAN-native methods (`kgan.cluster.GANClustering`):

- `infogan_vat`: `infogan_separate` with a virtual adversarial term on the real digits as well
  (`vat_weight=1`, `vat_epsilon=0.03`: Q's categories at the worst point within a root mean
  square of 0.03 per pixel must stay those of the image, IMSAT's VAT term, Hu et al. 2017;
  beside the affine consistency term). It makes the five heads disagree: one good head a seed
  and the others at 72-88%, and the good one below `infogan_separate`'s on average (seeds 0-2:
  96.8, 96.0, 94.8). At `vat_epsilon=0.1` (IMSAT's quarter of the distance to the tenth
  neighbour) every head came out worse (72-86% on seed 0).
- `infogan_sample_codes`: `infogan_separate` whose Q also learns the generator's categories
  (`sample_category_weight=0.3`: the categorical code's cross-entropy on generated samples, the
  paper's InfoGAN term, beside the real-data terms). Seed 0: 95.1%, against 96.2% without.
- `infogan_views`: `infogan_separate` whose consistency term averages over two affine copies
  of each real digit a step (`consistency_views=2`) instead of one.
- `infogan_lr2e3`: `infogan_separate` with both learning rates at 2e-3 instead of 1e-3 (the
  same cosine decay).
- `infogan_vote`: `infogan_lr2e3` whose clusters are the vote of each digit's neighbourhood in
  its own features (`GANClustering(n_neighbors=5)`: the mean of Q's probabilities of the digit
  and of its 5 nearest digits by cosine distance between `encode` features); the model's own
  clustering is reported beside it as `model_acc`.
- `infogan_separate`: `infogan_heads` with a body of its own for each of the five heads
  (`separate_heads=True`, width 32 each instead of one of width 64): five independent starts of
  the same objective, the one with the lowest real-data terms in use; `encode` gives the five
  bodies' hidden layers side by side (640 features).
- `infogan_separate_cont`: the same with a sixth body for the two continuous codes
  (`continuous_body=True`) instead of the last head's (768 features).
- `infogan_heads`: `infogan_sat`'s objective with Q as a network of its own
  (`share_body=False`: `kgan.networks.code_encoder`, width 64, one 128-unit layer), which the
  adversarial loss does not pull on, and five categorical heads trained together
  (`category_heads=5`), the one in use being the head whose real-data terms are lowest in a
  moving average; Adam(1e-3, 0.5) with cosine decay to 1% over 40 epochs on mnist_5k and 150
  on digits (7 batches an epoch against 19), batch 256.
- `infogan_heads10`: the same with ten categorical heads.

- `infogan_sat`: `kgan.models.InfoGAN` (the paper's latent, lambda 1) whose Q learns its
  categories from the real digits, self-augmented information maximization as in IMSAT (Hu et
  al. 2017): `im_weight=0.1`, `im_balance=4` (confident, firmly balanced categories) and
  `consistency_weight=1` (the same category for a randomly rotated, scaled and shifted copy,
  `kgan.augment.affine`); `sample_category_weight=0`, so Q's categories are not fitted to the
  generator's, while the generator learns to draw each of Q's categories (info loss on its
  side). Non-saturating loss, Adam(1e-3, 0.5), batch 256, 60 epochs; Q is one 128-unit layer
  on the discriminator's features (width 32), trained with the adversarial loss.
- `clustergan`: `kgan.models.ClusterGAN` with the paper's latent (noise 30, sigma 0.1, 10 codes)
  and losses (WGAN-GP: 5 critic steps, penalty 10; beta_n = beta_c = 10), Adam(1e-4, 0.5, 0.9),
  batch 64; `kgan.models.build_trainer`'s DCGAN-style networks (width 32) and code encoder.
- `infogan`: `kgan.models.InfoGAN` with the paper's MNIST latent (62 noise + Cat(10) + 2
  continuous codes, lambda 1), the non-saturating loss and kgan's default Adam(2e-4, 0.5),
  batch 64; Q is one 128-unit layer on the discriminator's features.
- `infogan_im`: the same InfoGAN with `im_weight=1`: Q also maximizes the mutual information
  between the real digits and its categories (confident, balanced assignments; the
  information-maximization idea of RIM, Krause et al. 2010, and of rim-dcgan).
- `bigan`: `kgan.models.BiGAN` with the paper's MNIST latent (50), the non-saturating loss and
  Adam(2e-4, 0.5), batch 64; its clusters are a 10-component full-covariance
  `kgan.mixture.GaussianMixture` of its encoder's features (`fit_clusters`, on the same data).

Published figures (full 70k MNIST unless said), printed beside: InfoGAN 95% ACC (one run;
Chen et al. 2016), ClusterGAN 0.9097 +/- 0.0398 ACC, NMI 0.8544, ARI 0.8290 over 10 runs (the
authors' repository), BiGAN 1-NN 97.39% (Donahue et al. 2017, Table 1), rim-dcgan 98.85 +/- 0.14.
k-means on pixels is kgan's own row (`benchmarks/clustering.py`).

python benchmarks/unsupervised.py                              # both datasets, 5 seeds
python benchmarks/unsupervised.py --datasets mnist_5k --seeds 0 1 --epochs 30 --methods bigan
python benchmarks/unsupervised.py --quick                      # a smoke run
"""

import argparse
import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.cluster import KMeans  # noqa: E402
from sklearn.decomposition import PCA  # noqa: E402

import kgan  # noqa: E402

one_nn = kgan.cluster.nearest_neighbor_accuracy

DATASETS = ("mnist_5k", "digits")
METHODS = (
    "infogan_separate",
    "infogan_separate_cont",
    "infogan_views",
    "infogan_lr2e3",
    "infogan_vote",
    "infogan_vat",
    "infogan_sample_codes",
    "infogan_heads",
    "infogan_heads10",
    "infogan_sat",
    "clustergan",
    "infogan",
    "infogan_im",
    "bigan",
)
PUBLISHED = {
    "InfoGAN (Chen et al. 2016, one run)": "ACC 95",
    "ClusterGAN (authors' repository, 10 runs)": "ACC 90.97 +/- 3.98, NMI 85.44, ARI 82.90",
    "BiGAN (Donahue et al. 2017)": "1-NN 97.39",
    "rim-dcgan (5 runs)": "ACC 98.85 +/- 0.14",
}
# InfoGAN with the paper's MNIST latent whose Q learns its categories from the real digits
# (self-augmented information maximization), not from the generator's samples.
SELF_AUGMENTED = {
    "noise_dim": 62,
    "num_continuous": 2,
    "info_weight": 1.0,
    "sample_category_weight": 0.0,
    "im_weight": 0.1,
    "im_balance": 4.0,
    "consistency_weight": 1.0,
}
RECIPES = {
    "infogan_heads": {
        "trainer": "infogan",
        "model_options": {
            **SELF_AUGMENTED,
            "share_body": False,
            "q_width": 64,
            "category_heads": 5,
        },
        "learning_rate": 1e-3,
        "cosine_decay": True,
        "batch_size": 256,
        # digits has 7 batches of 256 an epoch against mnist_5k's 19: more passes.
        "epochs": {"mnist_5k": 40, "digits": 150},
    },
    "clustergan": {
        "model_options": {
            "loss": "wasserstein",
            "gradient_penalty": 10.0,
            "d_steps": 5,
            "noise_dim": 30,
            "sigma": 0.1,
            "beta_n": 10.0,
            "beta_c": 10.0,
        },
        "learning_rate": 1e-4,
        "batch_size": 64,
    },
    "infogan": {
        "model_options": {"noise_dim": 62, "num_continuous": 2, "info_weight": 1.0},
        "learning_rate": None,
        "batch_size": 64,
    },
    "infogan_im": {
        "trainer": "infogan",
        "model_options": {
            "noise_dim": 62,
            "num_continuous": 2,
            "info_weight": 1.0,
            "im_weight": 1.0,
        },
        "learning_rate": None,
        "batch_size": 64,
    },
    "infogan_sat": {
        "trainer": "infogan",
        "model_options": SELF_AUGMENTED,
        "learning_rate": 1e-3,
        "batch_size": 256,
        "epochs": 60,
    },
    "bigan": {
        "model_options": {"latent_dim": 50},
        "learning_rate": None,
        "batch_size": 64,
    },
}

RECIPES["infogan_heads10"] = {
    **RECIPES["infogan_heads"],
    "model_options": {**RECIPES["infogan_heads"]["model_options"], "category_heads": 10},
}
RECIPES["infogan_separate"] = {
    **RECIPES["infogan_heads"],
    "model_options": {
        **RECIPES["infogan_heads"]["model_options"],
        "separate_heads": True,
        "q_width": 32,
    },
}
RECIPES["infogan_vat"] = {
    **RECIPES["infogan_separate"],
    "model_options": {
        **RECIPES["infogan_separate"]["model_options"],
        "vat_weight": 1.0,
        "vat_epsilon": 0.03,
    },
}
RECIPES["infogan_sample_codes"] = {
    **RECIPES["infogan_separate"],
    "model_options": {
        **RECIPES["infogan_separate"]["model_options"],
        "sample_category_weight": 0.3,
    },
}
RECIPES["infogan_lr2e3"] = {**RECIPES["infogan_separate"], "learning_rate": 2e-3}
RECIPES["infogan_vote"] = {**RECIPES["infogan_lr2e3"], "n_neighbors": 5}
RECIPES["infogan_views"] = {
    **RECIPES["infogan_separate"],
    "model_options": {**RECIPES["infogan_separate"]["model_options"], "consistency_views": 2},
}
RECIPES["infogan_separate_cont"] = {
    **RECIPES["infogan_separate"],
    "model_options": {**RECIPES["infogan_separate"]["model_options"], "continuous_body": True},
}

DEFAULT_EPOCHS = 15


def recipe_epochs(recipe, dataset):
    """The recipe's training epochs on `dataset`: one number for every dataset, or one per
    dataset; DEFAULT_EPOCHS when it says none."""
    epochs = recipe.get("epochs", DEFAULT_EPOCHS)
    return epochs[dataset] if isinstance(epochs, dict) else epochs


def flat(x):
    return x.reshape(len(x), -1)


def baselines(dataset, seed):
    """Rows of methods without a GAN: k-means on pixels, and 1-NN on pixels / PCA-32 / VAE."""
    x, y = kgan.data.load_arrays(dataset, split="all")
    x_train, y_train = kgan.data.load_arrays(dataset, split="train")
    x_test, y_test = kgan.data.load_arrays(dataset, split="test")
    started = time.perf_counter()
    labels = KMeans(10, n_init=10, random_state=seed).fit_predict(flat(x))
    rows = {
        "kmeans_pixels": {
            **kgan.cluster.clustering_scores(y, labels),
            "seconds": time.perf_counter() - started,
        }
    }
    rows["pixels"] = {"one_nn": one_nn(flat(x_train), y_train, flat(x_test), y_test)}
    pca = PCA(32, random_state=seed).fit(flat(x_train))
    rows["pca32"] = {
        "one_nn": one_nn(pca.transform(flat(x_train)), y_train, pca.transform(flat(x_test)), y_test)
    }
    if dataset == "mnist_5k":
        vae = kgan.zoo.load("vae_mnist")
        rows["vae_mnist_preset"] = {
            "one_nn": one_nn(vae.encode(x_train), y_train, vae.encode(x_test), y_test)
        }
    return rows


def run_method(method, dataset, seed, epochs=None, save_dir=None):
    """Trains `method` on all of `dataset` without labels and scores its clusters and codes
    (`epochs`: the recipe's when None; the trained model is saved in `save_dir` when given)."""
    x, y = kgan.data.load_arrays(dataset, split="all")
    x_train, y_train = kgan.data.load_arrays(dataset, split="train")
    x_test, y_test = kgan.data.load_arrays(dataset, split="test")
    recipe = RECIPES[method]
    epochs = epochs or recipe_epochs(recipe, dataset)
    keras.utils.set_random_seed(seed)
    started = time.perf_counter()
    clustering = kgan.cluster.GANClustering(
        recipe.get("trainer", method),
        n_clusters=10,
        epochs=epochs,
        batch_size=recipe["batch_size"],
        model_options=recipe["model_options"],
        learning_rate=recipe["learning_rate"],
        cosine_decay=recipe.get("cosine_decay", False),
        random_state=seed,
        n_neighbors=recipe.get("n_neighbors", 0),
    ).fit(x)
    seconds = time.perf_counter() - started
    if save_dir:
        os.makedirs(save_dir, exist_ok=True)
        clustering.model_.save(os.path.join(save_dir, f"{dataset}_{method}_{seed}.keras"))
    own = {}
    if clustering.n_neighbors:
        # The model's own clusters, beside the neighbourhood vote's.
        own = {"model_acc": kgan.cluster.clustering_accuracy(y, clustering.model_.cluster(x))}
    return {
        **kgan.cluster.clustering_scores(y, clustering.labels_),
        **own,
        "one_nn": one_nn(
            clustering.transform(x_train), y_train, clustering.transform(x_test), y_test
        ),
        "cluster_sizes": np.bincount(clustering.labels_, minlength=10).tolist(),
        "seconds": seconds,
        "seed": seed,
        "epochs": epochs,
    }


def summary(runs, key):
    values = [r[key] for r in runs if key in r]
    if not values:
        return ""
    if len(values) == 1:
        return f"{100 * values[0]:.1f}"
    return f"{100 * np.mean(values):.1f} +/- {100 * np.std(values):.1f}"


def non_gan_rows(dataset):
    """kgan's clustering rows without a GAN (benchmarks/clustering.py's stored results): mean
    ACC over their seeds, for the table's context."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "clustering.json")
    if not os.path.exists(path):
        return {}
    with open(path) as f:
        stored = json.load(f)["results"].get(dataset, {})
    return {
        name: {key: float(np.mean([r[key] for r in row["runs"]])) for key in ("acc", "nmi", "ari")}
        for name, row in stored.items()
        if row.get("runs")
    }


def print_table(dataset, rows, methods):
    print(f"\n{dataset} (labels for scoring only), %")
    print("| method | ACC | NMI | ARI | 1-NN of its features | s/seed |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name, row in rows["baselines"].items():
        cells = [summary([row], k) for k in ("acc", "nmi", "ari", "one_nn")]
        seconds = f"{row['seconds']:.0f}" if "seconds" in row else ""
        print(f"| {name} | {' | '.join(cells)} | {seconds} |")
    for method in methods:
        runs = rows.get(method, [])
        if runs:
            cells = [summary(runs, k) for k in ("acc", "nmi", "ari", "one_nn")]
            seconds = np.median([r["seconds"] for r in runs])
            print(f"| kgan {method} ({len(runs)} seeds) | {' | '.join(cells)} | {seconds:.0f} |")
            if any("model_acc" in r for r in runs):
                own = summary(runs, "model_acc")
                print(f"| kgan {method}: the model's own clusters, no vote | {own} |  |  |  |  |")
    for name, row in non_gan_rows(dataset).items():
        cells = [summary([row], k) for k in ("acc", "nmi", "ari")]
        print(f"| kgan {name} (no GAN; benchmarks/clustering.py) | {' | '.join(cells)} |  |  |")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=DATASETS)
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    parser.add_argument(
        "--epochs",
        type=int,
        default=None,
        help=f"training epochs per seed (default: the recipe's, else {DEFAULT_EPOCHS})",
    )
    parser.add_argument("--quick", action="store_true", help="one epoch, seed 0: a smoke run")
    parser.add_argument(
        "--out",
        default="benchmarks/results/unsupervised.json",
        help="results, rewritten after every run (a cut-short run keeps what it finished)",
    )
    parser.add_argument(
        "--save-models", default=None, metavar="DIR", help="keep each trained model in DIR"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.seeds, args.epochs = [0], 1
    results = {
        "settings": {"recipes": RECIPES, "epochs": args.epochs or "recipe"},
        "published": PUBLISHED,
    }
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    for dataset in args.datasets:
        rows = results[dataset] = {"baselines": baselines(dataset, args.seeds[0])}
        for method in args.methods:
            rows[method] = []
            for seed in args.seeds:
                run = run_method(method, dataset, seed, args.epochs, args.save_models)
                rows[method].append(run)
                print(dataset, method, json.dumps(run), flush=True)
                kgan.atomic.atomic_write_json(args.out, results)
        print_table(dataset, rows, args.methods)
    print("\npublished (full MNIST):")
    for name, figure in PUBLISHED.items():
        print(f"  {name}: {figure}")
    kgan.atomic.atomic_write_json(args.out, results)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
