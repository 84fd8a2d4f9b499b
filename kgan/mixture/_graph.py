"""The traced (and XLA-compiled) functions that `GaussianMixture` runs."""

import functools
import types

import numpy as np
import tensorflow as tf

from kgan.mixture import em

# XLA fuses the per-chunk element-wise work around the matmuls: about 2x faster EM
# iterations on CPU than the plain graph (measured with benchmarks/gmm_em.py --compare-xla),
# but it compiles once per data shape (a second or more), which most fits, converging in a few
# iterations, never earn back. So "auto" runs the first XLA_AFTER iterations as the plain graph
# and compiles only a run still going after them, when max_iter passes over the data (or over
# one streamed batch) cost more than XLA_MIN_WORK multiply-adds; a shape XLA has already
# compiled in this process runs compiled from the start. True or False forces it.
JIT_COMPILE = "auto"
XLA_MIN_WORK = 2**30
XLA_AFTER = 8
_XLA_COMPILED = set()


def use_xla(num_samples, num_components, num_features, max_iter):
    """Whether EM over data of this size may run XLA-compiled (see `JIT_COMPILE`)."""
    if JIT_COMPILE != "auto":
        return bool(JIT_COMPILE)
    work = num_samples * num_components * num_features * num_features * max_iter
    return work >= XLA_MIN_WORK


def stages(key, num_samples, num_components, num_features, max_iter):
    """`[(jit_compile, until_iteration), ...]`: how one in-memory EM run is split between the
    plain graph and XLA (see `JIT_COMPILE`); `key` names the compiled shape."""
    xla = use_xla(num_samples, num_components, num_features, max_iter)
    if JIT_COMPILE != "auto" or not xla:
        return [(xla, max_iter)]
    if key in _XLA_COMPILED or max_iter <= XLA_AFTER:
        return [(key in _XLA_COMPILED, max_iter)]
    return [(False, XLA_AFTER), (True, max_iter)]


def compiled_with_xla(key):
    """Records that XLA compiled EM for the shape `key` in this process."""
    _XLA_COMPILED.add(key)


def history_buffer(max_iter, dtype):
    """A zero `[max_iter]` buffer for the lower bounds; `max_iter` is rounded up to a power of
    two so that XLA compiles for few lengths (the loop stops at `max_iter` all the same)."""
    return tf.zeros([1 << max(max_iter - 1, 0).bit_length()], dtype)


@functools.cache
def compiled(covariance_type, dtype):
    """The traced functions for one covariance type and dtype (one trace cache each).

    `em_run` and `batch_statistics` come in two versions, keyed by `jit_compile`. The EM code
    writes its loops as `tf.while_loop` itself, so the functions trace without AutoGraph,
    whose source conversion was most of a first fit's tracing time.
    """

    def em_run(x, params, center, history, start, max_iter, tol, reg_covar, bound):
        chunks, mask = em.chunk(x)
        return em.em_iterations(
            chunks, mask, params, center, covariance_type, history, max_iter, tol, reg_covar,
            bound, start=start,
        )  # fmt: skip

    def batch_statistics(x, mask, params, center):
        chunks, mask = em.chunk(x, mask, chunk_size=min(x.shape[0], em.CHUNK_SIZE))
        return em.accumulate_statistics(chunks, mask, params, covariance_type, center)

    @tf.function(reduce_retracing=True, autograph=False)
    def m_step(stats, params, center, reg_covar):
        return em.m_step(stats, params, covariance_type, reg_covar, center)

    @tf.function(reduce_retracing=True, autograph=False)
    def weighted_log_prob(x, params, center):
        return em.weighted_log_prob(x, params, covariance_type, center)

    return types.SimpleNamespace(
        em_run={
            jit: tf.function(em_run, reduce_retracing=True, jit_compile=jit, autograph=False)
            for jit in (False, True)
        },
        # one trace per bucket of batch sizes
        batch_statistics={
            jit: tf.function(batch_statistics, jit_compile=jit, autograph=False)
            for jit in (False, True)
        },
        m_step=m_step,
        weighted_log_prob=weighted_log_prob,
    )


def bucket(batch):
    """`(rows, mask)`: the batch zero-padded to a power of two of rows up to the chunk size, or
    to a multiple of it, so that XLA compiles for a few shapes whatever the batch sizes."""
    n = len(batch)
    size = (
        em.CHUNK_SIZE * -(-n // em.CHUNK_SIZE) if n > em.CHUNK_SIZE else 1 << (n - 1).bit_length()
    )
    padded = np.zeros((size, batch.shape[1]), batch.dtype)
    padded[:n] = batch
    mask = np.zeros(size, batch.dtype)
    mask[:n] = 1
    return padded, mask
