"""DCGAN-style generator and discriminator for images whose sides divide by 4.

After Radford et al. 2016: a dense projection to a `side/4` feature map, two stride-2
transposed convolutions with batch normalization and ReLU, and a tanh output; the discriminator
mirrors it with stride-2 convolutions and LeakyReLU(0.2). Class conditioning enters the generator
as a label embedding concatenated to the latents and the discriminator as a projection head
(Miyato & Koyama 2018).
"""

import keras
from keras import layers

from kgan.networks.common import (
    check_num_classes,
    concat_label_embedding,
    label_input,
    maybe_spectral_norm,
    projection,
)


def _check_image_shape(image_shape):
    shape = tuple(image_shape)
    if (
        len(shape) != 3
        or not isinstance(shape[2], int)
        or shape[2] <= 0
        or any((not isinstance(s, int)) or s <= 0 or s % 4 for s in shape[:2])
    ):
        raise ValueError(
            "image_shape must be (height, width, channels) with height and width divisible by 4 "
            f"and channels >= 1, e.g. (28, 28, 1) or (32, 32, 3); got {image_shape!r}"
        )
    return shape


def dcgan_generator(
    image_shape=(28, 28, 1),
    latent_dim=128,
    num_classes=None,
    width=64,
    embedding_dim=32,
    upsampling="transpose",
    synchronized_batch_norm=False,
    name="generator",
):
    """Builds a DCGAN-style generator from latents (and labels) to images in [-1, 1].

    Args:
        image_shape: `(height, width, channels)`; sides divisible by 4.
        latent_dim: size of the latent vector.
        num_classes: number of classes for a conditional generator, or None.
        width: channels of the last hidden feature map; the `side/4` map has `2 * width`.
        embedding_dim: size of the label embedding concatenated to the latents.
        upsampling: how each stage doubles the map: `"transpose"` (a stride-2 4x4
            `Conv2DTranspose`, DCGAN's choice) or `"resize"` (bilinear `UpSampling2D` and a
            3x3 `Conv2D`: no checkerboard artifacts, and static shapes and plain convolutions
            for the TFLite converter; nearest-neighbour upsampling is Keras's `repeat`, whose
            dynamic shapes TFLite cannot convert).
        synchronized_batch_norm: under a `tf.distribute` strategy with several replicas,
            compute the batch normalization statistics over the global batch (all-reduced)
            instead of each replica's share of it, so that training matches one device on the
            global batch. It costs an all-reduce per layer and call, and the trainers then run
            the step without XLA under a strategy; it changes nothing on one device.
        name: the model's name.

    Returns:
        A functional `keras.Model` taking `latents` `[batch, latent_dim]` (and `labels` `[batch]`
        int32 when conditional) and returning images `[batch, *image_shape]`.

    Example:
        >>> g = kgan.networks.dcgan_generator((28, 28, 1), latent_dim=64, num_classes=10)
        >>> g([np.zeros((2, 64)), np.array([3, 7])]).shape
        TensorShape([2, 28, 28, 1])
    """
    height, image_width, channels = _check_image_shape(image_shape)
    check_num_classes(num_classes)
    if latent_dim <= 0 or width < 2:
        raise ValueError(f"latent_dim must be > 0 and width >= 2; got {latent_dim}, {width}")
    if upsampling not in ("transpose", "resize"):
        raise ValueError(f"upsampling must be 'transpose' or 'resize'; got {upsampling!r}")
    latents = keras.Input(shape=(latent_dim,), name="latents")
    inputs = [latents]
    x = latents
    if num_classes is not None:
        labels = label_input()
        inputs.append(labels)
        x = concat_label_embedding(latents, labels, num_classes, embedding_dim, name)
    h, w = height // 4, image_width // 4
    x = layers.Dense(h * w * 2 * width, use_bias=False, name="project")(x)
    x = layers.BatchNormalization(synchronized=synchronized_batch_norm, name="project_bn")(x)
    x = layers.ReLU(name="project_relu")(x)
    x = layers.Reshape((h, w, 2 * width), name="to_map")(x)  # [batch, h/4, w/4, 2 width]
    for i, filters in enumerate((width, max(width // 2, 1))):
        if upsampling == "transpose":
            x = layers.Conv2DTranspose(
                filters, 4, strides=2, padding="same", use_bias=False, name=f"up{i + 1}"
            )(x)
        else:
            x = layers.UpSampling2D(2, interpolation="bilinear", name=f"up{i + 1}_resize")(x)
            x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"up{i + 1}")(x)
        x = layers.BatchNormalization(synchronized=synchronized_batch_norm, name=f"up{i + 1}_bn")(x)
        x = layers.ReLU(name=f"up{i + 1}_relu")(x)
    x = layers.Conv2D(channels, 3, padding="same", name="to_image")(x)
    images = layers.Activation("tanh", dtype="float32", name="images")(x)
    return keras.Model(inputs if len(inputs) > 1 else latents, images, name=name)


def dcgan_discriminator(
    image_shape=(28, 28, 1),
    num_classes=None,
    width=64,
    spectral_norm=False,
    dropout=0.0,
    name="discriminator",
):
    """Builds a DCGAN-style discriminator returning one logit per image.

    Args:
        image_shape: `(height, width, channels)`; sides divisible by 4.
        num_classes: number of classes for a projection discriminator, or None.
        width: channels of the first convolution; the second has `2 * width`.
        spectral_norm: wrap every convolution and dense layer in
            `keras.layers.SpectralNormalization`.
        dropout: dropout rate on the features before the head (0 disables it).
        name: the model's name.

    Returns:
        A functional `keras.Model` taking `images` (and `labels` `[batch]` int32 when
        conditional) and returning logits `[batch, 1]`.

    Example:
        >>> d = kgan.networks.dcgan_discriminator((28, 28, 1), num_classes=10)
        >>> d([np.zeros((2, 28, 28, 1)), np.array([3, 7])]).shape
        TensorShape([2, 1])
    """
    shape = _check_image_shape(image_shape)
    check_num_classes(num_classes)
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1); got {dropout}")
    images = keras.Input(shape=shape, name="images")
    inputs = [images]
    labels = None
    if num_classes is not None:
        labels = label_input()
        inputs.append(labels)
    x = images
    for i, filters in enumerate((width, 2 * width)):
        conv = layers.Conv2D(filters, 4, strides=2, padding="same", name=f"down{i + 1}")
        x = maybe_spectral_norm(conv, spectral_norm)(x)
        x = layers.LeakyReLU(0.2, name=f"down{i + 1}_lrelu")(x)
    features = layers.Flatten(name="features")(x)  # [batch, h/4 * w/4 * 2 width]
    if dropout:
        features = layers.Dropout(dropout, name="features_dropout")(features)
    logits = projection(features, labels, num_classes, spectral_norm, "head")
    logits = layers.Activation("linear", dtype="float32", name="logits")(logits)
    return keras.Model(inputs if len(inputs) > 1 else images, logits, name=name)
