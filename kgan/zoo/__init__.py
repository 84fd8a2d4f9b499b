"""Presets: save, publish, download, cache and load pretrained models."""
