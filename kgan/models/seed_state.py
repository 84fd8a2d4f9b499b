"""The RNG state of a trainer and of the layers in its networks, saved with its weights."""

import numpy as np

_KEY = "seed_generator_state"
_LAYER_KEY = "layer_seed_generator_state_{}"


class SeedStateMixin:
    """Saves and restores the state of every `keras.random.SeedGenerator` a trainer holds.

    Keras saves no `SeedGenerator` state: without it a resumed run would redraw the latents
    (or noise) of its first epochs, and layers such as `Dropout` inside the networks would
    repeat their masks. The trainer's own `seed_generator` is stored under one key, those of
    the networks' layers in the order `_flatten_layers` visits them (fixed by the
    architecture). Put this class before `keras.Model` in the bases.
    """

    def _layer_seed_generators(self):
        own = getattr(self, "seed_generator", None)
        found, seen = [], {id(own)}
        for layer in self._flatten_layers(include_self=False):
            for generator in getattr(layer, "_seed_generators", ()):
                if id(generator) not in seen:
                    seen.add(id(generator))
                    found.append(generator)
        return found

    def save_own_variables(self, store):
        super().save_own_variables(store)
        store[_KEY] = np.asarray(self.seed_generator.state.numpy())
        for i, generator in enumerate(self._layer_seed_generators()):
            store[_LAYER_KEY.format(i)] = np.asarray(generator.state.numpy())

    def load_own_variables(self, store):
        keys = list(store.keys())
        if _KEY in keys:
            self.seed_generator.state.assign(store[_KEY])
        # Files written before the layers' states were saved hold none: those stay as they are.
        for i, generator in enumerate(self._layer_seed_generators()):
            key = _LAYER_KEY.format(i)
            if key in keys:
                generator.state.assign(store[key])
        own = {k for k in keys if k == _KEY or k.startswith("layer_seed_generator_state_")}
        super().load_own_variables({k: store[k] for k in keys if k not in own})
