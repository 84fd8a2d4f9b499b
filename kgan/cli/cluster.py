"""`kgan cluster`: the categories a trained model discovered in a dataset."""

import argparse
import csv
import os

import kgan
from kgan.atomic import atomic_write, atomic_write_json, atomic_write_npz
from kgan.cli.common import SOURCE_HELP, fail, load_source, positive_int

EPILOG_CLUSTER = """\
examples:
  kgan train clustergan --data mnist_5k --epochs 30 --out runs/clustergan_mnist
  kgan cluster runs/clustergan_mnist --data mnist_5k --out runs/clustergan_mnist/clusters

Every example of --data (its --split) gets the model's cluster (`cluster(x)`); with labels, the
clustering accuracy (best one-to-one match of clusters to classes), NMI and ARI are printed.
--out gets clusters.csv (index, cluster, and the label when there is one), scores.json and, for
image data, members.png (one row of real members per cluster) and, for a model that generates,
categories.png (one row of samples drawn from each cluster) and, for a model with continuous
codes (InfoGAN), code_1.png, code_2.png, ...: each code swept from -1 to 1 along a row, the other
codes at 0, one row per cluster. A BiGAN whose clusters were never fitted gets its mixture
fitted on --data first; --save-model keeps it:

  kgan train bigan --data mnist_5k --epochs 30 --out runs/bigan_mnist
  kgan cluster runs/bigan_mnist --data mnist_5k --save-model runs/bigan_mnist/clustered.keras

--neighbors K clusters each example by the vote of its neighbourhood in the model's features:
the mean of the model's cluster probabilities of the example and of its K nearest examples of
--data (cosine distance between encode features; kgan.cluster.GANClustering's n_neighbors),
which mends the examples whose neighbours the model's categories disagree with:

  kgan cluster infogan_mnist --data mnist_5k --neighbors 5

--write-data keeps the examples with their clusters as labels (an .npz of x in [-1, 1] and y):
data that a conditional trainer takes as it takes labelled data, so a conditional GAN learns to
draw each discovered category without a single label (a cluster-conditioned GAN):

  kgan cluster infogan_mnist --data mnist_5k --split train --write-data runs/clusters.npz
  kgan train cgan --data runs/clusters.npz --epochs 300 --out runs/cluster_cgan
"""


def add_parser(commands):
    """Adds `cluster` to the subcommands."""
    cluster = commands.add_parser(
        "cluster",
        help="assign a dataset's examples to the categories a model discovered",
        description="Cluster a dataset with a trained model that discovers categories.",
        epilog=EPILOG_CLUSTER,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    cluster.add_argument("source", metavar="SOURCE", help=SOURCE_HELP)
    cluster.add_argument("--data", default="mnist_5k", help="the data to cluster (mnist_5k)")
    cluster.add_argument(
        "--split", default="all", help="the split of --data: train, test or all (all)"
    )
    cluster.add_argument("--num-examples", type=positive_int, help="keep this many examples")
    cluster.add_argument("--out", help="the folder to write the assignments and pictures to")
    cluster.add_argument("--per-cluster", type=positive_int, default=10, help="images per row")
    cluster.add_argument("--seed", type=int, default=0, help="seed of the drawn samples (0)")
    cluster.add_argument(
        "--save-model",
        metavar="PATH.keras",
        help="write the model, with the clusters it was given here (a BiGAN's fitted mixture), "
        "to this .keras file",
    )
    cluster.add_argument(
        "--write-data",
        metavar="PATH.npz",
        help="write the examples (x, in [-1, 1]) with their clusters as labels (y), for a "
        "conditional trainer's --data",
    )
    cluster.add_argument(
        "--neighbors",
        type=positive_int,
        metavar="K",
        help="cluster each example by the vote of itself and its K nearest examples in the "
        "model's features (default: the model's own clusters)",
    )
    cluster.add_argument(
        "--one-nn",
        action="store_true",
        help="also the 1-NN accuracy of the model's features (encode): fitted on the train "
        "split of --data, scored on its test split",
    )


def run(args):
    """Runs `kgan cluster`; returns the exit status."""
    import numpy as np

    if args.save_model and not args.save_model.endswith(".keras"):
        return fail(f"--save-model must name a .keras file; got {args.save_model!r}")
    if args.write_data and not args.write_data.endswith(".npz"):
        return fail(f"--write-data must name a .npz file; got {args.write_data!r}")
    model = load_source(args.source)
    if not callable(getattr(model, "cluster", None)):
        return fail(
            f"{args.source} holds a {type(model).__name__}, which does not cluster; train one "
            f"of {kgan.cluster.clustering_trainers()}"
        )
    x, y = kgan.data.load_arrays(args.data, split=args.split, num_examples=args.num_examples)
    if tuple(x.shape[1:]) != tuple(model.sample_shape):
        return fail(
            f"{args.data} holds examples of shape {x.shape[1:]}; the model takes "
            f"{tuple(model.sample_shape)}"
        )
    fitted_here = callable(getattr(model, "fit_clusters", None)) and not model.ex_post_is_fitted
    if fitted_here:
        model.fit_clusters(x)
    if args.neighbors:
        # GANClustering refuses, with a message, a model it cannot vote with.
        vote = kgan.cluster.GANClustering(
            model, n_clusters=model.num_clusters, n_neighbors=args.neighbors
        )
        clusters = vote.fit(x).labels_
    else:
        clusters = np.asarray(model.cluster(x))
    counts = np.bincount(clusters, minlength=model.num_clusters)
    print(
        f"{args.source}: {len(x)} examples of {args.data} ({args.split}), "
        f"{model.num_clusters} clusters"
        + (f", each the vote of {args.neighbors} neighbours" if args.neighbors else "")
    )
    if fitted_here:
        print(
            f"  the model's clusters were not fitted: fitted its mixture on these {len(x)} examples"
        )
    print(f"  clusters of sizes {counts.tolist()}")
    scores = {"num_examples": len(x), "cluster_sizes": counts.tolist()}
    if y is not None:
        scores.update(kgan.cluster.clustering_scores(y, clusters))
        for key in ("acc", "nmi", "ari"):
            print(f"  {key:10s}{scores[key]:8.4f}")
    if args.one_nn:
        splits = [kgan.data.load_arrays(args.data, split=s) for s in ("train", "test")]
        if any(labels is None for _, labels in splits):
            return fail(f"--one-nn needs labels; {args.data} has none")
        (x_train, y_train), (x_test, y_test) = splits
        scores["one_nn"] = kgan.cluster.nearest_neighbor_accuracy(
            model.encode(x_train), y_train, model.encode(x_test), y_test
        )
        sizes = f"({len(x_train)} train, {len(x_test)} test)"
        print(f"  {'one_nn':10s}{scores['one_nn']:8.4f}  {sizes}")
    if args.save_model:
        atomic_write(args.save_model, model.save)
        print(f"wrote {args.save_model}")
    if args.write_data:
        # Uncompressed, so that kgan.data can stream it.
        atomic_write_npz(args.write_data, x=x.astype("float32"), y=clusters.astype("int32"))
        print(f"wrote {args.write_data} ({len(x)} examples, labels = clusters)")
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        written = [_write_assignments(os.path.join(args.out, "clusters.csv"), clusters, y)]
        scores_path = os.path.join(args.out, "scores.json")
        atomic_write_json(scores_path, {"source": str(args.source), "data": args.data, **scores})
        written.append(scores_path)
        if x.ndim == 4:
            written += _write_pictures(model, x, clusters, args)
        for path in written:
            print(f"wrote {path}")
    return 0


def _write_assignments(path, clusters, labels):
    def write(target):
        with open(target, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["index", "cluster"] + ([] if labels is None else ["label"]))
            for i, cluster in enumerate(clusters):
                writer.writerow([i, int(cluster)] + ([] if labels is None else [int(labels[i])]))

    atomic_write(path, write)
    return path


def _write_pictures(model, x, clusters, args):
    """members.png (real members of each cluster, a row each) and categories.png (samples drawn
    from each cluster code, a row each, when the model generates by cluster)."""
    import numpy as np

    from kgan.image_grid import save_image_grid

    k, per = model.num_clusters, args.per_cluster
    blank = np.full(x.shape[1:], -1.0, "float32")
    rows = []
    for c in range(k):
        members = x[clusters == c][:per]
        padding = [blank] * (per - len(members))
        rows.extend(list(members) + padding)
    written = [save_image_grid(np.stack(rows), os.path.join(args.out, "members.png"), columns=per)]
    if callable(getattr(model, "cluster_latents", None)):
        drawn = model.generate(clusters=np.repeat(np.arange(k), per), seed=args.seed)
        path = os.path.join(args.out, "categories.png")
        written.append(save_image_grid(drawn, path, columns=per))
    for j in range(getattr(model, "num_continuous", 0)):
        codes = np.zeros((k * per, model.num_continuous), "float32")
        codes[:, j] = np.tile(np.linspace(-1.0, 1.0, per), k)
        # One noise draw per row, so a row varies in code j alone.
        latents = model.cluster_latents(clusters=np.repeat(np.arange(k), per), codes=codes)
        noise = model.cluster_latents(k, seed=args.seed)[:, : model.noise_dim]
        latents[:, : model.noise_dim] = np.repeat(noise, per, axis=0)
        path = os.path.join(args.out, f"code_{j + 1}.png")
        written.append(save_image_grid(model.generate(latents=latents), path, columns=per))
    return written
