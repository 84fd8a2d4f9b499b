"""DivergenceGuard stops a diverged run and names the network; ModeCollapseMonitor warns."""

import warnings

import keras
import numpy as np
import pytest
from keras import ops

import kgan
from kgan import cli, networks
from kgan.callbacks import DivergenceGuard, ModeCollapseMonitor, ModeCollapseWarning, RunCheckpoint


@keras.saving.register_keras_serializable(package="kgan_tests")
class NaNAfter(keras.layers.Layer):
    """Passes its input through, then returns NaN from its `calls + 1`-th training call on."""

    def __init__(self, calls, **kwargs):
        super().__init__(**kwargs)
        self.calls = calls

    def build(self, input_shape):
        self.count = self.add_weight(shape=(), initializer="zeros", trainable=False, name="count")

    def call(self, x, training=False):
        if training:
            self.count.assign_add(1.0)
        return x + ops.where(self.count > self.calls, float("nan"), 0.0)

    def get_config(self):
        return {**super().get_config(), "calls": self.calls}


def ring_points(n=64):
    return kgan.data.load_arrays("ring8", num_examples=n)[0]


def tiny_gan(nan_after_calls=None):
    keras.utils.set_random_seed(0)
    generator = networks.mlp_generator(2, latent_dim=2, hidden_units=(8,))
    points = keras.Input((2,))
    hidden = keras.layers.Dense(8, activation="relu")(points)
    if nan_after_calls is not None:
        hidden = NaNAfter(nan_after_calls)(hidden)
    discriminator = keras.Model(points, keras.layers.Dense(1)(hidden))
    model = kgan.GAN(generator, discriminator, seed=0)
    model.compile(jit_compile=False)
    return model


def test_guard_stops_names_the_discriminator_and_keeps_the_last_good_epoch(tmp_path):
    # The discriminator is called twice per step, so its 11th call is in step 6: the second
    # batch of epoch 2 (4 batches per epoch).
    model = tiny_gan(nan_after_calls=10)
    good = []
    snapshot = keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: good.append([np.array(w) for w in model.weights])
    )
    guard = DivergenceGuard()
    checkpoint = RunCheckpoint(tmp_path)
    with pytest.warns(RuntimeWarning) as caught:
        history = model.fit(
            ring_points(), batch_size=16, epochs=5, verbose=0,
            callbacks=[guard, snapshot, checkpoint],
        )  # fmt: skip
    assert len(history.history["d_loss"]) == 2  # stopped in epoch 2, not after epoch 5
    assert guard.epoch == 2 and guard.diverged_network == "discriminator"
    assert "epoch 2, batch 2: d_loss is nan" in guard.message
    assert "The discriminator diverged" in guard.message
    assert "non-finite weights now in: discriminator, generator" in guard.message
    assert any(guard.message in str(w.message) for w in caught)
    assert any("epoch 2 not saved" in str(w.message) for w in caught)
    assert checkpoint.skipped_epochs == [2]
    loaded, state = kgan.callbacks.load_run(tmp_path)
    assert state["epoch"] == 1
    assert kgan.callbacks.nonfinite_networks(loaded) == []
    for saved, expected in zip(loaded.weights, good[0], strict=True):
        np.testing.assert_array_equal(np.asarray(saved), expected)


def test_guard_blames_the_network_whose_weights_broke_first():
    # The generator's weights turn infinite after batch 3. Its NaN samples need not poison the
    # discriminator's loss (oneDNN's fused dense + ReLU maps NaN to 0), so the weights
    # themselves are checked: training stops at once and the generator is named.
    model = tiny_gan()

    def poison(batch, logs):
        if batch == 2:
            kernel = model.generator.trainable_weights[0]
            kernel.assign(np.full(kernel.shape, np.inf, "float32"))

    guard = DivergenceGuard(raise_error=True)
    breaker = keras.callbacks.LambdaCallback(on_train_batch_end=poison)
    with pytest.raises(FloatingPointError, match="The generator diverged"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            model.fit(ring_points(), batch_size=16, epochs=2, verbose=0, callbacks=[breaker, guard])
    assert guard.diverged_network == "generator" and "batch 3" in guard.message
    assert "its weights turned non-finite" in guard.message
    assert model.stop_training


def test_guard_stays_quiet_on_a_healthy_run():
    model = tiny_gan()
    guard = DivergenceGuard(raise_error=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        history = model.fit(ring_points(), batch_size=16, epochs=2, verbose=0, callbacks=[guard])
    assert guard.message is None and len(history.history["d_loss"]) == 2


def fixed_generator(outputs, num_classes=None):
    """A trainer whose generator is `outputs(latents, labels)`, a Keras function of its inputs."""
    latents = keras.Input((2,))
    inputs = [latents]
    labels = None
    if num_classes:
        labels = keras.Input((), dtype="int32")
        inputs.append(labels)
    generator = keras.Model(inputs, outputs(latents, labels))
    discriminator = networks.mlp_discriminator(2, num_classes=num_classes, hidden_units=(4,))
    trainer = kgan.ConditionalGAN if num_classes else kgan.GAN
    return trainer(generator, discriminator, num_classes=num_classes, seed=0)


def constant(latents, labels):
    return keras.layers.Dense(2, kernel_initializer="zeros", bias_initializer="ones")(latents)


def identity(latents, labels):
    return keras.layers.Dense(2, kernel_initializer="identity")(latents)


def check(monitor, model, epoch=0):
    monitor.set_model(model)
    logs = {}
    monitor.on_epoch_end(epoch, logs)
    return logs


def test_monitor_warns_for_a_constant_generator():
    monitor = ModeCollapseMonitor(ring_points(500), num_samples=128)
    with pytest.warns(ModeCollapseWarning, match="possible mode collapse at epoch 1"):
        logs = check(monitor, fixed_generator(constant))
    assert logs["diversity"] < 1e-3
    assert monitor.history == [{"epoch": 1, "diversity": logs["diversity"]}]


def test_monitor_is_quiet_for_a_diverse_generator():
    # N(0, I) samples spread more than the ring's points: the ratio is above 1.
    monitor = ModeCollapseMonitor(ring_points(500), num_samples=128)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ModeCollapseWarning)
        logs = check(monitor, fixed_generator(identity))
    assert 1.0 < logs["diversity"] < 2.0


def test_monitor_compares_a_conditional_model_class_by_class():
    points, modes = kgan.data.load_arrays("ring8", num_examples=600)
    labels = modes % 3

    def per_class_constant(latents, labels):
        return keras.layers.Flatten()(keras.layers.Embedding(3, 2)(labels))  # ignores latents

    def per_class_spread(latents, labels):
        return keras.layers.Add()([per_class_constant(latents, labels), identity(latents, None)])

    monitor = ModeCollapseMonitor(points, labels, num_samples=120)
    with pytest.warns(ModeCollapseWarning, match=r"sample diversity \(class \d\)"):
        logs = check(monitor, fixed_generator(per_class_constant, num_classes=3))
    assert logs["diversity"] < 1e-3
    monitor = ModeCollapseMonitor(points, labels, num_samples=120)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ModeCollapseWarning)
        assert check(monitor, fixed_generator(per_class_spread, num_classes=3))["diversity"] > 0.5


def test_monitor_reads_the_classifier_histogram_and_waits_for_start_epoch():
    points = ring_points(500)
    # Scores (x, -x, y): the ring's points fall in all three classes.
    classifier = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3, use_bias=False)])
    classifier.set_weights([np.array([[1.0, -1.0, 0.0], [0.0, 0.0, 1.0]], "float32")])
    monitor = ModeCollapseMonitor(points, num_samples=128, classifier=classifier, start_epoch=3)
    model = fixed_generator(constant)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ModeCollapseWarning)
        logs = check(monitor, model, epoch=0)  # epoch 1 < start_epoch: logged, not warned
    assert logs["class_coverage"] < 0.5
    with pytest.warns(ModeCollapseWarning, match="predicted classes cover"):
        check(monitor, model, epoch=2)
    healthy = check(ModeCollapseMonitor(points, classifier=classifier), fixed_generator(identity))
    assert healthy["class_coverage"] > 0.8


def test_monitor_arguments_are_checked():
    with pytest.raises(ValueError, match="num_samples must be >= 2"):
        ModeCollapseMonitor(ring_points(10), num_samples=1)
    with pytest.raises(ValueError, match="threshold"):
        ModeCollapseMonitor(ring_points(10), threshold=1.5)
    with pytest.raises(ValueError, match="3 real_labels for 10"):
        ModeCollapseMonitor(ring_points(10), real_labels=[0, 1, 2])


def test_kgan_train_exits_3_when_the_run_diverges(tmp_path, capsys):
    rng = np.random.default_rng(0)
    data = tmp_path / "small.npz"
    np.savez(data, x=rng.integers(0, 256, (32, 8, 8), dtype=np.uint8))
    out = tmp_path / "run"
    argv = ["train", "vae", "--data", str(data), "--out", str(out), "--quiet", "--epochs", "2"]
    small = ["--batch-size", "16", "--width", "4", "--latent-dim", "2", "--no-xla"]
    status = cli.main([*argv, *small, "--lr", "1e30"])
    text = capsys.readouterr()
    assert status == 3, text.out + text.err
    assert "kgan: error: training diverged in epoch 1" in text.out
    assert "The encoder diverged" in text.out or "The decoder diverged" in text.out
    assert "nothing was saved" in text.out
    assert not (out / "model.keras").exists()
