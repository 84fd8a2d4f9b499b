"""Train a convolutional VAE on the embedded MNIST digits; write reconstructions and samples.

The Bernoulli likelihood models the grey levels mapped to [0, 1]. With `--latent-dim 2` the
script also draws the held-out digits' posterior means, coloured by their label.

python examples/vae_mnist.py --epochs 10 --latent-dim 16 --out-dir vae_mnist
python examples/vae_mnist.py --latent-dim 2   # adds vae_mnist/latent_map.png
"""

import argparse
import os

import keras
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import kgan  # noqa: E402


def save_latent_map(vae, x, labels, path):
    z = vae.encode(x)  # [n, 2]
    fig, ax = plt.subplots(figsize=(6, 5))
    points = ax.scatter(z[:, 0], z[:, 1], c=labels, cmap="tab10", s=6, vmin=-0.5, vmax=9.5)
    fig.colorbar(points, ax=ax, ticks=range(10), label="digit")
    ax.set_xlabel("z[0]")
    ax.set_ylabel("z[1]")
    ax.set_title("posterior means of the held-out digits")
    fig.tight_layout()
    kgan.atomic.atomic_write(path, lambda target: fig.savefig(target, dpi=120, format="png"))
    plt.close(fig)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--latent-dim", type=int, default=16)
    parser.add_argument("--out-dir", default="vae_mnist")
    parser.add_argument(
        "--num-examples", type=int, help="train on this many digits, evenly spaced (all)"
    )
    args = parser.parse_args()

    keras.utils.set_random_seed(0)
    train = kgan.data.load("mnist_5k", batch_size=64, seed=0, num_examples=args.num_examples)
    x_test, y_test = kgan.data.load_arrays("mnist_5k", split="test")
    vae = kgan.models.build_vae((28, 28, 1), latent_dim=args.latent_dim, seed=0)
    vae.compile()
    vae.fit(train, epochs=args.epochs, validation_data=(x_test,), shuffle=False, verbose=2)

    originals = x_test[:50]
    reconstructions = vae.reconstruct(originals)
    # Rows alternate: ten originals, then their reconstructions.
    pairs = np.concatenate(
        [part[row : row + 10] for row in range(0, 50, 10) for part in (originals, reconstructions)]
    )
    written = [
        kgan.image_grid.save_image_grid(
            pairs, os.path.join(args.out_dir, "reconstructions.png"), columns=10, scale=2
        ),
        kgan.image_grid.save_image_grid(
            vae.generate(100, seed=0),
            os.path.join(args.out_dir, "samples.png"),
            columns=10,
            scale=2,
        ),
    ]
    if args.latent_dim == 2:
        path = os.path.join(args.out_dir, "latent_map.png")
        save_latent_map(vae, x_test, y_test, path)
        written.append(path)
    log_px = vae.log_likelihood(x_test[:200], num_samples=100, seed=0).mean()
    print(f"wrote {', '.join(written)}; IWAE log p(x) of 200 test digits (k=100): {log_px:.1f}")


if __name__ == "__main__":
    main()
