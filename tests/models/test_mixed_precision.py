"""Mixed precision: every trainer trains under the float16 and bfloat16 policies."""

import keras
import numpy as np
import pytest

import kgan

SHAPE = (8, 8, 1)


@pytest.fixture
def policy(request):
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(request.param)
    yield request.param
    keras.mixed_precision.set_global_policy(previous)


def _data(n=16, seed=0):
    rng = np.random.default_rng(seed)
    images = np.tanh(rng.normal(size=(n, *SHAPE))).astype("float32")
    return images, rng.integers(0, 3, n).astype("int32")


def _trainer(name):
    keras.utils.set_random_seed(0)
    small = {"latent_dim": 4, "width": 4, "seed": 0}
    if name == "gan_gp":
        model = kgan.models.build_trainer(
            "gan", SHAPE, loss="wasserstein", gradient_penalty=10.0, r1=1.0, d_steps=2, **small
        )
        return model, [model.generator, model.discriminator]
    if name == "cgan":
        model = kgan.models.build_trainer("cgan", SHAPE, num_classes=3, **small)
        return model, [model.generator, model.discriminator]
    if name in ("clustergan", "infogan", "bigan"):
        options = {"latent_dim": 4} if name == "bigan" else {"noise_dim": 2, "num_clusters": 3}
        model = kgan.models.build_trainer(name, SHAPE, width=4, seed=0, **options)
        third = model.encoder if name != "infogan" else model.q_head
        return model, [model.generator, model.discriminator, third]
    if name == "vae":
        model = kgan.models.build_vae(SHAPE, **small)
        return model, [model.encoder, model.decoder]
    model = kgan.models.build_vaegan(SHAPE, **small)
    return model, [model.encoder, model.decoder, model.discriminator]


def _optimizers(model):
    names = ("optimizer", "d_optimizer", "g_optimizer", "e_optimizer")
    return [getattr(model, n) for n in names if getattr(model, n, None) is not None]


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"], indirect=True)
@pytest.mark.parametrize(
    "name", ["gan_gp", "cgan", "vae", "vaegan", "clustergan", "infogan", "bigan"]
)
def test_a_few_steps_under_a_mixed_policy(policy, name):
    model, networks = _trainer(name)
    compute = "float16" if policy == "mixed_float16" else "bfloat16"
    assert any(layer.compute_dtype == compute for layer in networks[0].layers)
    # XLA (slow to compile on CPU) for one trainer: the compiled step with loss scaling.
    model.compile(jit_compile=name == "cgan" and policy == "mixed_float16")
    for optimizer in _optimizers(model):
        scaled = isinstance(optimizer, keras.optimizers.LossScaleOptimizer)
        assert scaled == (policy == "mixed_float16"), type(optimizer).__name__
    before = [net.get_weights() for net in networks]
    images, labels = _data()
    data = (images, labels) if name == "cgan" else (images,)
    history = model.fit(*data, batch_size=8, epochs=2, verbose=0)
    for key, values in history.history.items():
        assert np.all(np.isfinite(values)), key
    if name == "gan_gp":
        assert history.history["penalty"][-1] > 0
    for weights, net in zip(before, networks):
        after = net.get_weights()
        assert all(np.all(np.isfinite(w)) for w in after), net.name
        assert any(not np.allclose(a, b) for a, b in zip(weights, after)), net.name
    # The outputs come back in float32.
    if name in ("vae", "vaegan"):
        assert model.decode(np.zeros((2, model.latent_dim))).dtype == np.float32
    else:
        assert model.generate(2, seed=0).dtype == np.float32


@pytest.mark.parametrize("policy", ["mixed_float16"], indirect=True)
def test_loss_scale_optimizer_survives_a_save_and_reload(policy, tmp_path):
    model, _ = _trainer("vae")
    model.compile(optimizer=keras.optimizers.Adam(1e-3), jit_compile=False)
    model.fit(_data()[0], batch_size=8, epochs=1, verbose=0)
    path = tmp_path / "vae.keras"
    model.save(path)
    restored = keras.saving.load_model(path)
    assert isinstance(restored.optimizer, keras.optimizers.LossScaleOptimizer)
    assert not isinstance(restored.optimizer.inner_optimizer, keras.optimizers.LossScaleOptimizer)
