"""InfoGAN (Chen et al. 2016): a GAN that maximizes the mutual information between some of its
latent codes and its samples, so the codes take the data's categories and factors."""

import math
import numbers

import keras
import tensorflow as tf
from keras import ops

from kgan import augment, distribute, networks
from kgan.models.base import check_non_negative, register_trainer
from kgan.models.gan import GAN
from kgan.models.gan.codes import CodeGAN
from kgan.models.vaegan.feature_layer import default_feature_layer
from kgan.sampling import check_positive_int

# The moving average of each categorical head's real-data terms, per step.
HEAD_LOSS_DECAY = 0.98


@register_trainer("infogan")
class InfoGAN(CodeGAN):
    """InfoGAN: categories and factors of unlabelled data as latent codes.

    The latent is `[n, onehot(c), u]`: noise `n ~ N(0, I_noise_dim)`, a categorical code `c`
    uniform over `num_clusters` values and `num_continuous` codes `u ~ U(-1, 1)` (MNIST in the
    paper: 62 + Cat(10) + 2). An auxiliary head Q on the discriminator's features (one hidden
    layer, sharing the discriminator's body) predicts the codes of generated samples; the
    variational lower bound of their mutual information with the samples, the categorical
    cross-entropy plus the Gaussian negative log-likelihood (unit variance) of the continuous
    codes, weighted by `info_weight` (lambda = 1 in the paper), is added to the generator's
    objective and to the discriminator's (which trains the body and Q). The adversarial part is
    the shared step's, with any of its losses. A data point's cluster is the argmax of Q's
    categorical logits; `encode` gives Q's output, logits then continuous codes (with
    `share_body=False`, the features Q's last layer reads).

    Args:
        generator: a `keras.Model` from latents `[batch, noise_dim + K + C]` to samples.
        discriminator: a `keras.Model` from samples to logits `[batch, 1]` with a flat hidden
            feature layer (`feature_layer`).
        q_head: a `keras.Model` from that layer's features to `[batch, K + C]` (see
            `kgan.networks.code_head`); with `share_body=False`, from samples to `[batch, K + C]`
            (see `kgan.networks.code_encoder`).
        num_clusters: `K`, the categorical code's size (>= 2).
        num_continuous: `C`, the number of continuous codes (>= 0).
        categorical_codes: `F`, how many independent categorical codes of `K` values the
            latent holds (1, the default, is the paper's MNIST latent; the paper allows
            several). Each is uniform, Q reads each with logits of its own, and
            the information terms (and the real-data ones) are summed over them. A cluster is
            then a tuple of codes, numbered `c_1 K^(F-1) + ... + c_F`: `num_clusters` is K^F
            on the built model, `cluster` gives those numbers and `generate(clusters=...)`
            takes them (on Stacked MNIST, three Cat(10) codes can take one digit each, the
            1,000 triples then drawn uniformly). More than 1 needs `category_heads=1`.
        info_weight: lambda, the weight of the mutual-information term.
        im_weight: weight of an information-maximization term on real data, added to the
            discriminator's objective (which trains Q and the body): the mean entropy of Q's
            categorical distribution on each real sample minus the entropy of its batch mean,
            so Q's categories are confident and balanced on the data as well as on generated
            samples (regularized information maximization, Krause et al. 2010). 0 (the
            default) is the paper's InfoGAN.
        sample_category_weight: the weight of the categorical code's cross-entropy on generated
            samples in the discriminator's objective (Q learning the generator's categories);
            None (the default) is `info_weight`, the paper's. 0 lets Q's categories come from
            the real-data terms alone (`im_weight`, `consistency_weight`) while the generator
            still learns to draw each of them; the continuous codes are learned as in the paper.
        im_balance: mu, the weight of the batch mean's entropy against the samples' own in
            that term (`im_weight * (H(c|x) - mu * H(c))`); 1 by default, 4 in IMSAT (Hu et al.
            2017), which keeps the categories balanced more firmly.
        consistency_weight: weight of a self-augmented training term on real data, added to
            the discriminator's objective: the KL divergence of Q's categories on a randomly
            rotated, scaled and shifted copy of each real image (`kgan.augment.affine`, 15
            degrees, 10%, 10%) from its categories on the image itself (held fixed), so a
            category stays put under the small changes that do not change what an image shows
            (Hu et al. 2017). Images only; 0 (the default) leaves it out.
        consistency_views: how many such copies of each real image the term draws a step
            (each with its own transform); the term is their mean divergence, so the weight
            keeps its meaning while the gradient averages over more transforms. 1 (the
            default) is IMSAT's; more than 1 needs `consistency_weight`.
        feature_layer: the discriminator layer Q reads; None picks the input of the logit head
            (`"features"` for `kgan.networks.dcgan_discriminator`).
        category_heads: how many categorical heads Q has (H >= 1; 1 is the paper's). Each
            is trained with the real-data terms (`im_weight`, `consistency_weight`) from its own
            start; the one in use is the head whose terms are lowest in a moving average over
            training steps (0.98 per step), so a head stuck in a poor partition (two categories
            merged, one split) is passed over without labels. Q's output is then the H heads'
            `H * K` logits followed by the continuous codes (with `categorical_codes` F, each
            of Q's readings is `F * K` logits); `cluster` and the generator's
            categories follow the head in use.
        share_body: True (the paper's) for Q as a head on the discriminator's body; False for Q
            as a network of its own on the samples, which the adversarial loss does not pull
            on (on `mnist_5k` the shared body cost the clusters several points of accuracy).
            `encode` then gives the features Q's last layer reads (128 values for
            `kgan.networks.code_encoder`'s), its own representation of the data, rather than
            Q's output.
        **kwargs: passed to `kgan.GAN` (`loss`, `d_steps`, `r1`, `seed`, `ema_decay`, ...).

    Example:
        >>> model = kgan.models.build_trainer("infogan", (28, 28, 1), num_clusters=10, seed=0)
        >>> model.compile()
        >>> model.fit(kgan.data.load("mnist_5k"), epochs=30)
        >>> clusters = model.cluster(x)
        >>> model.generate(clusters=[3] * 5, codes=[[-1, 0], [-0.5, 0], [0, 0], [0.5, 0], [1, 0]])
    """

    network_names = ("discriminator", "generator", "q_head")
    loss_owners = (*GAN.loss_owners, ("info_loss", "generator and discriminator"))
    build_options = (
        *CodeGAN.build_options,
        "num_continuous",
        "info_weight",
        "im_weight",
        "im_balance",
        "consistency_weight",
        "consistency_views",
        "categorical_codes",
        "sample_category_weight",
        "feature_layer",
        "share_body",
        "category_heads",
        "vat_weight",
        "vat_epsilon",
        "q_width",
        "separate_heads",
        "continuous_body",
    )

    def __init__(
        self,
        generator,
        discriminator,
        q_head,
        num_clusters=10,
        num_continuous=2,
        info_weight=1.0,
        im_weight=0.0,
        im_balance=1.0,
        consistency_weight=0.0,
        consistency_views=1,
        categorical_codes=1,
        sample_category_weight=None,
        feature_layer=None,
        share_body=True,
        category_heads=1,
        vat_weight=0.0,
        vat_epsilon=0.1,
        **kwargs,
    ):
        if kwargs.get("pack", 1) != 1:
            raise ValueError("InfoGAN reads one sample's codes at a time: drop pack")
        super().__init__(generator, discriminator, **kwargs)
        if not isinstance(q_head, keras.Model):
            raise ValueError(
                "q_head must be a keras.Model (build one with kgan.networks.code_head); got "
                f"{type(q_head).__name__}"
            )
        check_non_negative(
            info_weight=info_weight,
            im_weight=im_weight,
            im_balance=im_balance,
            consistency_weight=consistency_weight,
            vat_weight=vat_weight,
        )
        if (
            isinstance(vat_epsilon, bool)
            or not isinstance(vat_epsilon, numbers.Real)
            or not (vat_epsilon > 0)
        ):
            raise ValueError(f"vat_epsilon must be > 0; got {vat_epsilon!r}")
        if sample_category_weight is not None:
            check_non_negative(sample_category_weight=sample_category_weight)
        self._set_codes(num_clusters, num_continuous, categorical_codes=categorical_codes)
        if not isinstance(share_body, bool):
            raise ValueError(f"share_body must be True or False; got {share_body!r}")
        self.share_body = share_body
        q_input = tuple(q_head.inputs[0].shape[1:])
        if share_body:
            names = [layer.name for layer in discriminator.layers]
            self.feature_layer = feature_layer or default_feature_layer(discriminator)
            if self.feature_layer not in names:
                raise ValueError(
                    f"feature_layer {self.feature_layer!r} is not a layer of the discriminator; "
                    f"choose one of {names[1:-1]}"
                )
            features = discriminator.get_layer(self.feature_layer).output
            if len(features.shape) != 2 or q_input != (features.shape[1],):
                raise ValueError(
                    f"q_head must take the discriminator's {self.feature_layer!r} features "
                    f"{tuple(features.shape[1:])}; it takes {q_input}"
                )
        else:
            if feature_layer is not None:
                raise ValueError(
                    "feature_layer names the discriminator layer a shared Q reads: leave it "
                    "None with share_body=False"
                )
            self.feature_layer = None
            if q_input != tuple(self.sample_shape):
                raise ValueError(
                    f"with share_body=False, q_head reads samples {tuple(self.sample_shape)}; "
                    f"it takes {q_input} (build it with kgan.networks.code_encoder)"
                )
        category_heads = check_positive_int("category_heads", category_heads)
        if category_heads > 1 and not (im_weight or consistency_weight or vat_weight):
            raise ValueError(
                "category_heads > 1 picks a head by its real-data terms: set im_weight, "
                "consistency_weight or vat_weight too"
            )
        if category_heads > 1 and self.categorical_codes > 1:
            raise ValueError(
                f"category_heads={category_heads} chooses among readings of one categorical "
                f"code; with categorical_codes={self.categorical_codes} leave it at 1"
            )
        self.category_heads = category_heads
        # Q's categorical readings: the heads of one code, or one reading per code.
        self._category_groups = category_heads * self.categorical_codes
        expected = self._category_groups * self.code_size + self.num_continuous
        if tuple(q_head.outputs[0].shape[1:]) != (expected,):
            raise ValueError(
                f"q_head must return category_heads * categorical_codes * num_clusters + "
                f"num_continuous = {expected} values; it returns "
                f"{tuple(q_head.outputs[0].shape[1:])}"
            )
        self.q_head = q_head
        self.info_weight = float(info_weight)
        self.im_weight = float(im_weight)
        self.im_balance = float(im_balance)
        self.consistency_weight = float(consistency_weight)
        self.consistency_views = check_positive_int("consistency_views", consistency_views)
        if self.consistency_views > 1 and not self.consistency_weight:
            raise ValueError(
                f"consistency_views={consistency_views} draws copies for the consistency term: "
                "set consistency_weight > 0 too, or leave consistency_views at 1"
            )
        self.vat_weight = float(vat_weight)
        self.vat_epsilon = float(vat_epsilon)
        self.sample_category_weight = (
            None if sample_category_weight is None else float(sample_category_weight)
        )
        if self.consistency_weight and len(self.sample_shape) != 3:
            raise ValueError(
                f"consistency_weight transforms images (height, width, channels); these "
                f"samples have shape {self.sample_shape}: leave it at 0"
            )
        # The discriminator's body up to Q's features; its weights are saved once, under the
        # discriminator.
        object.__setattr__(
            self,
            "_feature_model",
            keras.Model(discriminator.inputs[0], features, name=f"{discriminator.name}_features")
            if share_body
            else None,
        )
        # Q of its own: its output and the features its code is read from, in one pass.
        object.__setattr__(
            self,
            "_q_with_features",
            None
            if share_body
            else keras.Model(
                q_head.inputs[0],
                [networks.code_features(q_head), q_head.outputs[0]],
                name=f"{q_head.name}_with_features",
            ),
        )
        # Each categorical head's real-data terms, averaged over steps: the lowest is in use.
        self.head_losses = None
        if category_heads > 1:
            self.head_losses = self.add_weight(
                shape=(category_heads,),
                initializer="zeros",
                trainable=False,
                aggregation="mean",
                name="head_losses",
            )
        self.info_loss_tracker = keras.metrics.Mean(name="info_loss")
        self._extra_trackers = (self.info_loss_tracker,)

    @classmethod
    def from_shape(
        cls,
        shape,
        num_classes=None,
        num_clusters=10,
        num_continuous=2,
        noise_dim=None,
        width=None,
        d_width=None,
        spectral_norm=False,
        dropout=0.0,
        synchronized_batch_norm=False,
        q_width=64,
        separate_heads=False,
        continuous_body=False,
        **options,
    ):
        """Builds an InfoGAN and its networks for data of a given shape.

        The generator and discriminator are `kgan.GAN.from_shape`'s; Q has 128 hidden units on
        the discriminator's flat features, or with `share_body=False` is
        `kgan.networks.code_encoder(shape, H K + C, width=q_width, hidden_units=(128,))`; with
        `separate_heads=True` as well, each of the H categorical heads has a body of its own
        (`code_encoder(shape, (K, ..., K, K + C), ...)`, the last also reading the continuous
        codes), so that the heads are independent starts and the real-data terms choose among
        them, instead of H readings of one representation. With `continuous_body=True` too,
        the continuous codes get a body of their own (`(K, ..., K, C)`): the head that shares
        its body with them, which the generator's samples pull on, usually comes out below
        the others. With `categorical_codes` F > 1, Q gives `F K` categorical values instead of
        `K` (with `separate_heads=True`, a body per code instead of per head).

        Args:
            shape: per-example shape, e.g. `(28, 28, 1)` or `(2,)`.
            num_classes: ignored: the model learns without labels (set `num_clusters`).
            num_clusters: the categorical code's size, 10 by default.
            num_continuous: continuous codes, 2 by default.
            noise_dim: the noise's size; 62 for images (the paper's), 2 for vectors when None.
            width: the generator's width.
            d_width: the discriminator's width.
            spectral_norm: spectral normalization in the discriminator.
            dropout: dropout before the discriminator's head (images only).
            synchronized_batch_norm: see `kgan.GAN.from_shape`.
            q_width: with `share_body=False`, the channels of Q's first convolution (images),
                of each body with `separate_heads=True`.
            separate_heads: with `share_body=False`, one body per categorical head (see above).
            continuous_body: with `separate_heads=True`, one more body for the continuous
                codes.
            **options: passed to the trainer (`info_weight`, `share_body`, `loss`, `seed`, ...).

        Returns:
            An uncompiled InfoGAN.
        """
        cls.check_build_options(options)
        # Q's categorical readings (the constructor checks both options).
        codes = options.get("categorical_codes", 1)
        codes = codes if isinstance(codes, int) and codes >= 1 else 1
        heads = options.get("category_heads", 1)
        heads = heads if isinstance(heads, int) else 1
        generator, discriminator, _ = cls._networks(
            shape,
            noise_dim,
            62,
            codes * num_clusters + num_continuous,
            width=width,
            d_width=d_width,
            spectral_norm=spectral_norm,
            dropout=dropout,
            synchronized_batch_norm=synchronized_batch_norm,
        )
        groups = heads * codes
        code_dim = groups * num_clusters + num_continuous
        own_q = options.get("share_body", True) is False
        flags = {"separate_heads": separate_heads, "continuous_body": continuous_body}
        for name, value in flags.items():
            if not isinstance(value, bool):
                raise ValueError(f"{name} must be True or False; got {value!r}")
        if continuous_body and not separate_heads:
            raise ValueError(
                "continuous_body=True gives the continuous codes a body beside the heads' own: "
                "set separate_heads=True (and share_body=False) too"
            )
        if separate_heads:
            if not own_q:
                raise ValueError(
                    "separate_heads=True gives Q's heads bodies of their own: set "
                    "share_body=False too"
                )
            if continuous_body and num_continuous:
                code_dim = (num_clusters,) * groups + (num_continuous,)
            else:
                code_dim = (num_clusters,) * (groups - 1) + (num_clusters + num_continuous,)
        if own_q:
            head = networks.code_encoder(
                tuple(shape), code_dim, width=q_width, hidden_units=(128,), name="q_network"
            )
        else:
            layer = options.get("feature_layer") or default_feature_layer(discriminator)
            feature_dim = int(discriminator.get_layer(layer).output.shape[-1])
            head = networks.code_head(feature_dim, code_dim, name="q_head")
        return cls(
            generator,
            discriminator,
            head,
            num_clusters=num_clusters,
            num_continuous=num_continuous,
            **options,
        )

    def get_config(self):
        return {
            **super().get_config(),
            "q_head": keras.saving.serialize_keras_object(self.q_head),
            "num_clusters": self.code_size,
            "categorical_codes": self.categorical_codes,
            "num_continuous": self.num_continuous,
            "info_weight": self.info_weight,
            "im_weight": self.im_weight,
            "im_balance": self.im_balance,
            "consistency_weight": self.consistency_weight,
            "consistency_views": self.consistency_views,
            "sample_category_weight": self.sample_category_weight,
            "feature_layer": self.feature_layer,
            "share_body": self.share_body,
            "category_heads": self.category_heads,
            "vat_weight": self.vat_weight,
            "vat_epsilon": self.vat_epsilon,
        }

    # The step -----------------------------------------------------------------------------

    def _q_outputs(self, x, training):
        """`(categorical logits [n, G, K], continuous codes [n, C], features [n, d])`, G the
        H heads or the F codes: the features are Q's output `[n, G K + C]`, or with
        `share_body=False` what Q's last layer reads."""
        if self.share_body:
            codes = self.q_head(self._feature_model(x, training=training), training=training)
            features = codes = ops.cast(codes, "float32")
        else:
            features, codes = self._q_with_features(x, training=training)
            features, codes = ops.cast(features, "float32"), ops.cast(codes, "float32")
        split = self._category_groups * self.code_size
        logits = ops.reshape(codes[:, :split], (-1, self._category_groups, self.code_size))
        return logits, codes[:, split:], features

    def head_in_use(self):
        """The categorical head that `cluster` and the generator's categories follow: the
        one whose real-data terms are lowest (0 with one head)."""
        if self.head_losses is None:
            return 0
        return int(ops.convert_to_numpy(ops.argmin(self.head_losses)))

    def _read_codes(self, x, training=False):
        logits, continuous, codes = self._q_outputs(x, training)
        if self.category_heads == 1:
            return (
                ops.reshape(logits, (-1, self._category_groups * self.code_size)),
                continuous,
                codes,
            )
        head = ops.one_hot(ops.argmin(self.head_losses), self.category_heads)  # [H]
        return ops.einsum("nhk,h->nk", logits, head), continuous, codes

    def _code_network_variables(self):
        heads = [] if self.head_losses is None else [self.head_losses]
        if not self.share_body:
            return [*self.q_head.weights, *heads]
        return [*self._feature_model.weights, *self.q_head.weights, *heads]

    def _information_terms(self, latents, generated):
        """The negative lower bound of I(codes; G(z)) (up to constants) in two parts, batch
        means: the categorical codes' cross-entropy (summed over them), and half the squared
        error of the continuous codes (0 without them)."""
        _, onehot, continuous = self._split_latents(latents)
        logits, predicted, _ = self._read_codes(generated, training=True)
        shape = (-1, self.categorical_codes, self.code_size)
        cross_entropy = keras.losses.categorical_crossentropy(
            ops.reshape(onehot, shape), ops.reshape(logits, shape), from_logits=True
        )  # [n, F]
        categorical = ops.mean(ops.sum(cross_entropy, axis=1))
        squared = 0.0
        if self.num_continuous:
            squared = 0.5 * ops.mean(ops.sum(ops.square(predicted - continuous), axis=1))
        return categorical, squared

    def _information_loss(self, latents, generated):
        """The negative lower bound of I(codes; G(z)) (up to constants)."""
        categorical, squared = self._information_terms(latents, generated)
        return categorical + squared

    def _discriminator_variables(self):
        return self.discriminator.trainable_variables + self.q_head.trainable_variables

    def _extra_discriminator_loss(self, real, latents, generated):
        categorical, squared = self._information_terms(latents, generated)
        category_weight = self.sample_category_weight
        if category_weight is None:
            category_weight = self.info_weight
        loss = category_weight * categorical + self.info_weight * squared
        if self.im_weight or self.consistency_weight or self.vat_weight:
            loss = loss + self._real_data_loss(real)
        return loss

    def _real_data_loss(self, real):
        """The information-maximization and self-augmentation terms on real samples.

        Information maximization: the mean entropy of q(c|x) minus `im_balance` times the
        entropy of its batch mean (minus a batch estimate of the mutual information between
        the samples and Q's category when `im_balance` is 1). Self-augmentation: the mean
        KL divergence of q(c|affine(x)) from q(c|x), the latter held fixed (averaged over
        `consistency_views` copies); virtual
        adversarial: the same with q(c|x + r_adv) (`_adversarial_direction`). Summed over the
        categorical heads (or codes); with several heads, each head's terms also move its
        average in `head_losses`.
        """
        logits = self._q_outputs(real, training=True)[0]  # [n, G, K]
        log_probabilities = ops.log_softmax(logits, axis=-1)
        probabilities = ops.exp(log_probabilities)
        losses = ops.zeros((self._category_groups,))
        if self.im_weight:
            conditional = -ops.mean(ops.sum(probabilities * log_probabilities, axis=-1), axis=0)
            marginal = ops.mean(probabilities, axis=0)  # [H, K]
            marginal_entropy = -ops.sum(marginal * ops.log(marginal + 1e-8), axis=-1)
            losses = losses + self.im_weight * (conditional - self.im_balance * marginal_entropy)
        if self.consistency_weight:
            seed = distribute.replica_seed_generator(self.seed_generator)
            weight = self.consistency_weight / self.consistency_views
            for _ in range(self.consistency_views):
                views = augment.affine(real, seed=seed)
                view_log_probabilities = ops.log_softmax(
                    self._q_outputs(views, training=True)[0], axis=-1
                )
                losses = losses + weight * _divergence(log_probabilities, view_log_probabilities)
        if self.vat_weight:
            perturbation = self._adversarial_direction(real, log_probabilities)
            perturbed = ops.log_softmax(
                self._q_outputs(real + perturbation, training=True)[0], axis=-1
            )
            losses = losses + self.vat_weight * _divergence(log_probabilities, perturbed)
        if self.category_heads > 1:
            self.head_losses.assign(
                HEAD_LOSS_DECAY * self.head_losses
                + (1.0 - HEAD_LOSS_DECAY) * ops.stop_gradient(losses)
            )
        return ops.sum(losses)

    def _adversarial_direction(self, real, log_probabilities, step=0.01):
        """The perturbation of norm `vat_epsilon * sqrt(d)` per sample along which Q's
        categories change most: one power iteration from a random direction (the gradient of
        the divergence after a step of `step` times that norm along it), held fixed."""
        axes = tuple(range(1, len(real.shape)))
        size = self.vat_epsilon * math.prod(real.shape[1:]) ** 0.5

        def unit(v):
            return v / (ops.sqrt(ops.sum(ops.square(v), axis=axes, keepdims=True)) + 1e-12)

        seed = distribute.replica_seed_generator(self.seed_generator)
        direction = step * size * unit(keras.random.normal(ops.shape(real), seed=seed))
        with tf.GradientTape() as tape:
            tape.watch(direction)
            moved = ops.log_softmax(
                self._q_outputs(ops.stop_gradient(real) + direction, training=True)[0], axis=-1
            )
            divergence = ops.sum(_divergence(log_probabilities, moved))
        gradient = tape.gradient(divergence, direction)
        return ops.stop_gradient(size * unit(gradient))

    def _extra_generator_losses(self, latents, fake):
        return {"info_loss": (self.info_weight, self._information_loss(latents, fake))}


def _divergence(log_target, log_view):
    """KL(target || view) of categorical distributions `[n, H, K]` given as log-probabilities,
    the target held fixed; the mean over samples, one value per head `[H]`."""
    target = ops.stop_gradient(log_target)
    return ops.mean(ops.sum(ops.exp(target) * (target - log_view), axis=-1), axis=0)
