"""Train a WGAN-GP on the 8-Gaussian ring and plot real against generated points.

    python examples/wgan_gp_ring.py --steps 2500 --out wgan_gp_ring.png

Writes a scatter plot (real points grey, generated points coloured by their nearest mode, the
3-std circles of high quality drawn around the modes) and prints the mode coverage.
"""

import argparse

import keras
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import kgan  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default="ring8", choices=["ring8", "grid25"])
    parser.add_argument("--steps", type=int, default=2500, help="generator updates")
    parser.add_argument("--out", default="wgan_gp_ring.png")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    keras.utils.set_random_seed(args.seed)
    points, _ = kgan.data.load_arrays(args.data, "train")
    dataset = (
        tf.data.Dataset.from_tensor_slices(points)
        .shuffle(len(points), seed=args.seed)
        .repeat()
        .batch(512, drop_remainder=True)
    )
    # Gulrajani et al.'s defaults: 5 critic updates per generator update, penalty weight 10,
    # Adam(1e-4, beta_1=0, beta_2=0.9).
    wgan = kgan.models.build_trainer("wgan_gp", (2,), seed=args.seed)
    wgan.compile()
    wgan.fit(dataset, epochs=1, steps_per_epoch=args.steps)

    spec = kgan.data.mixture_spec(args.data)
    fake = wgan.generate(2500, seed=args.seed)
    scores = kgan.metrics.mode_coverage(fake, spec.means, spec.std)
    print(
        f"{scores['modes_captured']}/{scores['num_modes']} modes, "
        f"{scores['high_quality']:.1%} high quality, reverse KL {scores['reverse_kl']:.3f}"
    )

    nearest = np.linalg.norm(fake[:, None] - spec.means[None], axis=-1).argmin(axis=1)  # [n]
    fig, ax = plt.subplots(figsize=(6, 6))
    ax.scatter(*points[:2500].T, s=4, c="0.6", label="real")
    ax.scatter(*fake.T, s=4, c=nearest, cmap="tab20", label="generated")
    for mean in spec.means:
        ax.add_patch(plt.Circle(mean, 3 * spec.std, fill=False, lw=0.8, color="k"))
    low, high = points.min(axis=0) - 0.5, points.max(axis=0) + 0.5  # generated outliers clipped
    ax.set_xlim(low[0], high[0])
    ax.set_ylim(low[1], high[1])
    ax.set_aspect("equal")
    ax.set_title(
        f"WGAN-GP on {args.data}: {scores['modes_captured']}/{scores['num_modes']} modes, "
        f"{scores['high_quality']:.1%} high quality"
    )
    ax.legend(loc="upper right")
    kgan.atomic.atomic_write(args.out, lambda path: fig.savefig(path, dpi=120, format="png"))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
