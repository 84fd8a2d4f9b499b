"""The discriminator layer whose features measure the VAE-GAN's reconstructions."""

import keras

# Layers that pass features through unchanged at inference; the default feature layer is taken
# before them.
_PASS_THROUGH = (keras.layers.Dropout, keras.layers.GaussianNoise, keras.layers.GaussianDropout)


def _producer(tensor):
    return tensor._keras_history.operation


def output_layer(network):
    """The layer that produces `network`'s (first) output."""
    return _producer(network.outputs[0])


def default_feature_layer(discriminator):
    """The name of the last hidden layer: the input of the logit head, before any dropout."""
    layer = output_layer(discriminator)
    # Weightless output layers (a linear Activation casting the logits) lead back to the head.
    while not layer.weights and not isinstance(layer, keras.layers.InputLayer):
        layer = _producer(layer._inbound_nodes[0].input_tensors[0])
    if not isinstance(layer, keras.layers.InputLayer):
        layer = _producer(layer._inbound_nodes[0].input_tensors[0])
    while isinstance(layer, _PASS_THROUGH):
        layer = _producer(layer._inbound_nodes[0].input_tensors[0])
    if isinstance(layer, keras.layers.InputLayer):
        raise ValueError(
            "the discriminator has no hidden layer before its logit head to measure "
            "reconstructions in; pass feature_layer=<a layer name>"
        )
    return layer.name
