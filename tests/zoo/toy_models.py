"""Small models for the zoo's tests."""

import numpy as np

import kgan


def tiny_gan(conditional=False, seed=0):
    name = "cgan" if conditional else "gan"
    if conditional:
        return kgan.models.build_trainer(
            name, (8, 8, 1), num_classes=3, latent_dim=4, width=4, seed=seed
        )
    return kgan.models.build_trainer(name, (2,), latent_dim=2, width=8, seed=seed)


def tiny_mixture():
    rng = np.random.default_rng(0)
    points = np.concatenate([rng.normal(-3, 1, (100, 2)), rng.normal(3, 1, (100, 2))])
    return kgan.mixture.GaussianMixture(2, random_state=0).fit(points.astype("float32"))
