"""The RNG states a trainer saves: its own latent generator and its layers' (e.g. Dropout)."""

import keras
import numpy as np

import kgan


def _states(model):
    return [np.asarray(g.state.numpy()) for g in model._layer_seed_generators()]


def test_dropout_seed_states_survive_save_and_load(tmp_path):
    model = kgan.models.build_trainer("gan", (8, 8, 1), latent_dim=4, width=4, dropout=0.3, seed=0)
    model.compile(jit_compile=False)
    images = np.random.default_rng(0).uniform(-1, 1, (16, 8, 8, 1)).astype("float32")
    model.fit(images, epochs=1, batch_size=8, verbose=0)
    before = _states(model)
    assert before, "the discriminator's Dropout layers own seed generators"
    path = tmp_path / "gan.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    for saved, restored in zip(before, _states(loaded), strict=True):
        np.testing.assert_array_equal(saved, restored)
    fresh = kgan.models.build_trainer("gan", (8, 8, 1), latent_dim=4, width=4, dropout=0.3, seed=0)
    assert any(not np.array_equal(a, b) for a, b in zip(before, _states(fresh), strict=True)), (
        "training advanced the states, so a fresh model differs"
    )
    np.testing.assert_array_equal(
        loaded.seed_generator.state.numpy(), model.seed_generator.state.numpy()
    )
