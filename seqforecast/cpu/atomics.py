"""Atomic operations on int64 arrays, and the spins of :mod:`seqforecast.threads`.

The threads that run the blocks of a batch (:func:`seqforecast.threads.run_row_blocks`)
hand work over through shared memory instead of locks and condition
variables: waking a sleeping thread took 80-170 us on the 2-core development
VM (a kernel per step of 0.1-0.5 ms), while a thread that spins on a word
sees a change within a microsecond.  The spins are Numba functions that
release the GIL, so a spinning thread does not hold up the Python threads.

A hand-over uses two arrays:

* ``published``, of shape (1,): the generation of the newest work, which
  the workers spin on;
* ``slots``, one per block of that work: ``4 * generation + state``, the
  state :data:`FREE`, :data:`WORKER` (a worker claimed it and runs it),
  :data:`DONE` (a worker ran it) or :data:`CALLER` (the calling thread took
  it, to run or to skip).  A thread claims a block with a compare-and-swap
  from :data:`FREE`, so every block has one owner; the generation in the
  slot keeps a late thread from claiming a block of newer work.  The caller
  waits for the blocks in the workers' hands only, whatever happened to its
  own (an exception, an interrupt between two statements).
"""
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

#: The states of a block's slot.
FREE, WORKER, DONE, CALLER = 0, 1, 2, 3

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
def _swap_if(typingctx, array, index, expected, value):
    """``array[index] = value`` if it holds ``expected`` (compare-and-swap); whether it did."""
    def codegen(context, builder, signature, args):
        pair = builder.cmpxchg(_pointer(context, builder, signature, args), args[2], args[3],
                               "acq_rel", "acquire")
        return builder.extract_value(pair, 1)
    return types.boolean(array, index, expected, value), codegen


@njit(cache=True)  # keeps the GIL: the caller goes on to its first block without a wait
def publish(published, slots, generation, blocks):
    """Start the work of ``generation``: block 0 the caller's, the others free.

    Parameters
    ----------
    published : ndarray of shape (1,), int64
    slots : ndarray of shape (>= blocks,), int64
    generation : int
        Larger than every earlier generation of ``published``.
    blocks : int
        The work's blocks.
    """
    _store(slots, 0, 4 * generation + CALLER)
    for block in range(1, blocks):
        _store(slots, block, 4 * generation + FREE)
    _store(published, 0, generation)


@njit(**_JIT)
def claim(slots, generation, blocks, owner):
    """Claim a free block of the work of ``generation`` for ``owner``.

    Parameters
    ----------
    slots : ndarray of shape (>= blocks,), int64
    generation, blocks : int
        The work, as published.
    owner : {WORKER, CALLER}

    Returns
    -------
    int
        The block, or -1 when none is free (all claimed, or newer work published).
    """
    for block in range(blocks):
        if _swap_if(slots, block, 4 * generation + FREE, 4 * generation + owner):
            return block
    return -1


@njit(**_JIT)
def wait_for_work(published, generation, spins):
    """Spin until work newer than ``generation`` is published, for at most ``spins`` reads.

    Parameters
    ----------
    published : ndarray of shape (1,), int64
    generation : int
    spins : int

    Returns
    -------
    int
        The generation last read (``generation`` if none came).
    """
    value = _load(published, 0)
    for _ in range(spins):
        if value != generation:
            break
        value = _load(published, 0)
    return value


@njit(**_JIT)
def finish_and_claim(published, slots, generation, done, blocks, spins):
    """A worker's block ``done`` finished; claim another free block, else wait for work.

    One call, so that a worker does not take the GIL between finishing its
    block and waiting (the caller, which waits for it, would then wait for the
    GIL too, and a thread that waits for the GIL sleeps).

    Parameters
    ----------
    published : ndarray of shape (1,), int64
    slots : ndarray of shape (>= blocks,), int64
    generation, blocks : int
        The work, as published.
    done : int
        The block the worker finished.
    spins : int
        Reads of ``published`` at most, waiting for newer work.

    Returns
    -------
    block : int
        The block claimed, or -1.
    generation : int
        The work's generation with a block, else the generation last read.
    """
    _store(slots, done, 4 * generation + DONE)
    block = claim(slots, generation, blocks, WORKER)
    if block >= 0:
        return block, generation
    return -1, wait_for_work(published, generation, spins)


@njit(**_JIT)
def wait_for_workers(slots, generation, blocks, spins):
    """Spin, for at most ``spins`` reads, until no block of the work is in a worker's hands.

    Parameters
    ----------
    slots : ndarray of shape (>= blocks,), int64
    generation, blocks : int
        The work, as published.
    spins : int

    Returns
    -------
    bool
        Whether none is.
    """
    running = 4 * generation + WORKER
    for _ in range(spins):
        busy = False
        for block in range(blocks):
            if _load(slots, block) == running:
                busy = True
                break
        if not busy:
            return True
    return False


@njit(**_JIT)
def pause(word, spins):
    """Read ``word[0]`` ``spins`` times: a wait of a few microseconds without the GIL.

    Parameters
    ----------
    word : ndarray of shape (>= 1,), int64
    spins : int

    Returns
    -------
    int
        How many of the reads were odd (a result, so that the loop is not compiled away).
    """
    total = 0
    for _ in range(spins):
        total += _load(word, 0) & 1
    return total
