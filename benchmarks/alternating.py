"""Timing seqforecast against PyTorch in fresh processes, alternating A B B A.

A benchmark script defines ``ours(*args)`` and ``theirs(*args)``, each
returning a dict of measurements, and calls :func:`child` first thing in
``main``: when the script was started as a child it runs one side, prints the
dict as JSON and returns True.  :func:`medians` starts those children.
Absolute times on a shared machine drift by 20% and more; alternating the
sides and taking medians over fresh processes keeps the ratios fair.
"""
import json
import subprocess
import sys

import numpy as np


def child(ours, theirs):
    """Run one side if this process was started as ``script --child SIDE ARG...``; say whether."""
    if sys.argv[1:2] != ["--child"]:
        return False
    side, *args = sys.argv[2:]
    print(json.dumps((ours if side == "ours" else theirs)(*map(json.loads, args))))
    return True


def medians(script, rounds, *args):
    """``{"ours": {...}, "theirs": {...}}``: each measurement's median over fresh processes.

    Each round starts ``script --child SIDE ARG...`` four times, ours, theirs,
    theirs, ours (``args`` pass as JSON).
    """
    runs = {"ours": [], "theirs": []}
    for _ in range(rounds):
        for side in ("ours", "theirs", "theirs", "ours"):
            child = subprocess.run([sys.executable, script, "--child", side,
                                    *map(json.dumps, args)], capture_output=True, text=True)
            if child.returncode:  # say why: the child's own traceback
                sys.exit(f"{script} --child {side} failed (exit status {child.returncode}):\n"
                         f"{child.stderr}")
            runs[side].append(json.loads(child.stdout.splitlines()[-1]))
    return {side: {key: float(np.median([run[key] for run in results])) for key in results[0]}
            for side, results in runs.items()}
