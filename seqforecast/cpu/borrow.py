"""Views that a kernel uses without counting references.

Numba counts the references to an array's memory: every view a kernel takes
(``h[t, first:stop]``, a gate's block of a step) calls ``NRT_incref`` when
it is made and ``NRT_decref`` when it is dropped, calls the compiler does
not inline, each an atomic read-modify-write of the array's counter.  A
recurrence takes dozens of views per step: for one window (GRU, hidden 16,
48 steps) they took half of the forward pass, 0.24 of 0.49 us per step.

:func:`borrow` gives a kernel its arguments as views without an owner
(Numba's ``meminfo`` null, as for memory Numba does not manage): the views
taken from them skip the counting (``NRT_incref`` and ``NRT_decref`` return
at once on a null owner).  The caller's arrays keep the memory alive for
the kernel's call, and so:

* borrow only the kernel's own arguments, never an array the kernel
  allocates (Numba frees that once its last owned reference is gone, while
  borrowed views of it may still be in use);
* return or store nothing derived from a borrowed array: it would reach
  Python as an array that does not keep its memory alive.
"""
from numba import types
from numba.core import cgutils
from numba.core.errors import TypingError
from numba.extending import intrinsic


@intrinsic
def borrow(typingctx, value):
    """The arrays in ``value`` as views of the same memory that count no references.

    Parameters
    ----------
    value : array, number, bool, or (named) tuple of them, nested at will
        A kernel's arguments, e.g. ``(x, params, states)``.

    Returns
    -------
    same type as ``value``
        Every array replaced by a view without an owner; numbers as they are.
    """
    if not _borrowable(value):
        raise TypingError(f"borrow takes arrays, numbers and tuples of them, got {value}")

    def codegen(context, builder, signature, args):
        return _unowned(context, builder, signature.args[0], args[0])

    return value(value), codegen


def _borrowable(typ):
    """Whether the Numba type ``typ`` is made of arrays, numbers and tuples of them only."""
    if isinstance(typ, types.BaseTuple):
        return all(_borrowable(item) for item in typ)
    return isinstance(typ, (types.Array, types.Number, types.Boolean))


def _unowned(context, builder, typ, value):
    """The LLVM value of ``value`` (of Numba type ``typ``) with its arrays' owners null."""
    if isinstance(typ, types.Array):
        array = context.make_array(typ)(context, builder, value=value)
        array.meminfo = cgutils.get_null_value(array.meminfo.type)
        array.parent = cgutils.get_null_value(array.parent.type)
        return array._getvalue()
    if isinstance(typ, types.BaseTuple):
        items = [_unowned(context, builder, item, builder.extract_value(value, index))
                 for index, item in enumerate(typ)]
        return context.make_tuple(builder, typ, items)
    return value
