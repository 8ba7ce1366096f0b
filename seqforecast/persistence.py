"""Model files: :func:`save` a fitted estimator or forecaster, :func:`load` it back.

A model file is a zip archive (NumPy's ``.npz`` layout) of

* ``header.json``: the format (``"format": "seqforecast-model"``, its
  ``format_version``, the seqforecast, NumPy, pandas and scikit-learn
  versions that wrote it), the class of the saved object and its state:
  its parameters and fitted attributes as JSON, each array replaced by
  ``{"__array__": "<member>"}``;
* one ``<member>.npy`` per array, named by where it sits in the state
  (``_network/layer0.weight_ih``, ``regressor_/_network/head.weight``,
  ``history_/0/values``).

Nothing in it is pickled, so loading a file runs no code from it: arrays are
read without pickle (numeric, string and time dtypes only, their sizes
checked against the file before any memory is taken), and only classes
defined in seqforecast and in a few scikit-learn modules
(:data:`LOADABLE_MODULES`, no module that importing them does not import)
are rebuilt, from their attributes, without calling their constructors;
an estimator checks that its arrays fit its network
(``_RecurrentRegressor.__setstate__``) before its kernels read them.  Any zip tool, JSON
parser and ``numpy.load`` read the file without seqforecast (the README
shows an LSTM's forward pass from one).

JSON has no tuples, non-string keys or infinities; the state uses these
tags (a tagged value is a one-key object):

===================  ====================================================
``__array__``        member name of a numeric array (an ``.npy`` file)
``__float__``        ``"inf"``, ``"-inf"`` or ``"nan"``
``__numpy__``        a NumPy scalar: ``[dtype, value]``
``__dtype__``        a NumPy dtype (``"<f4"``)
``__type__``         a NumPy scalar type (``dtype=np.float32``)
``__tuple__``        a list that was a tuple
``__dict__``         a dict as ``[[key, value], ...]`` (keys of any type)
``__strings__``      an object array of str: ``[shape, [str, ...]]``
``__index__``        a pandas index: kind, values, name, freq, tz (and whether
                     the zone was a zoneinfo.ZoneInfo)
``__frame__``        a pandas DataFrame: index, columns, values
``__offset__``       a pandas frequency (``"30min"``)
``__random_state__`` a NumPy RandomState's state
``__network__``      a :class:`~seqforecast.network.Network`: its layout and
                     one array per weight tensor (PyTorch's names)
``__object__``       an object of a loadable class: ``[class, state]``
===================  ====================================================
"""
import errno
import importlib
import inspect
import json
import math
import os
import re
import stat
import sys
import tempfile
import zipfile
import zoneinfo

import numpy as np
import pandas as pd
import sklearn
from sklearn.base import BaseEstimator

from ._version import __version__
from .network import Network, _shapes
from .recurrent import unpack

FORMAT = "seqforecast-model"
# Raised when a change makes files unreadable by an older seqforecast; a newer
# seqforecast reads every earlier format.
FORMAT_VERSION = 1
HEADER = "header.json"
# The largest header a file may have (a model's attributes and training record, not
# its arrays: a long fit's is well under a megabyte).
MAX_HEADER_BYTES = 64 * 2 ** 20
# The modules whose classes a model file may hold (a class must be defined in one
# of them, or in a module below one).
LOADABLE_MODULES = ("seqforecast", "sklearn.linear_model", "sklearn.preprocessing",
                    "sklearn.pipeline", "sklearn.multioutput", "sklearn.compose",
                    "sklearn.dummy")


# The dtype kinds of the arrays a model file holds (no objects, no raw bytes).
_ARRAY_KINDS = "biufcUmM"


class ModelFileError(ValueError):
    """A file that is not a seqforecast model, is damaged, or is of a newer format."""


def save(model, path):
    """Write a fitted (or unfitted) estimator or forecaster to one file.

    Parameters
    ----------
    model : estimator or forecaster
        Any object of a loadable class (seqforecast's, or scikit-learn's
        linear models, scalers and pipelines) whose attributes are numbers,
        strings, arrays, pandas frames and other loadable objects.
    path : str or os.PathLike
        The file to write (replaced atomically: a failed save leaves any
        earlier file at ``path`` as it was).  No suffix is added; ``.npz``
        lets ``numpy.load`` recognise it.

    Raises
    ------
    TypeError
        If ``model`` holds an object that a model file cannot hold (the
        message names the attribute and its type), such as a forecaster
        fitted on a dict whose keys, the series ids, are not str, int,
        float, bool or tuples of them (the message names the id).
    """
    _check_series_ids(model)
    arrays = {}
    header = {"format": FORMAT, "format_version": FORMAT_VERSION,
              "versions": _versions(), "class": _class_name(type(model)),
              "state": _encode(model, "", arrays)}
    path = os.fspath(path)
    target = _writable(path)
    folder, name = os.path.split(target)
    partial = None
    try:
        handle, partial = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".partial")
        os.close(handle)
        # mkstemp makes the file readable by its owner alone; a model file is made as any
        # other file is (the process's umask), and a file it replaces keeps its mode.
        os.chmod(partial, stat.S_IMODE(os.stat(target).st_mode) if os.path.exists(target)
                 else 0o666 & ~_umask())
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_STORED) as archive:
            archive.writestr(HEADER, json.dumps(header, allow_nan=False, indent=1))
            for member, array in arrays.items():
                with archive.open(member + ".npy", "w", force_zip64=True) as stream:
                    np.lib.format.write_array(stream, array, allow_pickle=False)
        os.replace(partial, target)
    except OSError as error:  # named by the path given, not by the partial file's
        raise type(error)(error.errno, f"cannot save to {path}: {error.strerror}",
                          path) from None
    finally:
        if partial is not None and os.path.exists(partial):
            os.remove(partial)


def load(path):
    """Read an estimator or forecaster written by :func:`save`.

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    The saved object, fitted as it was: it predicts bit-identically and
    trains on (``partial_fit``, ``update``) as the saved object would.

    Raises
    ------
    ModelFileError
        A ValueError saying what is wrong: not a zip archive (or truncated),
        not a seqforecast model file, written in a newer format, damaged
        (a checksum, an array, the header or the state does not read, or
        is nested too deeply or too large), or naming a class that is not
        loadable.
    FileNotFoundError, IsADirectoryError, PermissionError
        If the path cannot be opened.
    """
    path = os.fspath(path)
    try:
        with zipfile.ZipFile(path) as archive:
            header = _read_header(archive, path)
            members = {info.filename[:-len(".npy")]: info for info in archive.infolist()
                       if info.filename.endswith(".npy")}
            return _Reader(archive, members, path).decode(header["state"])
    except zipfile.BadZipFile as error:
        raise ModelFileError(f"{path} is not a seqforecast model file, or it is truncated or "
                             f"damaged: {error}") from None
    except (RecursionError, MemoryError, OverflowError) as error:
        raise ModelFileError(f"{path} is damaged or was not written by seqforecast: its "
                             f"contents are nested too deeply or too large to read "
                             f"({type(error).__name__})") from None


def _read_header(archive, path):
    if HEADER not in archive.namelist():
        raise ModelFileError(f"{path} is a zip archive but not a seqforecast model file (it "
                             f"has no {HEADER}; an .npz of arrays is loaded with numpy.load)")
    if archive.getinfo(HEADER).file_size > MAX_HEADER_BYTES:
        raise ModelFileError(f"{path}: its {HEADER} is larger than {MAX_HEADER_BYTES} bytes, "
                             f"which seqforecast never writes")
    try:
        header = json.loads(archive.read(HEADER))
    except (ValueError, UnicodeDecodeError) as error:
        raise ModelFileError(f"{path}: its {HEADER} is damaged ({error})") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ModelFileError(f"{path} is not a seqforecast model file: its {HEADER} does not "
                             f"say format {FORMAT!r}")
    version = header.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ModelFileError(f"{path}: its {HEADER} has no valid format_version "
                             f"(got {version!r})")
    if version > FORMAT_VERSION:
        wrote = header.get("versions", {}).get("seqforecast", "a newer version")
        raise ModelFileError(f"{path} was written by seqforecast {wrote} in model-file format "
                             f"{version}; this seqforecast ({__version__}) reads formats up to "
                             f"{FORMAT_VERSION}: upgrade seqforecast to load it")
    if "state" not in header:
        raise ModelFileError(f"{path}: its {HEADER} holds no state")
    return header


# The time-zone names a file may hold: IANA names ('Europe/Paris'), 'UTC' and fixed
# offsets ('UTC+01:00'); pandas would read others (dateutil paths) as file names.
_TIME_ZONE = re.compile(r"(?!dateutil)[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+)*"
                        r"|UTC[+-]\d\d:\d\d")


def _umask():
    """The process's file mode creation mask (read by setting it, then set back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _versions():
    return {"seqforecast": __version__, "numpy": np.__version__, "pandas": pd.__version__,
            "scikit-learn": sklearn.__version__,
            "python": ".".join(map(str, sys.version_info[:3]))}


# -- writing ----------------------------------------------------------------------------

def _writable(path):
    """The file that saving to ``path`` writes: ``path``, or the file a symbolic link at
    ``path`` points to (as ``open`` writes through it); an OSError, before anything is
    written, for a path that names no file in an existing folder, or names a folder, a
    device, a pipe or a socket (replacing it would destroy it)."""
    if not path:
        raise FileNotFoundError(errno.ENOENT, "cannot save to '': give a file name, e.g. "
                                              "'model.npz'", path)
    target = os.path.realpath(path)
    folder = os.path.dirname(target)
    if not os.path.isdir(folder):
        raise FileNotFoundError(errno.ENOENT, f"cannot save to {path}: there is no folder "
                                              f"{folder}", path)
    if os.path.isdir(target):
        raise IsADirectoryError(errno.EISDIR, f"cannot save to {path}: it is a folder; give a "
                                              f"file name in it, e.g. "
                                              f"{os.path.join(path, 'model.npz')}", path)
    if os.path.exists(target) and not os.path.isfile(target):
        raise OSError(errno.EEXIST, f"cannot save to {path}: it is not a regular file (a "
                                    f"device, a pipe or a socket), which saving would "
                                    f"replace; give the path of a file", path)
    return target


def _check_series_ids(model):
    """Raise a TypeError naming the first series id of a forecaster fitted on several series
    (a key of its ``history_``) that a model file cannot hold."""
    histories = getattr(model, "history_", None)
    for name in histories if isinstance(histories, dict) else ():
        try:
            _encode(name, "", {})
        except TypeError:
            raise TypeError(f"a model file cannot hold the series id {name!r}, a "
                            f"{type(name).__name__}: the series ids (the keys of the dict the "
                            f"forecaster was fitted on) must be str, int, float or bool, or "
                            f"tuples of them, to be saved; fit on a dict with str keys, e.g. "
                            f"{{str(name): frame for name, frame in data.items()}}") from None


def _class_name(cls):
    """The name a file holds ``cls`` by; a TypeError unless :func:`_loadable_class` finds it."""
    name = f"{cls.__module__}.{cls.__qualname__}"
    if _loadable_class(name) is not cls:
        raise TypeError(f"a model file cannot hold a {name}: only classes of "
                        f"{', '.join(LOADABLE_MODULES)} (defined there) are saved (their files "
                        f"load without running code); use one of them, or pickle at your own "
                        f"risk")
    return name


def _root(module):
    """The entry of :data:`LOADABLE_MODULES` that ``module`` is or lies below, or None."""
    return next((root for root in LOADABLE_MODULES
                 if module == root or module.startswith(root + ".")), None)


def _loadable_class(name):
    """The class a file may name ``name``, or None.

    It must be defined (not merely imported) under that name in a module of
    :data:`LOADABLE_MODULES` that importing its package imports (so no test
    module, nor any other, is imported because a file names it).  A network
    has its own tag.
    """
    module, _, qualname = name.rpartition(".")
    root = _root(module)
    if root is None or "." in qualname:
        return None
    importlib.import_module(root)
    cls = getattr(sys.modules.get(module), qualname, None)
    if (isinstance(cls, type) and cls.__module__ == module and cls.__qualname__ == qualname
            and cls is not Network):
        return cls
    return None


def _encode(value, path, arrays):
    """``value`` as JSON, its arrays added to ``arrays`` under members named by ``path``."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int) and not isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float) and not isinstance(value, np.floating):
        return value if math.isfinite(value) else {"__float__": str(value)}
    if isinstance(value, np.generic) and value.dtype.kind in "biuf":
        return {"__numpy__": [value.dtype.str, _encode(value.item(), path, arrays)]}
    if isinstance(value, np.dtype):
        return {"__dtype__": value.str}
    if isinstance(value, type):
        if issubclass(value, np.generic) and np.dtype(value).kind in "biuf":
            return {"__type__": np.dtype(value).str}  # e.g. dtype=np.float32
        raise TypeError(f"a model file cannot hold {path or 'the model'}, the class "
                        f"{value.__qualname__}")
    if isinstance(value, np.ndarray):
        return _encode_array(value, path, arrays)
    if isinstance(value, list):
        return [_encode(item, f"{path}/{i}", arrays) for i, item in enumerate(value)]
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(item, f"{path}/{i}", arrays)
                              for i, item in enumerate(value)]}
    if isinstance(value, dict):
        return {"__dict__": [[_encode(key, f"{path}/key{i}", arrays),
                              _encode(item, f"{path}/{_member_part(key, i)}", arrays)]
                             for i, (key, item) in enumerate(value.items())]}
    if isinstance(value, pd.DataFrame):
        return {"__frame__": {"index": _encode(value.index, f"{path}/index", arrays),
                              "columns": _encode(list(value.columns), path, arrays),
                              "values": _encode_array(value.to_numpy(), f"{path}/values",
                                                      arrays)}}
    if isinstance(value, pd.Index):
        return {"__index__": _encode_index(value, path, arrays)}
    if isinstance(value, pd.offsets.BaseOffset):
        if pd.tseries.frequencies.to_offset(value.freqstr) != value:
            raise TypeError(f"a model file cannot hold {path}, the frequency {value!r}: its "
                            f"name {value.freqstr!r} leaves out some of its settings")
        return {"__offset__": value.freqstr}
    if isinstance(value, np.random.RandomState):
        return {"__random_state__": _encode(value.get_state(legacy=True), path, arrays)}
    if isinstance(value, Network):
        return {"__network__": _encode_network(value, path, arrays)}
    state = value.__getstate__() if hasattr(value, "__getstate__") else None
    if not isinstance(state, dict):
        raise TypeError(f"a model file cannot hold {path or 'the model'}, a "
                        f"{type(value).__name__}")
    name = _class_name(type(value))
    return {"__object__": [name, {key: _encode(item, f"{path}/{key}".lstrip("/"), arrays)
                                  for key, item in state.items()}]}


def _member_part(key, position):
    """A member-name part for a dict key: the key if it is a plain str, else its position."""
    if isinstance(key, str) and key and all(c.isalnum() or c in "_-." for c in key):
        return key
    return str(position)


def _encode_array(array, path, arrays):
    if array.dtype.kind == "O":
        if not all(isinstance(item, str) for item in array.flat):
            raise TypeError(f"a model file cannot hold {path}, an object array that is not "
                            f"all str")
        return {"__strings__": [list(array.shape), list(array.flat)]}
    if array.dtype.kind not in _ARRAY_KINDS:
        raise TypeError(f"a model file cannot hold {path}, an array of dtype {array.dtype}")
    member = path.lstrip("/") or "array"
    while member in arrays:
        member += "_"
    arrays[member] = array  # written in its own order (C or Fortran): read back the same
    return {"__array__": member}


def _encode_index(index, path, arrays):
    if isinstance(index, (pd.DatetimeIndex, pd.TimedeltaIndex)):
        kind = "datetime" if isinstance(index, pd.DatetimeIndex) else "timedelta"
        return {"kind": kind, "unit": index.unit, "tz": _time_zone(index, path),
                # zoneinfo's zone comes back as one (pandas 2 reads a name as pytz's)
                "zoneinfo": isinstance(getattr(index, "tz", None), zoneinfo.ZoneInfo),
                "ticks": _encode_array(index.asi8, f"{path}/ticks", arrays),
                "freq": None if index.freq is None else index.freq.freqstr,
                "name": _encode(index.name, path, arrays)}
    return {"kind": "plain", "values": _encode_array(index.to_numpy(), f"{path}/values", arrays),
            "name": _encode(index.name, path, arrays)}


def _time_zone(index, path):
    """The name of ``index``'s time zone (None if naive), one :data:`_TIME_ZONE` allows."""
    tz = getattr(index, "tz", None)
    if tz is None:
        return None
    name = getattr(tz, "key", None) or getattr(tz, "zone", None) or str(tz)
    if not _TIME_ZONE.fullmatch(name):
        raise TypeError(f"a model file cannot hold {path}, indexed in the time zone {tz!r}, "
                        f"which has no name it can hold (an IANA name such as 'Europe/Paris', "
                        f"'UTC' or a fixed offset): convert the index with "
                        f"tz_convert('Europe/Paris') or the like")
    return name


def _encode_network(network, path, arrays):
    """A network's layout and its tensors, one array each (``layer0.weight_ih``, ``head.bias``)."""
    path = path.lstrip("/")
    *layers, head = unpack(network.snapshot(), network.shapes)
    tensors = {f"layer{i}.{name}": array for i, layer in enumerate(layers)
               for name, array in layer.items()}
    tensors.update({f"head.{name}": array for name, array in head.items()})
    return {"cell": _encode(network.cell, f"{path}/cell", arrays),
            "input_size": network.input_size, "hidden_sizes": list(network.hidden_sizes),
            "n_outputs": network.n_outputs, "ar_window": network.ar_window,
            "dtype": network.params.dtype.str,
            "tensors": {name: _encode_array(array, f"{path}/{name}", arrays)
                        for name, array in tensors.items()}}


# -- reading ----------------------------------------------------------------------------

class _Reader:
    """Decodes a header's state, reading the arrays it names from the archive."""

    def __init__(self, archive, members, path):
        self.archive, self.members, self.path = archive, members, path

    def damaged(self, what):
        return ModelFileError(f"{self.path} is damaged: {what}")

    def decode(self, value):
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        if isinstance(value, list):
            return [self.decode(item) for item in value]
        if not isinstance(value, dict) or len(value) != 1:
            raise self.damaged(f"a value of the state is not a tagged object: {_short(value)}")
        (tag, content), = value.items()
        decoder = getattr(self, "_" + tag.strip("_"), None) if tag.startswith("__") else None
        if decoder is None:
            raise self.damaged(f"unknown tag {tag!r} in the state")
        try:
            return decoder(content)
        except ModelFileError:
            raise
        except (TypeError, ValueError, KeyError, IndexError, AttributeError) as error:
            raise self.damaged(f"its {tag} {_short(content)} does not read ({error})") from None

    def _array(self, member):
        info = self.members.get(member)
        if info is None:
            raise self.damaged(f"the array {member!r} is missing")
        if info.compress_type != zipfile.ZIP_STORED:
            raise self.damaged(f"the array {member!r} is compressed, which seqforecast never "
                               f"writes")
        readers = {(1, 0): np.lib.format.read_array_header_1_0,
                   (2, 0): np.lib.format.read_array_header_2_0}
        try:
            with self.archive.open(info) as stream:
                version = np.lib.format.read_magic(stream)
                if version not in readers:
                    raise ValueError(f".npy format {version}, which seqforecast never writes")
                shape, fortran_order, dtype = readers[version](stream)
                if dtype.hasobject or dtype.kind not in _ARRAY_KINDS:
                    raise ValueError(f"arrays of dtype {dtype} are not part of a model file")
                size, left = math.prod(shape) * dtype.itemsize, info.file_size - stream.tell()
                if size != left:  # before allocating: the header is not to be trusted
                    raise ValueError(f"its header says {shape} {dtype} ({size} bytes), the "
                                     f"file holds {left}")
                array = np.empty(shape[::-1] if fortran_order else shape, dtype)
                if size and stream.readinto(array.reshape(-1).view(np.uint8)) != size:
                    raise ValueError("it ends early")
                stream.read()  # to its end: the member's CRC is checked
        except (ValueError, OSError, EOFError, TypeError) as error:
            raise self.damaged(f"the array {member!r} does not read ({error})") from None
        return array.T if fortran_order else array

    def _float(self, text):
        if text not in ("inf", "-inf", "nan"):
            raise ValueError(f"not a special float: {text!r}")
        return float(text)

    def _numpy(self, content):
        dtype, item = content
        dtype = np.dtype(dtype)
        if dtype.kind not in "biuf":
            raise ValueError(f"a NumPy scalar of dtype {dtype} is not part of a model file")
        return dtype.type(self.decode(item))

    def _dtype(self, text):
        dtype = np.dtype(text)
        if dtype.hasobject or dtype.kind not in _ARRAY_KINDS:
            raise ValueError(f"the dtype {dtype} is not part of a model file")
        return dtype

    def _type(self, text):
        dtype = np.dtype(text)
        if dtype.kind not in "biuf":
            raise ValueError(f"the NumPy type {dtype} is not part of a model file")
        return dtype.type

    def _tuple(self, items):
        return tuple(self.decode(item) for item in items)

    def _dict(self, pairs):
        return {self.decode(key): self.decode(item) for key, item in pairs}

    def _strings(self, content):
        shape, items = content
        if not all(isinstance(item, str) for item in items) or math.prod(shape) != len(items):
            raise ValueError("not a list of strings of the given shape")
        out = np.empty(len(items), dtype=object)
        out[:] = items
        return out.reshape(shape)

    def _index(self, content):
        name = self.decode(content["name"])
        if content["kind"] == "plain":
            return pd.Index(self.decode(content["values"]), name=name)
        ticks = self.decode(content["ticks"])
        letter = {"datetime": "M8", "timedelta": "m8"}[content["kind"]]
        stamps = ticks.view(f"{letter}[{content['unit']}]")
        if letter == "m8":
            return pd.TimedeltaIndex(stamps, freq=content["freq"], name=name)
        index = pd.DatetimeIndex(stamps, name=name)
        if content["tz"] is not None:
            if not _TIME_ZONE.fullmatch(content["tz"]):
                raise ValueError(f"{content['tz']!r} is not the name of a time zone")
            zone = content["tz"]
            if content.get("zoneinfo"):  # absent from files of 0.1.0
                zone = zoneinfo.ZoneInfo(zone)
            index = index.tz_localize("UTC").tz_convert(zone)
        return pd.DatetimeIndex(index, freq=content["freq"], name=name)

    def _frame(self, content):
        return pd.DataFrame(self.decode(content["values"]), index=self.decode(content["index"]),
                            columns=self.decode(content["columns"]))

    def _offset(self, text):
        return pd.tseries.frequencies.to_offset(text)

    def _random_state(self, content):
        generator = np.random.RandomState()
        generator.set_state(self.decode(content))
        return generator

    def _network(self, content):
        network = object.__new__(Network)
        sizes = [content["input_size"], content["n_outputs"], content["ar_window"],
                 *content["hidden_sizes"]]
        if not all(type(size) is int and size >= 0 for size in sizes):
            raise ValueError(f"the network's sizes {sizes} are not all ints")
        structure = {"cell": self.decode(content["cell"]), "input_size": content["input_size"],
                     "hidden_sizes": tuple(content["hidden_sizes"]),
                     "n_outputs": content["n_outputs"], "ar_window": content["ar_window"]}
        shapes = _shapes(**structure)
        dtype = np.dtype(content["dtype"])
        tensors = content["tensors"]
        names = [f"layer{i}.{name}" for i, layer in enumerate(shapes[:-1]) for name in layer]
        names += [f"head.{name}" for name in shapes[-1]]
        if sorted(names) != sorted(tensors):
            raise ValueError(f"the network's tensors are {sorted(tensors)}, its layout needs "
                             f"{sorted(names)}")
        flat = []
        for name, shape in zip(names, (s for layer in shapes for s in layer.values())):
            array = self.decode(tensors[name])
            if array.shape != tuple(shape) or array.dtype != dtype:
                raise ValueError(f"{name} is {array.dtype} {array.shape}, the layout needs "
                                 f"{dtype} {tuple(shape)}")
            flat.append(array.reshape(-1))
        network.__setstate__({**structure, "params": np.concatenate(flat)})
        return network

    def _object(self, content):
        name, state = content
        cls = _loadable_class(name)
        if cls is None and _root(name.rpartition(".")[0]) is None:
            raise ModelFileError(f"{self.path} names the class {name}, which seqforecast does "
                                 f"not load (only classes of {', '.join(LOADABLE_MODULES)})")
        if cls is None:
            raise ModelFileError(f"{self.path} names the class {name}, which this installation "
                                 f"does not define as a loadable class (written with "
                                 f"{name.split('.')[0]} of another version?)")
        obj = cls.__new__(cls)
        state = {key: self.decode(item) for key, item in state.items()}
        if name.startswith("seqforecast.") and isinstance(obj, BaseEstimator):
            # A parameter added since the file was written takes its default, which does
            # what the model did before it existed (e.g. loss quantiles, student_t_df), or
            # the value the class names for such files where the default does not
            # (``_legacy_defaults``: a forecaster's calendar).
            legacy = getattr(cls, "_legacy_defaults", {})
            for parameter in inspect.signature(cls.__init__).parameters.values():
                if parameter.default is not inspect.Parameter.empty:
                    state.setdefault(parameter.name,
                                     legacy.get(parameter.name, parameter.default))
        if hasattr(obj, "__setstate__"):
            obj.__setstate__(state)
        else:
            obj.__dict__.update(state)
        return obj


def _short(value):
    text = json.dumps(value)
    return text if len(text) <= 80 else text[:77] + "..."
