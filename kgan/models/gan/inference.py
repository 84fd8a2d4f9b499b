"""A trained GAN's generation: `generate` for numpy callers, `GANInferenceModule` for export."""

import numpy as np
import tensorflow as tf


class GANInferenceMixin:
    """Generation and export of `kgan.GAN` and its subclasses."""

    # Generation -----------------------------------------------------------------------------

    def generate(self, num_samples=None, latents=None, labels=None, seed=None, batch_size=256):
        """Generates samples in the data's range (images in [-1, 1]).

        With `ema_decay` set, the moving average of the generator draws them.

        Args:
            num_samples: how many samples; inferred from `latents` or `labels` when omitted.
            latents: `[n, latent_dim]` latents; drawn from N(0, I) when omitted.
            labels: `[n]` int class labels of a conditional model; when omitted, the classes
                are cycled `0, 1, ..., num_classes - 1, 0, ...`. An int gives every sample
                that class.
            seed: int seed of the drawn latents, for reproducible samples.
            batch_size: samples per generator call.

        Returns:
            A numpy array `[n, *sample_shape]` of float32.

        Example:
            >>> grid = cgan.generate(labels=np.repeat(np.arange(10), 8), seed=0)
        """
        latents, labels = self._generation_inputs(num_samples, latents, labels, seed)
        if self._generate_fn is None:
            self._generate_fn = tf.function(self._generate_for_inference, reduce_retracing=True)
        outputs = []
        for start in range(0, latents.shape[0], batch_size):
            z = latents[start : start + batch_size]
            y = None if labels is None else labels[start : start + batch_size]
            outputs.append(np.asarray(self._generate_fn(z, y)))
        return np.concatenate(outputs, axis=0)

    def _generate_for_inference(self, latents, labels):
        generator = self.ema_generator if self.ema_generator is not None else self.generator
        return generator(self._net_inputs(latents, labels), training=False)

    def _generation_inputs(self, num_samples, latents, labels, seed):
        if labels is not None and not self.conditional:
            raise ValueError(f"{type(self).__name__} is unconditional: do not pass labels")
        if labels is not None and not np.isscalar(labels):
            labels = np.asarray(labels)
            if labels.ndim != 1:
                raise ValueError(f"labels must be a 1-D array of ints; got shape {labels.shape}")
            if num_samples is None:
                num_samples = labels.shape[0]
        if latents is not None:
            latents = np.asarray(latents, dtype="float32")
            if latents.ndim != 2 or latents.shape[1] != self.latent_dim:
                raise ValueError(
                    f"latents must have shape (n, {self.latent_dim}); got {latents.shape}"
                )
            if num_samples is None:
                num_samples = latents.shape[0]
        if num_samples is None:
            raise ValueError("pass num_samples, latents or labels to say how many samples")
        if not isinstance(num_samples, int | np.integer) or num_samples < 1:
            raise ValueError(f"num_samples must be a positive int; got {num_samples!r}")
        if latents is None:
            rng = np.random.default_rng(seed)
            latents = rng.standard_normal((num_samples, self.latent_dim)).astype("float32")
        elif latents.shape[0] != num_samples:
            raise ValueError(f"got {latents.shape[0]} latents for num_samples={num_samples}")
        if not self.conditional:
            return latents, None
        if labels is None:
            labels = np.arange(num_samples) % self.num_classes
        elif np.isscalar(labels):
            labels = np.full((num_samples,), labels)
        if labels.shape[0] != num_samples:
            raise ValueError(f"got {labels.shape[0]} labels for num_samples={num_samples}")
        if not np.issubdtype(labels.dtype, np.integer):
            raise ValueError(f"labels must be integers; got dtype {labels.dtype}")
        if labels.min() < 0 or labels.max() >= self.num_classes:
            raise ValueError(
                f"labels must be in [0, {self.num_classes}); got values from {labels.min()} "
                f"to {labels.max()}"
            )
        return latents, labels.astype("int32")

    # Export ---------------------------------------------------------------------------------

    def inference_module(self):
        """A `tf.Module` that tracks the generator that `generate` uses (the EMA generator when
        there is one) and serves it; the discriminator, optimizers and trainer stay out.

        Example:
            >>> module = cgan.inference_module()
            >>> tf.saved_model.save(module, path, signatures=module.signatures())
        """
        return GANInferenceModule(self)

    def inference_functions(self):
        """`{"generate", "sample"}` -> traced functions with fixed input signatures.

        `generate(z, labels)`: `z` float32 `[None, latent_dim]` (and `labels` int32 `[None]`
        for a conditional model) -> `{"images": [None, *sample_shape]}` in the data's range
        (the key is `"samples"` for vector data). `sample(num_samples, seed)`: int32 scalars ->
        the same output for latents drawn in the graph with `tf.random.stateless_normal` from
        the seed `[seed, 0]`, so one seed always gives the same samples; a conditional model
        cycles the labels `0, 1, ..., num_classes - 1, 0, ...` as `generate` does without
        labels (pass chosen labels to `generate` instead). The functions read the generator's
        variables: save them under `inference_module()` as the root object.

        Example:
            >>> functions = cgan.inference_functions()
            >>> functions["sample"](tf.constant(16), tf.constant(0))["images"].shape
            TensorShape([16, 28, 28, 1])
        """
        return self.inference_module().signatures()


class GANInferenceModule(tf.Module):
    """A trained `kgan.GAN`'s generator and the functions that export it.

    Args:
        model: a `kgan.GAN`, `kgan.ConditionalGAN` or `kgan.WGANGP`.

    Example:
        >>> module = kgan.models.gan.GANInferenceModule(cgan)
        >>> tf.saved_model.save(module, "cgan_model", signatures=module.signatures())
    """

    def __init__(self, model):
        super().__init__(name=f"{model.name}_inference")
        generator = model.ema_generator if model.ema_generator is not None else model.generator
        self.generator = generator
        # Tracked as plain variables so that SavedModel and the TFLite converter find them.
        self.generator_variables = [v.value for v in generator.weights]
        self._latent_dim = model.latent_dim
        self._num_classes = model.num_classes if model.conditional else None
        self._key = "images" if len(model.sample_shape) == 3 else "samples"
        z_spec = tf.TensorSpec([None, model.latent_dim], tf.float32, name="z")
        if self._num_classes is None:
            self.generate = tf.function(lambda z: self._outputs(z, None), input_signature=[z_spec])
        else:
            labels_spec = tf.TensorSpec([None], tf.int32, name="labels")
            self.generate = tf.function(self._outputs, input_signature=[z_spec, labels_spec])
        self.sample = tf.function(
            self._sample,
            input_signature=[
                tf.TensorSpec([], tf.int32, name="num_samples"),
                tf.TensorSpec([], tf.int32, name="seed"),
            ],
        )

    def _outputs(self, z, labels):
        inputs = z if labels is None else [z, labels]
        samples = self.generator(inputs, training=False)
        return {self._key: tf.cast(samples, tf.float32)}

    def _sample(self, num_samples, seed):
        z = tf.random.stateless_normal(
            tf.stack([num_samples, self._latent_dim]), seed=tf.stack([seed, 0])
        )  # [num_samples, latent_dim]
        labels = None
        if self._num_classes is not None:
            labels = tf.range(num_samples, dtype=tf.int32) % self._num_classes
        return self._outputs(z, labels)

    def signatures(self):
        """`{"generate", "sample"}` -> traced functions, ready for
        `tf.saved_model.save(self, path, signatures=...)`."""
        return {"generate": self.generate, "sample": self.sample}
