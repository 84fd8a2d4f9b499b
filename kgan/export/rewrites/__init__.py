"""Exact graph rewrites that `kgan.export.tflite` traces a model through, for fewer and faster
LiteRT ops: transposed convolutions as sub-pixel convolutions (`subpixel`), and layers without
their run-time shape and index bookkeeping, conditional projections as class tables and
single-filter convolutions as depthwise sums (`lean`). Both use the public graph helpers of
`graph`. Every rewrite gives the same outputs up to float32 rounding, and restores the layers
when its block ends.
"""

from kgan.export.rewrites.graph import patched_calls
from kgan.export.rewrites.lean import lean_layers
from kgan.export.rewrites.subpixel import is_rewritable, subpixel_transposed_convolutions

__all__ = ["is_rewritable", "lean_layers", "patched_calls", "subpixel_transposed_convolutions"]
