import numpy as np
import pytest
from test_rejection import label_discriminator, label_generator, toy_gan

import kgan
from kgan.models import discriminator_latent_refinement


def test_each_step_follows_the_energy_gradient_exactly():
    # Identity generator, logit -1.5 x0^2 + log 2: E(z) = |z|^2 / 2 + 1.5 z0^2, so one step
    # scales z0 by 1 - 2 eps and z1 by 1 - eps / 2.
    gan = toy_gan()
    z = np.random.default_rng(0).standard_normal((50, 2)).astype("float32")
    samples, refined = discriminator_latent_refinement(
        gan, latents=z, steps=7, step_size=0.05, return_latents=True
    )
    expected = z * np.array([(1 - 2 * 0.05) ** 7, (1 - 0.05 / 2) ** 7], "float32")
    np.testing.assert_allclose(refined, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(samples, expected, rtol=1e-5, atol=1e-6)


def test_no_steps_gives_the_generators_samples_and_seeds_draw_like_generate():
    gan = toy_gan()
    np.testing.assert_array_equal(
        discriminator_latent_refinement(gan, 20, seed=3, steps=0), gan.generate(20, seed=3)
    )
    a = discriminator_latent_refinement(gan, 20, seed=3, batch_size=6)
    b = discriminator_latent_refinement(gan, 20, seed=3)
    np.testing.assert_allclose(a, b, rtol=1e-6)
    assert np.std(a[:, 0]) < np.std(gan.generate(20, seed=3)[:, 0])


def test_conditional_labels_are_kept_and_passed_to_both_networks():
    cgan = kgan.ConditionalGAN(label_generator(), label_discriminator(), num_classes=3)
    labels = np.array([2, 0, 1, 1] * 5)
    samples = discriminator_latent_refinement(cgan, labels=labels, seed=0, steps=3)
    np.testing.assert_array_equal(samples[:, 1], labels)
    cycled = discriminator_latent_refinement(cgan, 6, seed=0, steps=1)
    np.testing.assert_array_equal(cycled[:, 1], [0, 1, 2, 0, 1, 2])


def test_bad_models_and_arguments_are_refused():
    with pytest.raises(ValueError, match="logistic losses"):
        discriminator_latent_refinement(toy_gan(loss="hinge"), 10)
    with pytest.raises(ValueError, match="pack"):
        discriminator_latent_refinement(toy_gan(pack=2), 10)
    with pytest.raises(ValueError, match="steps"):
        discriminator_latent_refinement(toy_gan(), 10, steps=-1)
    for step_size in (0.0, float("inf"), float("nan"), True, "0.1"):
        with pytest.raises(ValueError, match="step_size"):
            discriminator_latent_refinement(toy_gan(), 10, step_size=step_size)
    with pytest.raises(ValueError, match="batch_size"):
        discriminator_latent_refinement(toy_gan(), 10, batch_size=0)
    with pytest.raises(ValueError, match="latents must have shape"):
        discriminator_latent_refinement(toy_gan(), latents=np.zeros((4, 3)))
    with pytest.raises(ValueError, match="unconditional"):
        discriminator_latent_refinement(toy_gan(), 10, labels=[1] * 10)
