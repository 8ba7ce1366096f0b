"""Every ```python block of README.md runs as written.

Each block runs on its own: in a fresh namespace and a temporary working
directory, in this process, or, when it is a script (it has an
``if __name__ == "__main__":`` guard or starts worker processes, as the Dask
example does), as ``python block.py`` in a subprocess: as a user runs it, so
that a missing guard fails as it does for them ("Nanny failed to start").  A block must finish
without an error and without a warning, and print little (no per-epoch
logs of a grid search).  A block that needs a GPU (``device="cuda"``) runs as
written only where numba-cuda finds one; elsewhere it runs with
``device="cpu"`` (everything else in it is checked) and the test is skipped.
"""
import importlib.util
import re
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
# At most this many lines of output from one block.
MAX_LINES = 40


def python_blocks(text):
    """``(line number, code)`` of every ```python block, in order."""
    blocks = []
    for match in re.finditer(r"^```python[ \t]*\n(.*?)^```[ \t]*$", text, re.S | re.M):
        blocks.append((text.count("\n", 0, match.start()) + 1, match.group(1)))
    return blocks


BLOCKS = python_blocks(README.read_text(encoding="utf-8"))


def _label(number, code):
    """A test id that survives edits of the prose: the block's number and first statement."""
    first = next((row.strip() for row in code.splitlines()
                  if row.strip() and not row.lstrip().startswith("#")), "")
    words = re.sub(r"[^A-Za-z0-9_.]+", "-", first)[:40].strip("-")
    return f"block{number}-{words}"


def is_script(code):
    """A block run as a file: it has a __main__ guard or starts worker processes (Dask)."""
    return re.search(r"""^if __name__ == ["']__main__["']:|LocalCluster|multiprocessing""",
                     code, re.M) is not None


def needs_gpu(code):
    return re.search(r"""device\s*=\s*["']cuda["']""", code) is not None


def gpu_available():
    """numba-cuda installed and a GPU it can use (not the simulator)."""
    if importlib.util.find_spec("numba_cuda") is None:
        return False
    try:
        from numba import cuda
        return bool(cuda.is_available())
    except Exception:  # no driver, a broken install: no GPU for this test
        return False


def test_the_readme_has_python_blocks():
    assert len(BLOCKS) >= 4, [line for line, _ in BLOCKS]
    assert sum(is_script(code) for _, code in BLOCKS) >= 1  # the Dask example


# Warnings that are about the libraries, not about what a README block does.
_LIBRARY_NOISE = (DeprecationWarning, PendingDeprecationWarning)


@pytest.mark.parametrize("line, code", BLOCKS,
                         ids=[_label(number, code) for number, (_, code) in enumerate(BLOCKS)])
def test_readme_block_runs_as_written(line, code, tmp_path, monkeypatch, capfd):
    compile(code, f"README.md, block at line {line}", "exec")  # at least valid Python
    on_cpu = needs_gpu(code) and not gpu_available()
    if on_cpu:
        code = re.sub(r"""device\s*=\s*["']cuda["']""", 'device="cpu"', code)
    monkeypatch.chdir(tmp_path)
    started = time.perf_counter()
    if is_script(code):
        script = tmp_path / f"readme_line{line}.py"
        script.write_text(code, encoding="utf-8")
        # -W default: show every warning once, whatever the environment says.
        done = subprocess.run([sys.executable, "-W", "default", str(script)], cwd=tmp_path,
                              capture_output=True, text=True, timeout=300)
        output = done.stdout + done.stderr
        assert done.returncode == 0, f"README.md line {line} failed:\n{output[-5000:]}"
        warned = [row for row in output.splitlines() if "Warning" in row]
    else:
        namespace = {"__name__": "readme_block"}
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            exec(compile(code, f"README.md, block at line {line}", "exec"), namespace)
        out, err = capfd.readouterr()
        output = out + err
        warned = [f"{w.category.__name__}: {w.message} ({w.filename}:{w.lineno})"
                  for w in caught if not (issubclass(w.category, _LIBRARY_NOISE)
                                          and "seqforecast" not in w.filename
                                          and "README" not in w.filename)]
        # Warnings of worker processes (n_jobs) reach only their standard error.
        warned += [row for row in err.splitlines() if "Warning" in row]
    elapsed = time.perf_counter() - started
    print(f"README.md line {line}: {elapsed:.1f} s")
    assert not warned, f"README.md line {line} warns:\n" + "\n".join(warned[:20])
    lines = output.splitlines()
    assert len(lines) <= MAX_LINES, (f"README.md line {line} prints {len(lines)} lines:\n"
                                     + "\n".join(lines[:10]))
    if on_cpu:
        pytest.skip("ran with device='cpu' only: as written it needs numba-cuda and an NVIDIA "
                    "GPU")
