"""Load pretrained presets, use them, check them, and publish a model of your own as a preset.

python examples/zoo_presets.py --out zoo_demo
"""

import argparse
import os

import numpy as np

import kgan


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default="zoo_demo")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)

    for preset in kgan.zoo.list_presets():
        print(f"{preset['name']:18s} {preset['class_name']:16s} {preset['description']}")

    # One call: resolve the name, download into the cache (or hit it), verify, build.
    cgan = kgan.zoo.load("cgan_mnist")
    labels = np.repeat(np.arange(10), 10)
    grid = os.path.join(args.out, "cgan_mnist.png")
    kgan.image_grid.save_image_grid(cgan.generate(labels=labels, seed=0), grid, columns=10)
    print("wrote", grid)

    # The preset's golden values: its inference functions give the outputs stored with it.
    folder = kgan.zoo.pull("cgan_mnist")
    print("golden max abs difference", kgan.zoo.golden.check(cgan, f"{folder}/golden.npz"))

    # The reference classifier scores the samples: the share shown as the requested digit.
    classifier = kgan.zoo.load("mnist_classifier")
    predicted = classifier.predict(cgan.generate(labels=labels, seed=1), verbose=0).argmax(1)
    print(f"class consistency {np.mean(predicted == labels):.1%}")

    # A mixture preset is a fitted scikit-learn-style estimator.
    gmm = kgan.mixture.GaussianMixture.from_preset("gmm_digits")
    x, y = kgan.data.load_arrays("digits", split="test")
    print(f"gmm_digits held-out log-likelihood {gmm.score(x.reshape(len(x), -1)):.2f}")

    # Your own model as a preset folder, loadable by path or URL.
    wgan = kgan.models.build_trainer("wgan_gp", (2,), seed=0)
    mine = kgan.zoo.save_to_preset(
        wgan, os.path.join(args.out, "my_wgan"), description="untrained", overwrite=True
    )
    print("reloaded", type(kgan.zoo.load(mine)).__name__, "from", mine)


if __name__ == "__main__":
    main()
