"""Benchmark: held-out log-likelihood of kgan's VAE on binarized MNIST digits.

The VAE trains on the 4,000 training digits of `kgan.data.load("mnist_5k")`, binarized by
thresholding the [0, 1] intensity at 0.5 (`x > 0` in [-1, 1]) and flattened to 784-vectors:
the last `--validation` of them only choose the epoch (early stopping on the validation ELBO,
best weights restored), the rest train. The model is the classic MLP VAE: Bernoulli likelihood,
N(0, I) prior, two ReLU layers of `--hidden` units in the encoder and the decoder, `--latent-dim`
latents. On the 1,000 held-out digits (`kgan.data.load_arrays("mnist_5k", split="test")`, the
same binarization), `VAE.log_likelihood` reports the importance-weighted estimate of log p(x)
(Burda et al. 2016) with k = 1 (a one-sample ELBO), 50 and `--num-samples` (5,000).

The literature's figure beside it, about -86 nats, is a VAE of similar size trained on the full
60,000 binarized MNIST digits and evaluated with k = 5,000 (Burda et al. 2016, "Importance
Weighted Autoencoders"); with 15 times fewer training digits this run is expected to land
lower. The script prints the table and writes it, with the settings, wall times, machine and
versions, as JSON (atomically).

Usage (about 8 minutes on 2 CPU cores with the defaults):
    python benchmarks/vae_likelihood.py [--epochs 150] [--latent-dim 32] [--hidden 512]
        [--num-samples 5000] [--seed 0] [--out benchmarks/results/vae_likelihood.json]
"""

import argparse
import datetime
import os
import platform
import shlex
import sys
import time

import keras
import numpy as np
import tensorflow as tf

import kgan

LITERATURE_NATS = -86.0
LITERATURE = (
    "VAE on the full 60k binarized MNIST, k=5000 evaluation: about -86 nats "
    "(Burda et al. 2016, Importance Weighted Autoencoders)"
)


def log(message):
    print(message, flush=True)


def binarized_vectors(split):
    x, _ = kgan.data.load_arrays("mnist_5k", split=split)
    return np.where(x > 0, 1.0, -1.0).astype("float32").reshape(len(x), -1)  # [n, 784]


def build(latent_dim, hidden, seed):
    keras.utils.set_random_seed(seed)
    units = (hidden, hidden)
    encoder = kgan.networks.vae_encoder((784,), latent_dim, hidden_units=units)
    decoder = kgan.networks.vae_decoder((784,), latent_dim, hidden_units=units)
    return kgan.models.VAE(encoder, decoder, likelihood="bernoulli", seed=seed)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=150, help="most epochs (early stopping)")
    parser.add_argument("--patience", type=int, default=15, help="epochs without improvement")
    parser.add_argument("--latent-dim", type=int, default=32)
    parser.add_argument("--hidden", type=int, default=512, help="units of each hidden layer")
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--validation", type=int, default=500, help="training digits held out")
    parser.add_argument("--num-samples", type=int, default=5000, help="k of the main estimate")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="benchmarks/results/vae_likelihood.json")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    started = time.time()
    x = binarized_vectors("train")
    train, validation = x[: -args.validation], x[-args.validation :]
    test = binarized_vectors("test")
    log(f"train {len(train)}, validation {len(validation)}, test {len(test)} binarized digits")

    vae = build(args.latent_dim, args.hidden, args.seed)
    vae.compile(optimizer=keras.optimizers.Adam(args.learning_rate))
    stop = keras.callbacks.EarlyStopping(
        "val_loss", patience=args.patience, restore_best_weights=True
    )
    t = time.time()
    history = vae.fit(
        train,
        batch_size=args.batch_size,
        epochs=args.epochs,
        validation_data=(validation,),
        callbacks=[stop],
        verbose=0,
    ).history
    train_seconds = time.time() - t
    best = int(np.argmin(history["val_loss"]))
    log(
        f"trained {len(history['loss'])} epochs in {train_seconds:.0f} s; best epoch {best + 1}: "
        f"train loss {history['loss'][best]:.2f}, validation loss {history['val_loss'][best]:.2f}"
    )

    estimates, eval_seconds = {}, {}
    for k in (1, 50, args.num_samples):
        t = time.time()
        log_px = vae.log_likelihood(test, num_samples=k, batch_size=100, seed=args.seed)
        eval_seconds[str(k)] = round(time.time() - t, 1)
        estimates[str(k)] = {
            "mean_nats": float(log_px.mean()),
            "standard_error": float(log_px.std(ddof=1) / np.sqrt(len(log_px))),
        }
        log(f"k={k}: {log_px.mean():.2f} nats ({eval_seconds[str(k)]} s)")
    main_estimate = estimates[str(args.num_samples)]["mean_nats"]

    rows = [
        ("test log p(x), k=1 (ELBO)", f"{estimates['1']['mean_nats']:.2f}", "", ""),
        ("test log p(x), k=50", f"{estimates['50']['mean_nats']:.2f}", "", ""),
        (
            f"test log p(x), k={args.num_samples}",
            f"{main_estimate:.2f}",
            f"about {LITERATURE_NATS:.0f}",
            f"{main_estimate - LITERATURE_NATS:+.1f} nats",
        ),
    ]
    header = ("figure", "kgan (4k digits)", "literature (60k)", "difference")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(4)]
    for row in [header, *rows]:
        log("  ".join(cell.ljust(width) for cell, width in zip(row, widths)))
    log(f"literature: {LITERATURE}")

    result = {
        "benchmark": "vae_likelihood",
        "command": shlex.join(["python", *sys.argv]),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "data": {
            "train": len(train),
            "validation": len(validation),
            "test": len(test),
            "binarization": "x > 0 in [-1, 1] (intensity > 0.5), fixed",
            "source": "kgan.data mnist_5k",
        },
        "settings": vars(args),
        "epochs_run": len(history["loss"]),
        "best_epoch": best + 1,
        "train_loss_at_best": history["loss"][best],
        "validation_loss_at_best": history["val_loss"][best],
        "test_log_likelihood": estimates,
        "literature": {"mean_nats": LITERATURE_NATS, "what": LITERATURE},
        "seconds": {
            "train": round(train_seconds, 1),
            "evaluate": eval_seconds,
            "total": round(time.time() - started, 1),
        },
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "tensorflow": tf.__version__,
            "keras": keras.__version__,
            "kgan": kgan.__version__,
        },
    }
    kgan.atomic.atomic_write_json(args.out, result)
    log(f"wrote {args.out} ({result['seconds']['total']:.0f} s in all)")
    return result


if __name__ == "__main__":
    main()
