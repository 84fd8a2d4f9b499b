"""A trained GAN's generation (`generate` itself is `kgan.models.Trainer.generate`) and
`GANInferenceModule` for export."""

import tensorflow as tf

from kgan import sampling


class GANInferenceMixin:
    """Generation and export of `kgan.GAN` and its subclasses."""

    # Generation -----------------------------------------------------------------------------

    def _generate_batch(self, latents, labels):
        """The samples of `generate`: with `ema_decay` set, the moving average draws them."""
        generator = self.ema_generator if self.ema_generator is not None else self.generator
        return generator(self._net_inputs(latents, labels), training=False)

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
        z = sampling.stateless_latents(num_samples, self._latent_dim, seed)
        labels = None
        if self._num_classes is not None:
            labels = sampling.cycled_labels_graph(num_samples, self._num_classes)
        return self._outputs(z, labels)

    def signatures(self):
        """`{"generate", "sample"}` -> traced functions, ready for
        `tf.saved_model.save(self, path, signatures=...)`."""
        return {"generate": self.generate, "sample": self.sample}
