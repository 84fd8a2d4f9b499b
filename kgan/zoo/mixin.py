"""`from_preset` and `save_to_preset` on every model family."""


class PresetMixin:
    """Gives a model class `from_preset` and `save_to_preset` (KerasHub's convention).

    The zoo is imported when a method runs, so model modules do not depend on it at import time.
    """

    @classmethod
    def from_preset(cls, preset, load_weights=True, **kwargs):
        """Loads a preset of this class (or a subclass).

        Args:
            preset: a built-in name (`kgan.zoo.list_presets()`), a local preset folder, an
                `http(s)://` or `file://` URL of one, or an `hf://` / `kaggle://` handle.
            load_weights: load the trained weights; False gives the freshly initialized model
                of the preset's configuration.
            **kwargs: passed to `kgan.zoo.load` (`offline`, `cache_dir`, `verbose`).

        Returns:
            The model.

        Example:
            >>> cgan = kgan.ConditionalGAN.from_preset("cgan_mnist")
        """
        from kgan import zoo

        return zoo.load(preset, load_weights=load_weights, expected_class=cls, **kwargs)

    def save_to_preset(self, preset_dir, **metadata):
        """Writes this model as a preset folder; see `kgan.zoo.save_to_preset`."""
        from kgan import zoo

        return zoo.save_to_preset(self, preset_dir, **metadata)
