"""Train an unconditional GAN with MLPs on the 8-Gaussian ring and count the modes it covers.

python examples/ring8_mode_coverage.py --epochs 10
"""

import argparse

import keras

import kgan


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=10)
    args = parser.parse_args()

    keras.utils.set_random_seed(0)
    train = kgan.data.load("ring8", batch_size=256, seed=0)
    gan = kgan.models.build_trainer("gan", (2,), seed=0)
    gan.compile(
        d_optimizer=keras.optimizers.Adam(1e-3, beta_1=0.5),
        g_optimizer=keras.optimizers.Adam(1e-3, beta_1=0.5),
    )
    gan.fit(train, epochs=args.epochs, shuffle=False)

    spec = kgan.data.mixture_spec("ring8")
    scores = kgan.metrics.mode_coverage(gan.generate(2500, seed=0), spec.means, spec.std)
    print(
        f"{scores['modes_captured']} of {scores['num_modes']} modes captured; "
        f"{scores['high_quality']:.1%} high quality; reverse KL {scores['reverse_kl']:.3f}"
    )


if __name__ == "__main__":
    main()
