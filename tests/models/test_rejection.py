import keras
import numpy as np
import pytest
from scipy import stats

import kgan
from kgan.models import discriminator_rejection_sample


def identity_generator(dim):
    latents = keras.Input((dim,))
    layer = keras.layers.Dense(dim, use_bias=False, kernel_initializer="identity")
    return keras.Model(latents, layer(latents))


def ratio_discriminator(dim, pack=1):
    """The exact log density ratio of N(0, 0.5^2) (first coordinate) over N(0, 1):
    -1.5 x^2 + log 2."""
    x = keras.Input((dim * pack,))
    first = keras.layers.Lambda(lambda v: v[:, :1])(x)
    square = keras.layers.Multiply()([first, first])
    logit = keras.layers.Dense(
        1,
        kernel_initializer=keras.initializers.Constant(-1.5),
        bias_initializer=keras.initializers.Constant(np.log(2.0)),
    )(square)
    return keras.Model(x, logit)


def toy_gan(loss="non_saturating", pack=1):
    return kgan.GAN(identity_generator(2), ratio_discriminator(2, pack), loss=loss, pack=pack)


def test_gamma_zero_with_an_exact_discriminator_draws_the_data_distribution():
    samples, acceptance = discriminator_rejection_sample(
        toy_gan(), 4000, seed=0, gamma=0.0, burn_in=5000, return_acceptance=True
    )
    assert samples.shape == (4000, 2)
    # First coordinate N(0, 0.5^2), the second untouched N(0, 1).
    assert stats.kstest(samples[:, 0] / 0.5, "norm").pvalue > 0.01
    assert stats.kstest(samples[:, 1], "norm").pvalue > 0.01
    # Plain rejection sampling keeps 1/M of the draws: here sqrt(1 / (1 + 3)) = 0.5 of them.
    assert acceptance == pytest.approx(0.5, abs=0.05)
    # Without the filter the first coordinate is N(0, 1), which the test above would refuse.
    raw = toy_gan().generate(4000, seed=0)
    assert stats.kstest(raw[:, 0] / 0.5, "norm").pvalue < 1e-6


def test_a_higher_percentile_filters_harder():
    gan = toy_gan()
    spread = []
    for percentile in (5.0, 50.0, 90.0):
        samples, acceptance = discriminator_rejection_sample(
            gan, 2000, seed=1, percentile=percentile, burn_in=2000, return_acceptance=True
        )
        spread.append((np.std(samples[:, 0]), acceptance))
    assert spread[0][0] > spread[1][0] > spread[2][0]
    assert spread[0][1] > spread[1][1] > spread[2][1]


def test_it_is_reproducible_per_seed():
    gan = toy_gan()
    a = discriminator_rejection_sample(gan, 300, seed=4, burn_in=500)
    b = discriminator_rejection_sample(gan, 300, seed=4, burn_in=500)
    c = discriminator_rejection_sample(gan, 300, seed=5, burn_in=500)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def label_generator():
    """[z0, label]: the sample's second coordinate is its label."""
    latents = keras.Input((2,))
    labels = keras.Input((), dtype="int32")
    first = keras.layers.Lambda(lambda v: v[:, :1])(latents)
    label = keras.layers.Lambda(lambda v: keras.ops.cast(v[:, None], "float32"))(labels)
    return keras.Model([latents, labels], keras.layers.Concatenate()([first, label]))


def label_discriminator():
    x = keras.Input((2,))
    labels = keras.Input((), dtype="int32")
    return keras.Model([x, labels], ratio_discriminator(2)(x))


def test_conditional_samples_come_in_the_requested_label_order():
    cgan = kgan.ConditionalGAN(label_generator(), label_discriminator(), num_classes=3)
    labels = np.array([2, 0, 2, 1, 1, 2] * 50)
    samples = discriminator_rejection_sample(cgan, 300, labels=labels, seed=0, burn_in=500)
    np.testing.assert_array_equal(samples[:, 1], labels)
    assert np.std(samples[:, 0]) < 0.9  # filtered: N(0, 1) before
    one_class = discriminator_rejection_sample(cgan, 4, labels=1, seed=0, burn_in=200)
    np.testing.assert_array_equal(one_class[:, 1], [1, 1, 1, 1])
    cycled = discriminator_rejection_sample(cgan, 6, seed=0, burn_in=200)
    np.testing.assert_array_equal(cycled[:, 1], [0, 1, 2, 0, 1, 2])


def test_bad_models_and_arguments_are_refused():
    with pytest.raises(ValueError, match="logistic losses"):
        discriminator_rejection_sample(toy_gan(loss="hinge"), 10)
    with pytest.raises(ValueError, match="pack"):
        discriminator_rejection_sample(toy_gan(pack=2), 10)
    with pytest.raises(ValueError, match="discriminator"):
        discriminator_rejection_sample(kgan.models.build_vae((2,)), 10)
    with pytest.raises(ValueError, match="percentile"):
        discriminator_rejection_sample(toy_gan(), 10, percentile=100)
    with pytest.raises(ValueError, match="num_samples"):
        discriminator_rejection_sample(toy_gan(), 0)
    with pytest.raises(ValueError, match="unconditional"):
        discriminator_rejection_sample(toy_gan(), 10, labels=[1] * 10)
    with pytest.raises(ValueError, match="still missing"):
        discriminator_rejection_sample(toy_gan(), 1000, gamma=50.0, burn_in=100, max_draws=4096)
