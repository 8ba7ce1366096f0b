"""The package's structure: imports run down the layers, and one place reads the device.

The layers, bottom first: the math, the tunables, the kernels' records, the
workspaces and the forecast errors (cells, training.rules, config, records,
workspace, metrics); the kernels (cpu, cuda); the losses, optimizers and
clipping that apply the rules; the backends; the stack driver (recurrent);
the network; the training step and its schedules; the estimators; windowing,
time indexes and calendar features; the forecasters; evaluation; plots; the command line.
"""
import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "seqforecast"

LAYERS = [
    {"_checks", "_version", "config", "threads", "cells", "records", "workspace", "training.rules",
     "metrics"},
    {"cpu", "cuda"},
    {"training.losses", "training.optimizers", "training.clipping"},
    {"backends"},
    {"recurrent"},
    {"network"},
    {"training.trainer", "training.schedules", "training.selection"},
    {"persistence"},
    {"estimators"},
    {"windowing", "timeindex", "calendar", "datasets"},
    {"forecasting"},
    {"evaluation"},
    {"plotting"},
    {"cli"},
    {""},  # seqforecast/__init__.py: the public names
]


def _layer(module):
    """The index in LAYERS of a module named relative to the package ('cpu.layer', ...)."""
    for index, names in enumerate(LAYERS):
        if any(module == name or module.startswith(name + ".") for name in names if name):
            return index
    for index, names in enumerate(LAYERS):  # a package split over layers: its lowest
        if any(name.startswith(module + ".") for name in names if module):
            return index
    if module == "":
        return len(LAYERS) - 1
    raise AssertionError(f"seqforecast.{module} is in no layer of this test")


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        package = parts[:-1] if parts[-1] == "__init__" else parts[:-1]
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        yield path, name, package


def _imports(path, package):
    """The package's modules that ``path`` imports, relative names ('cpu.layer', ...)."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = list(package)[:len(package) - node.level + 1]
            module = ".".join(base + ([node.module] if node.module else []))
            if node.module is None:
                yield from (".".join(filter(None, [module, a.name])) for a in node.names)
            else:
                yield module
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("seqforecast"):
            yield node.module[len("seqforecast."):] if "." in node.module else ""
        elif isinstance(node, ast.Import):
            yield from (a.name[len("seqforecast."):] for a in node.names
                        if a.name.startswith("seqforecast."))


@pytest.mark.parametrize("path, name, package", list(_modules()),
                         ids=[name or "seqforecast" for _, name, _ in _modules()])
def test_no_module_imports_from_a_layer_above_it(path, name, package):
    mine = _layer(name)
    above = [other for other in _imports(path, package) if _layer(other) > mine]
    assert not above, f"seqforecast.{name} (layer {mine}) imports from above: {above}"


def test_only_the_backend_selection_reads_the_device_name():
    branch = re.compile(r"""device\s*[!=]=|[!=]=\s*["']cuda["']|["']cuda["']\s*[!=]=""")
    found = [f"{path.relative_to(PACKAGE)}:{number}"
             for path, _, _ in _modules()
             for number, line in enumerate(path.read_text().splitlines(), 1)
             if branch.search(line)]
    assert found, "the pattern no longer finds the backend selection itself"
    outside = [place for place in found if not place.startswith("backends/__init__.py:")]
    assert not outside, f"device branches outside seqforecast.backends.get_backend: {outside}"
