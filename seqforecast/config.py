"""The tunables of seqforecast's kernels, each with its default and what it trades off.

One place for every value chosen for speed or memory rather than by the
mathematics: the fastmath flags of the CPU kernels, their threads and
product blocks, the BLAS threads of training, the chunks ``predict`` works
in, and the tile, block and reduction sizes and strategy limits of the CUDA
kernels, which have a second set of defaults for Numba's CUDA simulator
(``NUMBA_ENABLE_CUDASIM=1`` runs every thread as a Python thread: small
blocks keep the tests fast and make test-sized problems span several
blocks).  Importing this module
imports no CUDA code.

A module that uses a value copies it when it is imported, and Numba
compiles it into the kernels as a constant (as STUMPY does with its
fastmath flags): change a value in this file, and the change takes effect
in a new Python process.  Assigning to an attribute of this module at run
time reaches only the modules imported after it (``import seqforecast``
imports the CPU kernels; the CUDA ones are imported on first use), so it is
no way to tune a running process.  The CPU kernels are also cached on disk
(``cache=True``), and Numba's cache notices changes to a kernel's own file
only (numba/numba#1833): after changing a CPU flag here, or a function that
a kernel calls from another file (``cpu/products.py``, the equations in
``cells/``), delete ``seqforecast/cpu/__pycache__``.
"""
import os

from numba import config as _numba_config

# -- CPU kernels ---------------------------------------------------------------------------

#: Fastmath flags of the CPU kernels (:mod:`seqforecast.cpu`).  Default ``{"contract"}``:
#: fused multiply-adds (faster, and one rounding instead of two), and nothing else.
#:
#: * No reassociation: the order of the additions is the one written, which is what makes
#:   a row's product independent of the rest of its batch
#:   (:mod:`seqforecast.cpu.products`), and what makes a kernel compute the same bits
#:   wherever it is compiled.  Numba's cached object of a kernel that calls another holds
#:   its own copy of the callee, optimised again with the caller.  With 'reassoc' those
#:   copies were different code: the recurrences of a block of samples run through
#:   :func:`seqforecast.cpu.layer.forward_blocks` (Numba's threads) gave an LSTM's
#:   parameters different last bits in a process that loaded them from Numba's cache
#:   than in the one that compiled them.  The unit loops vectorise without reassociation
#:   (every unit is computed alone); dropping 'reassoc', 'nsz' and 'arcp' (2026-12-03)
#:   left the LSTM, GRU and RNN kernels' times within this VM's noise at hidden 16-128.
#: * No 'nnan'/'ninf': a NaN must stay visible to the caller.
CPU_FASTMATH = {"contract"}

#: Rows (samples of all steps) per block of the weight gradients' products
#: (:func:`seqforecast.cpu.products.matmul_tn`).  Default 64: with blocks of 64 rows an
#: LSTM layer's weight gradients (48 steps of 64 samples) took 1.1-1.45x less time than with
#: OpenBLAS on one thread at hidden 16-256 (AMD EPYC); without blocks (each block of the
#: output reading all rows) 1.2x more than with blocks of 64 at hidden 128, whose rows
#: leave the cache, and blocks of 256 rows 1.1x more.
TN_ROWS = 64
#: BLAS threads while the estimators train, see :mod:`seqforecast.threads` (whose
#: ``KERNEL_BLAS_THREADS``, read on every call, can also be set at run time).  The CPU
#: kernels make their own products; BLAS runs the small products of the output layer and
#: the least-squares start of the autoregressive path.  Default 1: spinning BLAS threads
#: slow small products down many times over when another process keeps a core busy;
#: :mod:`seqforecast.threads` has the measurements.
KERNEL_BLAS_THREADS = 1

#: Threads over which the CPU's recurrences split a batch's samples
#: (:func:`seqforecast.threads.run_blocks`, which reads this value on every call).
#: Default None: the ``NUMBA_NUM_THREADS`` environment variable as it is when a batch
#: runs (what :func:`seqforecast.threads.worker_environment` sets for a worker process,
#: which may set it after Numba was imported), else Numba's thread count (the CPUs).  1
#: runs every recurrence on the calling thread.  Results do not depend on it: each
#: sample is computed alone.
KERNEL_ROW_THREADS = None

#: Multiply-adds per step below which a block of samples (or of a layer's gates, for the
#: weight gradients) is not worth a thread of its own (a block of samples: its recurrent
#: products ``(rows, H) @ (H, H)`` per gate; a gate: its weight gradients' products
#: ``(H, B) @ (B, H + I)`` per step).  Default 2**14: the blocks run on Numba's threads,
#: whose launch cost about 2 us on the 2-core development VM (a thread of Python's pool,
#: used before 2026-12-03, 190-230 us, so that 2**18 was needed then).  With 2**14 a batch
#: of 64 windows is split in two from hidden 16 for the LSTM and the GRU and from hidden
#: 32 for the RNN; a single window never is.
ROW_BLOCK_WORK = 2 ** 14

#: Bytes of scratch memory ``predict`` works in at a time on the CPU
#: (:mod:`seqforecast.backends.cpu`, whose ``PREDICT_CHUNK`` is read on every call): a
#: chunk of sequences is copied contiguous and run through the forward pass, whose
#: states and gates (see :func:`seqforecast.network.forward_bytes`) dominate.
#: Default 8 MiB: predict's extra memory stays far below the size of any input large
#: enough to need chunks (0.04 times 100,000 windows of 168 steps and 4 features), while
#: a chunk still holds about 170 sequences for an LSTM of 32 units over 48 steps (50 kB
#: each): measured as fast as chunks of 4 to 64 MiB, and faster than the whole input at
#: once.  The estimators check the values of an input that is not C-contiguous (or is
#: long double) in blocks of this size.
PREDICT_CHUNK = 8 * 2 ** 20

#: Bytes of a ``predict`` call's arrays (its forward pass) that a network keeps for its
#: next call (:meth:`seqforecast.network.Network.predict`, which reads this value on
#: every call); larger ones are let go, as a
#: forward cache of many windows is large.  Default 1 MiB: a forecast of one window,
#: asked for again and again (each new reading), then allocates nothing; fresh arrays
#: cost about 0.1 ms of a 0.6 ms forecast (LSTM of 32 units, 168 steps) here.
PREDICT_KEEP = 2 ** 20

# -- CUDA kernels --------------------------------------------------------------------------

#: Which set of defaults the CUDA sizes below take: ``"production"``, or the small
#: ``"simulator"`` ones.  Default: ``"simulator"`` under ``NUMBA_ENABLE_CUDASIM=1``, else
#: ``"production"``; the environment variable ``SEQFORECAST_CUDA_SIZES`` picks one
#: whatever the simulator (the simulator tests run one case with the production sizes).
CUDA_SIZES = (os.environ.get("SEQFORECAST_CUDA_SIZES")
              or ("simulator" if _numba_config.ENABLE_CUDASIM else "production"))
if CUDA_SIZES not in ("production", "simulator"):
    raise ValueError(f"SEQFORECAST_CUDA_SIZES must be 'production' or 'simulator', "
                     f"got {CUDA_SIZES!r}")
_SIMULATOR = CUDA_SIZES == "simulator"

#: Output tile of the tiled matrix product: ``CUDA_TILE x CUDA_TILE`` outputs per block.
#: Default 64 (simulator 8).  Larger tiles load each operand value fewer times, but give
#: a small output fewer blocks (its inner dimension is then split over more blocks, and
#: the parts are added in a second pass).  A multiple of :data:`CUDA_MICRO`.
CUDA_TILE = 8 if _SIMULATOR else 64

#: Depth of the product's tiles: steps of the inner dimension loaded into shared memory
#: at a time.  Default 16 (also in the simulator).  Deeper tiles synchronise the block
#: less often, but take more shared memory (``2 * CUDA_TILE_K * CUDA_TILE`` values) and
#: waste more work on a short inner dimension.
CUDA_TILE_K = 16

#: Outputs per thread of the product, ``CUDA_MICRO x CUDA_MICRO``: a block has
#: ``(CUDA_TILE / CUDA_MICRO) ** 2`` threads.  Default 4 (simulator 2).  More outputs
#: per thread reuse each value read from shared memory more often, but take more
#: registers and leave fewer threads to hide the latency of the loads.
CUDA_MICRO = 2 if _SIMULATOR else 4

#: Threads per block of the 1-D kernels (element-wise, gathers, dropout masks,
#: optimizer updates) and of the one-dimensional reductions.  Default 256 (simulator
#: 16).  A power of two: the reductions halve it.  Larger blocks make fewer blocks and
#: reduction parts, but leave more threads idle in the last block of a small array.
CUDA_THREADS = 16 if _SIMULATOR else 256

#: Side of the square blocks of the 2-D kernels (transpose, the finishing pass of a
#: split product).  Default 16 (simulator 4).  Larger blocks read longer runs of a row,
#: but leave more threads idle at the edges of a small output.
CUDA_SIDE = 4 if _SIMULATOR else 16

#: Block of a column reduction: ``CUDA_REDUCE_COLS`` columns (consecutive threads read
#: consecutive addresses) by ``CUDA_REDUCE_ROWS`` rows of threads.  Default 32 by 8
#: (simulator 8 by 2).  More columns make wider reads; more rows add more of each
#: column at once, with a longer addition of the rows' parts at the end.
CUDA_REDUCE_COLS = 8 if _SIMULATOR else 32
#: See :data:`CUDA_REDUCE_COLS`.
CUDA_REDUCE_ROWS = 2 if _SIMULATOR else 8

#: Reductions (statistics of an array, mean of a loss) of up to this many values run in
#: one block, without a second pass.  Default ``2 ** 15`` (simulator 64).  One block
#: saves the second launch, but adds all the values on a single multiprocessor.
CUDA_ONE_BLOCK = 64 if _SIMULATOR else 1 << 15

#: Largest hidden size run by the persistent recurrent kernels (:mod:`seqforecast.cuda.
#: layer`, whose ``PERSISTENT_MAX_HIDDEN`` is read on every call); larger ones run
#: step-wise.  Default 512.  A persistent kernel runs all time steps in one launch, but
#: beyond shared memory reads its weights through the caches for every sample; the
#: step-wise products reuse each weight across 64 samples, at several launches a step.
#: On an H100 the persistent kernels were 5-10x faster at hidden 256 and faster in 6 of
#: 8 cases at 512 (``benchmarks/bench_cuda.py``).
CUDA_PERSISTENT_MAX_HIDDEN = 512

#: Threads per block that the automatic choice of samples per block of the recurrent
#: kernels aims at.  Default 256.  More samples per block share the weights a block
#: loads into shared memory, but take more of it for their states and make fewer blocks
#: to spread over the multiprocessors.  At most 1024 (threads per block).
CUDA_BLOCK_THREADS = 256

#: Samples per forward pass of a network's ``predict`` on a numpy input on the GPU
#: (:mod:`seqforecast.backends.cuda`).  Default 16384.  Larger chunks make fewer copies
#: and launches, but the cached gate values of a chunk take more device memory.
CUDA_PREDICT_CHUNK = 16384

#: Launch compiled CUDA kernels directly through ``cuda.core`` instead of numba-cuda's
#: general launch path (:class:`seqforecast.cuda.launch.Kernel`, read on every launch).
#: Default False: a prototype of it ran on an H200, this code has not (the environment
#: variable ``SEQFORECAST_CUDA_DIRECT_LAUNCH=1`` turns it on).  On the H200's host
#: numba-cuda's path took 27 us for a kernel of 2 arguments and 94 us for one of 15, the
#: prototype 8 and 18 us, with the same bits: at hidden sizes up to 64 these costs, not
#: the GPU, set the speed of a training step (about 20 launches).
CUDA_DIRECT_LAUNCH = os.environ.get("SEQFORECAST_CUDA_DIRECT_LAUNCH", "0") == "1"
