import numpy as np
import pytest
import tensorflow as tf

from kgan import losses


def softplus(x):
    return np.log1p(np.exp(x))


REAL = np.array([2.0, -0.5, 0.3, 1.7], "float32")
FAKE = np.array([-1.2, 0.4, 0.9, -3.0], "float32")


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


@pytest.mark.parametrize(
    "name, d_expected, g_expected",
    [
        (
            "minimax",
            -np.mean(np.log(sigmoid(REAL))) - np.mean(np.log(1 - sigmoid(FAKE))),
            np.mean(np.log(1 - sigmoid(FAKE))),
        ),
        (
            "non_saturating",
            -np.mean(np.log(sigmoid(REAL))) - np.mean(np.log(1 - sigmoid(FAKE))),
            -np.mean(np.log(sigmoid(FAKE))),
        ),
        (
            "hinge",
            np.mean(np.maximum(0, 1 - REAL)) + np.mean(np.maximum(0, 1 + FAKE)),
            -np.mean(FAKE),
        ),
        (
            "least_squares",
            0.5 * np.mean((REAL - 1) ** 2) + 0.5 * np.mean(FAKE**2),
            0.5 * np.mean((FAKE - 1) ** 2),
        ),
        ("wasserstein", np.mean(FAKE) - np.mean(REAL), -np.mean(FAKE)),
    ],
)
def test_losses_match_closed_forms(name, d_expected, g_expected):
    d_fn, g_fn = losses.get(name)
    np.testing.assert_allclose(float(d_fn(REAL, FAKE)), d_expected, rtol=1e-5)
    np.testing.assert_allclose(float(g_fn(FAKE)), g_expected, rtol=1e-5)
    # [batch, 1] logits, as the discriminators return them, give the same value.
    np.testing.assert_allclose(float(d_fn(REAL[:, None], FAKE[:, None])), d_expected, rtol=1e-5)


def test_losses_are_stable_for_large_logits():
    big = np.array([200.0, -200.0], "float32")
    assert np.isfinite(float(losses.non_saturating_d_loss(big, -big)))
    assert np.isfinite(float(losses.non_saturating_g_loss(big)))


def test_unknown_loss_name_is_refused():
    with pytest.raises(ValueError, match="hinge"):
        losses.get("hingee")


def test_gradient_penalty_of_a_linear_critic():
    # D(x) = <w, x> has gradient w everywhere, so the penalty is (||w|| - 1)^2.
    w = tf.constant([[3.0], [4.0]])
    real = tf.random.normal((8, 2))
    fake = tf.random.normal((8, 2))
    penalty = losses.gradient_penalty(lambda x: tf.matmul(x, w), real, fake, seed=1)
    np.testing.assert_allclose(float(penalty), (5.0 - 1.0) ** 2, rtol=1e-4)


def test_gradient_penalty_on_images_uses_per_example_norms():
    # D(x) = 0.5 sum(x^2) has gradient x; interpolates of x and x are x itself.
    x = tf.random.normal((4, 3, 3, 1))
    penalty = losses.gradient_penalty(lambda v: 0.5 * tf.reduce_sum(v**2, [1, 2, 3]), x, x)
    norms = np.sqrt(np.sum(x.numpy() ** 2, axis=(1, 2, 3)))
    np.testing.assert_allclose(float(penalty), np.mean((norms - 1) ** 2), rtol=1e-4)


def test_gradient_penalty_takes_the_callers_interpolation_weights():
    # D(x) = 0.5 sum(x^2) has gradient x, so the penalty is that of the interpolates themselves.
    real, fake = tf.random.normal((6, 3)), tf.random.normal((6, 3))
    alpha = np.linspace(0.0, 1.0, 6, dtype="float32")[:, None]
    critic = lambda v: 0.5 * tf.reduce_sum(v**2, axis=1)  # noqa: E731
    penalty = losses.gradient_penalty(critic, real, fake, alpha=alpha)
    x_hat = real.numpy() + alpha * (fake.numpy() - real.numpy())
    expected = np.mean((np.linalg.norm(x_hat, axis=1) - 1.0) ** 2)
    np.testing.assert_allclose(float(penalty), expected, rtol=1e-4)


def test_gradient_penalty_has_finite_gradients_where_the_critic_is_flat():
    # D(x) = <w, x> with w = 0: the critic's gradient is zero, where a plain norm's derivative
    # (x / ||x||) is 0/0.
    w = tf.Variable([[0.0], [0.0]])
    real, fake = tf.random.normal((8, 2)), tf.random.normal((8, 2))
    with tf.GradientTape() as tape:
        penalty = losses.gradient_penalty(lambda x: tf.matmul(x, w), real, fake, seed=1)
    grad = tape.gradient(penalty, w).numpy()
    np.testing.assert_allclose(float(penalty), 1.0, rtol=1e-4)  # (0 - 1)^2
    assert np.isfinite(grad).all()


def test_r1_penalty_closed_form():
    # D(x) = c/2 ||x||^2 has gradient c x, so E||grad||^2 = c^2 E||x||^2.
    x = tf.random.normal((6, 5))
    c = 3.0
    penalty = losses.r1_penalty(lambda v: 0.5 * c * tf.reduce_sum(v**2, axis=1), x)
    np.testing.assert_allclose(
        float(penalty), c**2 * np.mean(np.sum(x.numpy() ** 2, axis=1)), rtol=1e-4
    )
