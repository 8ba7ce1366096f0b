"""Atomic operations on an int64 array, and the spins of :mod:`seqforecast.threads`.

The threads that run the blocks of a batch (:func:`seqforecast.threads.run_row_blocks`)
hand work over through two int64 words of shared memory instead of locks and
condition variables: waking a sleeping thread took 80-170 us on the 2-core
development VM (a kernel per step of 0.1-0.5 ms), while a thread that spins
on a word sees a change within a microsecond.  The spins are Numba functions
that release the GIL, so a spinning thread does not hold up the Python threads.

The words of a hand-over (:data:`CLAIM`, :data:`DONE`):

* ``word[CLAIM]``: the generation of the current work in the high 32 bits and
  the number of its blocks claimed so far in the low 32 bits; a thread
  claims a block by raising the count with a compare-and-swap
  (:func:`claim`), so every block runs once, whichever thread gets there.
* ``word[DONE]``: how many blocks of the current work have finished.
"""
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

#: The index of the generation-and-claims word, and of the count of finished blocks.
CLAIM, DONE = 0, 1
_LOW = (1 << 32) - 1

_JIT = dict(cache=True, nogil=True)


def _pointer(context, builder, signature, args):
    """The LLVM pointer to ``array[index]`` for an intrinsic's first two arguments."""
    array_type = signature.args[0]
    array = context.make_array(array_type)(context, builder, args[0])
    return cgutils.get_item_pointer(context, builder, array_type, array, [args[1]])


@intrinsic
def _load(typingctx, array, index):
    """``array[index]``, an atomic load with acquire ordering."""
    def codegen(context, builder, signature, args):
        return builder.load_atomic(_pointer(context, builder, signature, args), "acquire", 8)
    return types.int64(array, index), codegen


@intrinsic
def _store(typingctx, array, index, value):
    """``array[index] = value``, an atomic store with release ordering."""
    def codegen(context, builder, signature, args):
        builder.store_atomic(args[2], _pointer(context, builder, signature, args), "release", 8)
        return context.get_dummy_value()
    return types.void(array, index, value), codegen


@intrinsic
def _add(typingctx, array, index, value):
    """``array[index] += value`` atomically; returns the value before."""
    def codegen(context, builder, signature, args):
        return builder.atomic_rmw("add", _pointer(context, builder, signature, args), args[2],
                                  "acq_rel")
    return types.int64(array, index, value), codegen


@intrinsic
def _swap_if(typingctx, array, index, expected, value):
    """``array[index] = value`` if it holds ``expected`` (compare-and-swap); whether it did."""
    def codegen(context, builder, signature, args):
        pair = builder.cmpxchg(_pointer(context, builder, signature, args), args[2], args[3],
                               "acq_rel", "acquire")
        return builder.extract_value(pair, 1)
    return types.boolean(array, index, expected, value), codegen


@njit(cache=True)  # keeps the GIL: the caller goes on to its first block without a wait
def publish(word, generation, claimed):
    """Start the work of ``generation``: no block finished, the first ``claimed`` taken.

    Parameters
    ----------
    word : ndarray of shape (2,), int64
    generation : int
        Larger than every earlier generation of ``word`` (at most 2**31).
    claimed : int
        Blocks the caller keeps for itself (0 .. claimed-1).
    """
    _store(word, DONE, 0)
    _store(word, CLAIM, (generation << 32) | claimed)


@njit(**_JIT)
def claim(word, generation, blocks):
    """Claim the next block of the work of ``generation``.

    Returns
    -------
    int
        The block's index, or -1 when all ``blocks`` are claimed or other work
        has been published since.
    """
    while True:
        value = _load(word, CLAIM)
        if value >> 32 != generation or value & _LOW >= blocks:
            return -1
        if _swap_if(word, CLAIM, value, value + 1):
            return value & _LOW


@njit(**_JIT)
def finish(word):
    """Count one block of the current work as finished."""
    _add(word, DONE, 1)


@njit(**_JIT)
def wait_for_work(word, generation, spins):
    """Spin until work newer than ``generation`` is published, for at most ``spins`` reads.

    Returns
    -------
    int
        The generation last read (``generation`` if none came).
    """
    value = _load(word, CLAIM) >> 32
    for _ in range(spins):
        if value != generation:
            break
        value = _load(word, CLAIM) >> 32
    return value


@njit(**_JIT)
def finish_and_claim(word, generation, blocks, spins):
    """:func:`finish` a block, then :func:`claim` another, else :func:`wait_for_work`.

    One call, so that a worker does not take the GIL between finishing its
    block and waiting (the caller, which waits for the count, would then wait
    for the GIL too, and a thread that waits for the GIL sleeps).

    Returns
    -------
    block : int
        The block claimed, or -1.
    generation : int
        With no block: the generation last read.
    """
    _add(word, DONE, 1)
    block = claim(word, generation, blocks)
    if block >= 0:
        return block, generation
    return -1, wait_for_work(word, generation, spins)


@njit(**_JIT)
def wait_for_blocks(word, blocks, spins):
    """Spin until ``blocks`` blocks are finished, for at most ``spins`` reads; whether they are."""
    for _ in range(spins):
        if _load(word, DONE) >= blocks:
            return True
    return _load(word, DONE) >= blocks


@njit(**_JIT)
def pause(word, spins):
    """Read ``word`` ``spins`` times: a wait of a few microseconds without the GIL."""
    total = 0
    for _ in range(spins):
        total += _load(word, CLAIM) & 1
    return total
