"""Train a VAE-GAN on the embedded MNIST digits, then draw reconstructions and prior samples.

Writes `reconstructions.png` (columns of real | reconstruction pairs from the test split) and
`samples.png` (decoded prior latents) to the output folder.

python examples/vaegan_mnist.py --epochs 8 --out vaegan_mnist
"""

import argparse
import os

import keras
import numpy as np

import kgan


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--out", default="vaegan_mnist", help="folder of the PNG grids")
    parser.add_argument("--gamma", type=float, default=1.0)
    parser.add_argument("--latent-dim", type=int, default=32)
    parser.add_argument(
        "--num-examples", type=int, help="train on this many digits, evenly spaced (all)"
    )
    args = parser.parse_args()

    keras.utils.set_random_seed(0)
    train = kgan.data.load(
        "mnist_5k", batch_size=64, seed=0, drop_remainder=True, num_examples=args.num_examples
    )
    vaegan = kgan.models.build_vaegan(
        (28, 28, 1), latent_dim=args.latent_dim, gamma=args.gamma, seed=0
    )
    vaegan.compile()
    vaegan.fit(train, epochs=args.epochs, shuffle=False, verbose=2)

    x_test, _ = kgan.data.load_arrays("mnist_5k", split="test")
    real = x_test[:50]
    reconstructed = vaegan.reconstruct(real)
    # Each pair of columns shows a test digit, then its reconstruction.
    pairs = np.stack([real, reconstructed], axis=1).reshape(-1, *real.shape[1:])
    recon_path = kgan.image_grid.save_image_grid(
        pairs, os.path.join(args.out, "reconstructions.png"), columns=10, scale=2
    )
    samples_path = kgan.image_grid.save_image_grid(
        vaegan.generate(100, seed=0), os.path.join(args.out, "samples.png"), columns=10, scale=2
    )
    test_mse = float(np.mean((reconstructed - real) ** 2))
    print(f"wrote {recon_path} and {samples_path}; test pixel MSE {test_mse:.4f}")


if __name__ == "__main__":
    main()
