"""The base of the VAE family: an encoder to a diagonal Gaussian posterior q(z|x) and a decoder
from latents to data, with the inference, the step wrappers and the export they share.

`kgan.models.VAE` and `kgan.models.VAEGAN` subclass `EncoderDecoderTrainer`; each adds its
distributions, its step's math (`_draw`, `_train_update`, `_test_terms`, `_record`) and how a
decoder's output becomes data (`_decode_mean`).
"""

import keras
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp
from keras import ops

from kgan import distribute, sampling
from kgan.models.base import Trainer
from kgan.models.ex_post import ExPostDensityMixin

tfd = tfp.distributions

# The floor that keeps the posterior's softplus scales away from zero.
POSTERIOR_MIN_SCALE = 1e-4


class EncoderDecoderTrainer(ExPostDensityMixin, Trainer):
    """A trainer with an `encoder` (data -> `[batch, 2 * latent_dim]`: the posterior's location
    and its scale before a softplus) and a `decoder` (latents -> data).

    A subclass sets `encoder`, `decoder`, `data_shape` and `latent_dim` in `__init__` and
    implements `_decode_mean` and its step's math. Every one can draw `generate`'s latents from
    a mixture of its codes instead of the prior (`fit_ex_post(x)`, then `sampling="ex_post"`,
    saved with the model; `kgan.models.ex_post`).
    """

    inference_names = ("encode", "decode", "generate")
    # What the messages call one example.
    data_noun = "data"

    @property
    def sample_shape(self):
        """The shape of one example, `data_shape` (named as on the GAN trainers)."""
        return self.data_shape

    # Distributions ----------------------------------------------------------------------

    def _posterior_params(self, x, training=False):
        params = ops.cast(self.encoder(x, training=training), "float32")  # [batch, 2 latent]
        loc, raw = params[:, : self.latent_dim], params[:, self.latent_dim :]
        return loc, ops.softplus(raw) + POSTERIOR_MIN_SCALE

    def _decode_mean(self, z):
        """The decoder's output as data, `[batch, *data_shape]` float32."""
        raise NotImplementedError

    def _generate_batch(self, latents, labels):
        return self._decode_mean(latents)

    # The step ---------------------------------------------------------------------------

    def _unpack(self, data):
        x, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        if isinstance(x, tuple | list):
            raise ValueError(
                f"fit() expects a dataset of ({self.data_noun}, labels) or of {self.data_noun} "
                f"alone; got a nested structure of {len(x)} inputs"
            )
        if tuple(x.shape[1:]) != self.data_shape:
            raise ValueError(
                f"the networks were built for {self.data_noun} of shape {self.data_shape} but "
                f"the data has shape {tuple(x.shape[1:])}; rebuild the networks with that shape "
                "or resize the data (kgan.data.load(..., image_size=...))"
            )
        return ops.cast(x, "float32")

    def train_step(self, data):
        return self._record(self._xla.whole(self._train_math)(self._unpack(data)))

    def test_step(self, data):
        return self._record(self._xla.whole(self._test_math)(self._unpack(data)))

    def _train_math(self, x):
        """The step's draws and updates; returns its terms, global-batch means."""
        # Under a strategy this runs on each replica's share of the global batch; the draws,
        # the loss weights and the logged means are those of the global batch.
        layout = distribute.ReplicaBatch(ops.shape(x)[0])
        terms = self._train_update(x, self._draw(layout), layout.weight())
        return dict(zip(terms, layout.mean(list(terms.values()))))

    def _test_math(self, x):
        layout = distribute.ReplicaBatch(ops.shape(x)[0])
        terms = self._xla.part(self._test_terms)(x, self._draw(layout))
        return dict(zip(terms, layout.mean(list(terms.values()))))

    # Inference --------------------------------------------------------------------------

    def _posterior_arrays(self, x, batch_size):
        empty = (np.zeros((0, self.latent_dim), "float32"),) * 2
        return self._map_batches("_encode_traced", self._posterior_params, x, batch_size, empty)

    def encode(self, x, sample=False, seed=None, batch_size=256):
        """Maps data to latents: the posterior mean, or one sample of q(z|x).

        Args:
            x: `[n, *shape]` float data (images in [-1, 1]).
            sample: draw `z ~ q(z|x)` instead of returning its mean.
            seed: int seed of the sample.
            batch_size: examples per encoder call.

        Returns:
            A numpy array `[n, latent_dim]` of float32.

        Example:
            >>> z = vae.encode(x_test)  # posterior means
        """
        loc, scale = self._posterior_arrays(x, batch_size)
        if not sample:
            return loc
        return loc + scale * sampling.draw_latents(loc.shape[0], loc.shape[1], seed)

    def posterior(self, x, batch_size=256):
        """q(z|x) for every example, as a `tfd.MultivariateNormalDiag` of batch shape `[n]`.

        Example:
            >>> q = vae.posterior(x_test[:8])
            >>> q.stddev().shape
            TensorShape([8, 16])
        """
        loc, scale = self._posterior_arrays(x, batch_size)
        return tfd.MultivariateNormalDiag(loc=loc, scale_diag=scale)

    def decode(self, z, batch_size=256):
        """Maps latents to data: the likelihood's mean in the data's range (a VAE-GAN's
        decoder output, images in [-1, 1]).

        Args:
            z: `[n, latent_dim]` latents.
            batch_size: latents per decoder call.

        Returns:
            A numpy array `[n, *shape]` of float32.

        Example:
            >>> images = vae.decode(np.zeros((1, vae.latent_dim)))
        """
        z = sampling.check_latents(z, self.latent_dim)
        latents = tf.TensorSpec([None, self.latent_dim], tf.float32)
        decode = self._traced("_decode_traced", self._decode_mean, [latents])
        outputs = [
            np.asarray(decode(z[start : start + batch_size]))
            for start in range(0, z.shape[0], batch_size)
        ]
        if not outputs:
            return np.zeros((0, *self.data_shape), "float32")
        return np.concatenate(outputs)

    def reconstruct(self, x, sample=False, seed=None, batch_size=256):
        """`decode(encode(x))`: the decoder at the posterior mean (or at a sample).

        Example:
            >>> kgan.image_grid.save_image_grid(vae.reconstruct(x_test[:64]), "recon.png")
        """
        return self.decode(self.encode(x, sample, seed, batch_size), batch_size)

    def prior_distribution(self):
        """p(z) as a `tfd` distribution (see the subclass's `_prior`).

        Example:
            >>> vae.prior_distribution().sample(5, seed=0).shape
            TensorShape([5, 16])
        """
        return self._prior()

    # Export -----------------------------------------------------------------------------

    def inference_module(self):
        """A `tf.Module` that tracks the encoder and decoder (not a discriminator or the
        optimizers) and serves them.

        Its traced functions: `encode(x)` (`[None, *shape]` float32 -> posterior means
        `[None, latent_dim]`), `decode(z)` and `generate(z)` (`[None, latent_dim]` float32 ->
        `[None, *shape]` in the data's range; `generate` takes latents the caller drew from the
        prior).

        Example:
            >>> module = vae.inference_module()
            >>> tf.saved_model.save(module, path, signatures=module.signatures())
        """
        return EncoderDecoderInferenceModule(self)

    def inference_functions(self):
        """`{"encode", "decode", "generate"}` -> traced functions with fixed input signatures
        (see `inference_module`). They read the model's variables: save them under the model
        or under `inference_module()` as the root object."""
        return self.inference_module().signatures()

    def _inference_variables(self):
        """The trainer's own variables the inference functions read (beside the networks')."""
        return []


class EncoderDecoderInferenceModule(tf.Module):
    """A trained VAE's (or VAE-GAN's) encoder and decoder and the functions that export them.

    Args:
        model: a `kgan.models.VAE` or `kgan.models.VAEGAN`.

    Example:
        >>> module = kgan.models.vae.VAEInferenceModule(vae)
        >>> tf.saved_model.save(module, "vae_model", signatures=module.signatures())
    """

    def __init__(self, model):
        super().__init__(name=f"{model.name}_inference")
        self.encoder = model.encoder
        self.decoder = model.decoder
        self.own_variables = [v.value for v in model._inference_variables()]
        x_spec = tf.TensorSpec([None, *model.data_shape], tf.float32, name="x")
        z_spec = tf.TensorSpec([None, model.latent_dim], tf.float32, name="z")
        self.encode = tf.function(lambda x: model._posterior_params(x)[0], input_signature=[x_spec])
        self.decode = tf.function(model._decode_mean, input_signature=[z_spec])
        self.generate = tf.function(model._decode_mean, input_signature=[z_spec])

    def signatures(self):
        """`{"encode", "decode", "generate"}` -> traced functions, ready for
        `tf.saved_model.save(self, path, signatures=...)`."""
        return {"encode": self.encode, "decode": self.decode, "generate": self.generate}
