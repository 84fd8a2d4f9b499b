"""The run folder, in one place: its file names, the callbacks that write it (sample grids,
checkpoints, the data epoch) and the loaders that read it back.

A run folder (written by `kgan train`, or by `fit` with these callbacks) holds:

- `model.keras`: the compiled trainer, saved every epoch (`RunCheckpoint`);
- `state.json`: the epochs done and the run's options;
- `history.csv`: one row of logs per epoch;
- `grids/epoch_NNN.png`: samples from fixed latents (`SampleGrid`);
- `logs/`: TensorBoard, when the tensorboard package is installed;
- `samples.png`: the final grid.
"""

import importlib.util
import json
import os
import warnings

import keras
import numpy as np
import tensorflow as tf

from kgan import data as data_lib
from kgan import sampling
from kgan.atomic import atomic_write, atomic_write_json
from kgan.callbacks.guards import nonfinite_networks
from kgan.image_grid import image_grid, save_image_grid

MODEL_FILE = "model.keras"
STATE_FILE = "state.json"
HISTORY_FILE = "history.csv"
GRIDS_FOLDER = "grids"
LOGS_FOLDER = "logs"
SAMPLES_FILE = "samples.png"


def tensorboard_available():
    """Whether the `tensorboard` package, which `tf.summary` writes through, is installed."""
    return importlib.util.find_spec("tensorboard") is not None


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
        if log_dir and not tensorboard_available():
            raise ValueError("log_dir needs the tensorboard package: pip install tensorboard")
        self.directory = os.fspath(directory)
        self.num_samples = num_samples
        self.every = every
        self.log_dir = os.fspath(log_dir) if log_dir else None
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
            self._labels = sampling.grid_labels(rows, columns)
        self._latents = sampling.draw_latents(num, model.latent_dim, self.seed)
        self._columns = columns

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every:
            return
        if self._latents is None:
            self._fixed_inputs()
        labels = {"labels": self._labels} if self.model.conditional else {}
        images = self.model.generate(latents=self._latents, **labels)
        if not np.isfinite(images).all():
            return  # a diverged model; the guard and the checkpoint deal with it
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


class RunCheckpoint(keras.callbacks.Callback):
    """Saves the whole trainer (`model.keras`) and the epoch count (`state.json`) every epoch.

    Both files are written to a temporary name and renamed, so an interrupted run leaves the
    previous checkpoint intact. Resume with `kgan.callbacks.load_run(directory)`. The file
    holds the optimizers' state (iterations and moments) and the latent RNG state, so with
    `kgan.data.load`'s epoch-indexed shuffle (and `kgan.callbacks.DataEpoch`) a resumed run
    ends with the weights of an uninterrupted one. An epoch whose weights hold NaN or infinite
    values is not saved: the checkpoint keeps the last good epoch (see `DivergenceGuard`).

    Args:
        directory: the run's folder.
        extra_state: a JSON-serializable dict stored in `state.json` (e.g. the run's options).

    Example:
        >>> cgan.fit(data, epochs=40, callbacks=[kgan.callbacks.RunCheckpoint("runs/cgan")])
    """

    MODEL_FILE = MODEL_FILE
    STATE_FILE = STATE_FILE

    def __init__(self, directory, extra_state=None):
        super().__init__()
        self.directory = os.fspath(directory)
        self.extra_state = dict(extra_state or {})

        self.skipped_epochs = []

    def on_epoch_end(self, epoch, logs=None):
        diverged = nonfinite_networks(self.model)
        if diverged:
            self.skipped_epochs.append(epoch + 1)
            warnings.warn(
                f"epoch {epoch + 1} not saved: non-finite weights in {', '.join(diverged)}; "
                f"{os.path.join(self.directory, self.MODEL_FILE)} keeps the last good epoch",
                RuntimeWarning,
                stacklevel=2,
            )
            return
        atomic_write(os.path.join(self.directory, self.MODEL_FILE), self.model.save)
        state = dict(self.extra_state)
        state["epoch"] = epoch + 1
        state["logs"] = {k: float(v) for k, v in (logs or {}).items()}
        atomic_write_json(os.path.join(self.directory, self.STATE_FILE), state)


def load_run(directory):
    """Loads the trainer and the state saved by `RunCheckpoint` in `directory`.

    Args:
        directory: the run's folder.

    Returns:
        `(model, state)`: the compiled trainer and the dict of `state.json` (with `"epoch"`,
        the number of epochs done).
    """
    directory = os.fspath(directory)
    model_path = os.path.join(directory, MODEL_FILE)
    if not (os.path.isfile(model_path) and os.path.isfile(os.path.join(directory, STATE_FILE))):
        raise FileNotFoundError(
            f"{directory!r} holds no checkpoint ({MODEL_FILE} and {STATE_FILE}); train into it "
            "first"
        )
    return keras.saving.load_model(model_path), read_state(directory)


def is_run_folder(path):
    """Whether `path` is a folder holding a run's `model.keras`."""
    return os.path.isdir(path) and os.path.isfile(os.path.join(path, MODEL_FILE))


def read_state(directory):
    """The dict of a run folder's `state.json` (epochs done, options, last logs)."""
    with open(os.path.join(os.fspath(directory), STATE_FILE)) as f:
        return json.load(f)


def load_model(source):
    """The model a saved file holds: a run folder (its `model.keras`), a `.keras` file, or a
    `kgan.mixture.GaussianMixture` `.npz` file.

    Args:
        source: the path.

    Returns:
        The model (a trainer compiled as it was saved).

    Example:
        >>> model = kgan.callbacks.load_model("runs/cgan_mnist")
    """
    path = os.fspath(source)
    if os.path.isdir(path):
        if not is_run_folder(path):
            raise FileNotFoundError(
                f"{source!r} is a folder without {MODEL_FILE}; pass a run folder written by "
                "`kgan train` or a .keras file"
            )
        path = os.path.join(path, MODEL_FILE)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{source!r} does not exist; pass a run folder or a .keras file")
    if path.endswith(".keras"):
        return keras.saving.load_model(path)
    if path.endswith(".npz"):
        from kgan.mixture import GaussianMixture

        return GaussianMixture.load(path)
    raise ValueError(
        f"{source!r} is neither a run folder, a .keras file nor a GaussianMixture .npz file"
    )


class DataEpoch(keras.callbacks.Callback):
    """Keys the shuffle of a `kgan.data.load` dataset to Keras's epoch index.

    At the start of every epoch it sets the dataset's epoch counter (`kgan.data.set_epoch`), so
    epoch `e` sees the batches of epoch `e` of an uninterrupted run even when `fit` starts late:
    with `initial_epoch`, or when `keras.callbacks.BackupAndRestore` restores a run.

    Args:
        dataset: the `tf.data.Dataset` returned by `kgan.data.load`.

    Example:
        >>> train = kgan.data.load("ring8", batch_size=256, seed=0)
        >>> gan.fit(train, epochs=20, callbacks=[
        ...     keras.callbacks.BackupAndRestore("runs/backup"), kgan.callbacks.DataEpoch(train)])
    """

    def __init__(self, dataset):
        super().__init__()
        data_lib.get_epoch(dataset)  # fails early on a dataset without a counter
        self.dataset = dataset

    def on_epoch_begin(self, epoch, logs=None):
        data_lib.set_epoch(self.dataset, epoch)


# The losses each trainer family reports, in the order its step computes them, and the network
# each belongs to. The first non-finite one in this order names the network that diverged.
