"""The bundled data files: one copy in the repository, shipped inside the wheel, found by the
loaders in an installed wheel, in an editable install and in the source checkout.

The repository keeps the data files once, in its top-level ``datasets/`` folder; the wheel
ships them as ``seqforecast/datasets/data/`` (the ``package-dir`` mapping in
pyproject.toml).  The wheel tests build it offline (``pip wheel --no-build-isolation`` with
the setuptools of this environment) from a copy of the build inputs, so that a stale
``build/`` folder in the checkout cannot mask a missing file and nothing is written into the
checkout.  They are skipped, with the reason, only when this environment cannot build it.
"""
import importlib.metadata
import importlib.util
import os
import re
import shutil
import site
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from seqforecast import datasets

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "datasets"
PACKAGE_DATA = "seqforecast/datasets/data"  # where the wheel puts DATA
# What the build reads; a missing one fails the build, loudly.
BUILD_INPUTS = ["pyproject.toml", "README.md", "seqforecast", "datasets"]
OPTIONAL_INPUTS = ["setup.py", "setup.cfg", "MANIFEST.in", "LICENSE", "LICENSE.txt"]
# Offline and quiet: no index, no pip self-check.
PIP_ENV = {**os.environ, "PIP_NO_INDEX": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
FILE = "river_water_flow_hourly_2022.csv"


def _data_files():
    return sorted(p.relative_to(DATA).as_posix() for p in DATA.rglob("*") if p.is_file())


def _version(text):
    return tuple(int(part) for part in re.findall(r"\d+", text)[:3])


def _cannot_build():
    """Why this environment cannot build the wheel offline, or None."""
    if importlib.util.find_spec("pip") is None:
        return "pip is not installed in this environment"
    if importlib.util.find_spec("setuptools") is None:
        return ("setuptools (the build backend) is not installed in this environment, and "
                "the offline build (--no-build-isolation) cannot fetch it")
    required = re.search(r'"setuptools>=([\d.]+)"', (REPO / "pyproject.toml").read_text())
    installed = importlib.metadata.version("setuptools")
    if required and _version(installed) < _version(required[1]):
        return (f"setuptools {installed} is installed, the build needs setuptools>={required[1]} "
                "(pyproject.toml [build-system]), and the offline build cannot fetch it")
    return None


def _run(command, **kwargs):
    done = subprocess.run(command, capture_output=True, text=True, timeout=180, **kwargs)
    assert done.returncode == 0, f"{command} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    """A copy of the checkout's build inputs."""
    reason = _cannot_build()
    if reason:
        pytest.skip(f"cannot build the wheel: {reason}")
    source = tmp_path_factory.mktemp("source")
    for name in BUILD_INPUTS + [n for n in OPTIONAL_INPUTS if (REPO / n).exists()]:
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, source / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.py[cod]"))
        else:
            shutil.copy2(REPO / name, source / name)
    return source


@pytest.fixture(scope="module")
def wheel(source, tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    _run([sys.executable, "-m", "pip", "wheel", str(source), "--no-deps",
          "--no-build-isolation", "-q", "-w", str(out)], env=PIP_ENV)
    (wheel,) = out.glob("seqforecast-*.whl")
    return wheel


def _install(wheel, target):
    _run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target),
          str(wheel)], env=PIP_ENV)


# Run in a subprocess, in an empty folder: which seqforecast it imported, where the loader
# found the file, and the loaded shape.
PROBE = f"""
import seqforecast.datasets as d
print(d.__file__)
print(d._data_file({FILE!r}))
print(d.load_water_flow().shape)
"""


def test_one_copy_of_the_data_in_the_repository():
    files = _data_files()
    assert "README.md" in files and len(files) > 1  # the provenance and the data
    assert not (REPO / "seqforecast" / "datasets" / "data").exists()


def test_the_loader_reads_the_repository_copy():
    """In this checkout or an installed copy of it, the loader reads the same bytes."""
    for name in _data_files():
        assert datasets._data_file(name).read_bytes() == (DATA / name).read_bytes(), name


def test_a_missing_file_names_both_places():
    with pytest.raises(FileNotFoundError) as raised:
        datasets._data_file("no_such_file.csv")
    message = str(raised.value)
    assert "'no_such_file.csv'" in message
    assert str(datasets._PACKAGE_DATA) in message and str(datasets._CHECKOUT_DATA) in message


def test_wheel_ships_every_data_file_and_module(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        shipped = {name: archive.read(name) for name in names}
    data = {f"{PACKAGE_DATA}/{name}": (DATA / name).read_bytes() for name in _data_files()}
    missing = sorted(data.keys() - names)
    assert not missing, f"data files missing from the wheel: {missing}"
    assert [name for name in data if shipped[name] != data[name]] == []
    assert not [n for n in names if n.startswith("datasets/")]  # only inside the package
    # pyproject.toml lists the packages by name (a package-dir mapping needs it): a
    # subpackage missing from that list would be missing here.
    modules = {p.relative_to(REPO).as_posix() for p in (REPO / "seqforecast").rglob("*.py")
               if "__pycache__" not in p.parts}
    missing = sorted(modules - names)
    assert not missing, f"modules missing from the wheel (pyproject.toml packages): {missing}"


def test_installed_wheel_loads_data(wheel, tmp_path):
    target, elsewhere = tmp_path / "target", tmp_path / "elsewhere"
    elsewhere.mkdir()
    _install(wheel, target)
    env = {**os.environ, "PYTHONPATH": str(target)}
    module, found, shape = _run([sys.executable, "-c", PROBE], cwd=elsewhere,
                                env=env).splitlines()[-3:]
    assert Path(module).resolve().is_relative_to(target.resolve())
    assert Path(found).resolve() == (target / PACKAGE_DATA / FILE).resolve()
    assert shape == "(1268, 1)"


def test_editable_install_loads_data(source, tmp_path):
    """What ``pip install -e .`` installs (setuptools' PEP 660 editable wheel: a finder that
    maps ``seqforecast`` to the source folder), installed into a throwaway site folder."""
    editable, target, elsewhere = tmp_path / "editable", tmp_path / "target", tmp_path / "else"
    editable.mkdir()
    elsewhere.mkdir()
    _run([sys.executable, "-c", "import sys; from setuptools import build_meta; "
          "build_meta.build_editable(sys.argv[1])", str(editable)], cwd=source)
    (wheel,) = editable.glob("seqforecast-*.whl")
    _install(wheel, target)
    # -S: no site folders at startup, so the editable finder of this environment's own
    # seqforecast is not loaded.  The throwaway site folder comes first (its .pth installs
    # the finder), then this environment's site-packages for the dependencies.
    setup = (f"import site, sys; site.addsitedir({str(target)!r}); "
             f"sys.path.extend({site.getsitepackages()!r})\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    module, found, shape = _run([sys.executable, "-S", "-c", setup + PROBE], cwd=elsewhere,
                                env=env).splitlines()[-3:]
    assert Path(module).resolve().is_relative_to(source.resolve())
    assert Path(found).resolve() == (source / "datasets" / FILE).resolve()
    assert shape == "(1268, 1)"
