"""The latent RNG state of a trainer, saved with its weights."""

import numpy as np

_KEY = "seed_generator_state"


class SeedStateMixin:
    """Saves and restores a trainer's `seed_generator` state with its own variables.

    Keras does not save a `keras.random.SeedGenerator`'s state; without it a resumed run would
    redraw the latents (or noise) of its first epochs. Put it before `keras.Model` in the bases.
    """

    def save_own_variables(self, store):
        super().save_own_variables(store)
        store[_KEY] = np.asarray(self.seed_generator.state.numpy())

    def load_own_variables(self, store):
        keys = list(store.keys())
        if _KEY in keys:
            self.seed_generator.state.assign(store[_KEY])
        super().load_own_variables({k: store[k] for k in keys if k != _KEY})
