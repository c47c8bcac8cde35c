"""Fine-tuning helpers: freeze conv blocks, move weights onto a new output layer.

They rely on the layer names the builders give: ``conv{b}_{i}`` and
``bn{b}_{i}`` for block ``b``, and :data:`OUTPUT_LAYER` for the softmax.
"""

from ._dcnn import OUTPUT_LAYER


def _block_of(name):
    """Block number of a ``conv{b}_{i}`` / ``bn{b}_{i}`` layer name, else None."""
    for prefix in ("conv", "bn"):
        head, sep, tail = name.partition("_")
        if head.startswith(prefix) and head[len(prefix):].isdigit() and sep and tail.isdigit():
            return int(head[len(prefix):])
    return None


def conv_blocks(model):
    """Number of conv blocks of a model built by skfer's builders.

    Examples
    --------
    >>> from skfer.models import build_dcnn
    >>> from skfer.models._fine_tune import conv_blocks
    >>> conv_blocks(build_dcnn())
    3
    """
    return max((_block_of(layer.name) or 0) for layer in model.layers)


def freeze_blocks(model, n_blocks):
    """Freeze the conv and BatchNorm layers of the first ``n_blocks`` blocks; train the rest.

    Parameters
    ----------
    model : keras.Model
        A model built by skfer's builders.
    n_blocks : int
        Blocks to freeze, from the input, at most :func:`conv_blocks`.

    Returns
    -------
    bool
        Whether any layer's ``trainable`` changed (the model must then be
        compiled again).

    Raises
    ------
    ValueError
        If ``n_blocks`` exceeds the model's number of blocks.

    Examples
    --------
    >>> from skfer.models import build_dcnn
    >>> from skfer.models._fine_tune import freeze_blocks
    >>> model = build_dcnn()
    >>> freeze_blocks(model, 1), model.get_layer("conv1_1").trainable, model.get_layer("conv2_1").trainable
    (True, False, True)
    """
    available = conv_blocks(model)
    if n_blocks > available:
        raise ValueError(
            f"freeze_blocks={n_blocks} exceeds the network's {available} conv blocks."
        )
    changed = False
    for layer in model.layers:
        block = _block_of(layer.name)
        if block is not None:
            trainable = block > n_blocks
            changed |= layer.trainable != trainable
            layer.trainable = trainable
    return changed


def transfer_body(source, target, *, output_units=None):
    """Copy every layer's weights from ``source`` to ``target``; the output layer's only with ``output_units``.

    Layers are matched by name; layers without weights (augmentation,
    dropout) need no match, so ``target`` may augment differently.
    ``output_units`` lists, for each output unit of ``target``, the unit of
    ``source`` it takes (the same classes or some of them, perhaps in
    another order, as when labels change from integers to emotion names); None leaves the
    output layer as ``target`` has it.

    Raises
    ------
    ValueError
        If a layer with weights is missing from either network or its
        weights differ in shape: the parameters that shape the weights
        (filters, kernel sizes, dense units, ...) differ.

    Examples
    --------
    >>> import numpy as np
    >>> from skfer.models import build_dcnn
    >>> from skfer.models._fine_tune import transfer_body
    >>> old, new = build_dcnn(7), build_dcnn(3)
    >>> transfer_body(old, new)
    >>> bool(np.array_equal(old.get_layer("conv1_1").get_weights()[0], new.get_layer("conv1_1").get_weights()[0]))
    True
    >>> again = build_dcnn(7)
    >>> transfer_body(old, again, output_units=[6, 5, 4, 3, 2, 1, 0])
    >>> bool(np.array_equal(old.get_layer("emotion").get_weights()[1][::-1], again.get_layer("emotion").get_weights()[1]))
    True
    """
    with_output = output_units is not None

    def weighted(model):
        return {layer.name: layer for layer in model.layers
                if layer.weights and (with_output or layer.name != OUTPUT_LAYER)}

    sources, targets = weighted(source), weighted(target)
    if set(sources) != set(targets):
        raise ValueError(
            f"The new network's layers with weights differ from the fitted one's: only in the fitted one "
            f"{sorted(set(sources) - set(targets))}, only in the new one {sorted(set(targets) - set(sources))}."
        )
    for name, layer in targets.items():
        weights = sources[name].get_weights()
        if name == OUTPUT_LAYER:
            weights = [w[..., list(output_units)] for w in weights]
        had, has = [w.shape for w in weights], [tuple(w.shape) for w in layer.weights]
        if had != has:
            raise ValueError(f"Layer {name!r} has weights of shapes {has} in the new network, {had} in the fitted one.")
        layer.set_weights(weights)
