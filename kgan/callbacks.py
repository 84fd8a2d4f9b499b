"""Keras callbacks for generative models."""

import os

import keras
import numpy as np
import tensorflow as tf

from kgan.image_grid import image_grid, save_image_grid


class SampleGrid(keras.callbacks.Callback):
    """Writes a grid of samples from fixed latents at the end of every `every` epochs.

    The latents (and, for a conditional model, the labels: each row one class) are drawn once,
    so the grids of successive epochs show the same points of the latent space.

    Args:
        directory: folder of the PNGs `epoch_001.png`, `epoch_002.png`, ...
        num_samples: samples per grid; for a conditional model, rounded up to a multiple of
            `num_classes` so each class gets a row.
        every: write every this many epochs.
        log_dir: if given, also log the grid as a TensorBoard image under this folder.
        seed: seed of the fixed latents.
        scale: integer upscaling of the PNG.

    Example:
        >>> cgan.fit(data, epochs=10, callbacks=[kgan.callbacks.SampleGrid("runs/grids")])
    """

    def __init__(self, directory, num_samples=100, every=1, log_dir=None, seed=0, scale=2):
        super().__init__()
        if num_samples < 1 or every < 1:
            raise ValueError(f"num_samples and every must be >= 1; got {num_samples}, {every}")
        self.directory = os.fspath(directory)
        self.num_samples = num_samples
        self.every = every
        self.log_dir = log_dir
        self.seed = seed
        self.scale = scale
        self._latents = None
        self._labels = None
        self._columns = None
        self._writer = None

    def _fixed_inputs(self):
        model = self.model
        if len(model.sample_shape) != 3:
            raise ValueError("SampleGrid draws images; this model generates vectors")
        num = self.num_samples
        columns = None
        if model.conditional:
            rows = model.num_classes
            columns = -(-num // rows)
            num = rows * columns
            self._labels = np.repeat(np.arange(rows), columns).astype("int32")
        rng = np.random.default_rng(self.seed)
        self._latents = rng.standard_normal((num, model.latent_dim)).astype("float32")
        self._columns = columns

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every:
            return
        if self._latents is None:
            self._fixed_inputs()
        images = self.model.generate(latents=self._latents, labels=self._labels)
        save_image_grid(
            images,
            os.path.join(self.directory, f"epoch_{epoch + 1:03d}.png"),
            columns=self._columns,
            scale=self.scale,
        )
        if self.log_dir:
            if self._writer is None:
                self._writer = tf.summary.create_file_writer(self.log_dir)
            grid = image_grid(images, columns=self._columns)
            with self._writer.as_default():
                tf.summary.image("samples", grid[None], step=epoch + 1)
            self._writer.flush()
