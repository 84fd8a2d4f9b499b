"""Train a conditional GAN on the embedded MNIST digits, then draw one row per digit.

python examples/conditional_mnist.py --epochs 40
"""

import argparse

import keras

import kgan


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--out", default="cgan_mnist_samples.png")
    parser.add_argument(
        "--num-examples", type=int, help="train on this many digits, evenly spaced (all)"
    )
    args = parser.parse_args()

    keras.utils.set_random_seed(0)
    train = kgan.data.load(
        "mnist_5k", batch_size=64, seed=0, drop_remainder=True, num_examples=args.num_examples
    )
    cgan = kgan.models.build_trainer("cgan", (28, 28, 1), num_classes=10, seed=0)
    cgan.compile()
    cgan.fit(train, epochs=args.epochs, shuffle=False)

    labels = [digit for digit in range(10) for _ in range(10)]
    kgan.image_grid.save_image_grid(
        cgan.generate(labels=labels, seed=0), args.out, columns=10, scale=2
    )
    classifier, accuracy = kgan.metrics.reference_classifier("mnist_5k")
    consistency = kgan.metrics.generated_class_consistency(cgan, classifier)
    print(f"wrote {args.out}; class consistency {consistency:.3f} (classifier {accuracy:.3f})")


if __name__ == "__main__":
    main()
