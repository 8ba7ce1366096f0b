"""Views that a kernel uses without counting references: no atomic operations per slice.

Numba counts the references to an array's memory: every view a kernel takes
(``h[t, first:stop]``, a gate's block of a step) adds one, with an atomic
increment, and drops it with an atomic decrement, on a counter that the
threads running blocks of the same arrays share.  A recurrence takes dozens
of views per step: for one window (GRU, hidden 16, 48 steps) they took half
of the forward pass, 0.24 of 0.49 us per step.

:func:`borrow` gives a kernel its arguments as views without an owner
(Numba's ``meminfo`` set to null, as for memory Numba does not manage): the
views taken from them count nothing.  They are valid while the arrays they
view are alive, that is during the call of a kernel that received those
arrays, and must not outlive it (not be returned or stored).
"""
from numba import types
from numba.core import cgutils
from numba.core.errors import TypingError
from numba.extending import intrinsic


@intrinsic
def borrow(typingctx, value):
    """``value`` with every array in it (an array, or a tuple or named tuple of arrays and
    numbers) replaced by a view of the same memory that counts no references."""
    if not _borrowable(value):
        raise TypingError(f"borrow takes arrays, numbers and tuples of them, got {value}")

    def codegen(context, builder, signature, args):
        return _unowned(context, builder, signature.args[0], args[0])

    return value(value), codegen


def _borrowable(typ):
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
