"""The threads that run a batch's blocks (seqforecast.threads.run_row_blocks) and the atomic
operations they hand work over with (seqforecast.cpu.atomics)."""
import threading
import time

import numpy as np
import pytest

from seqforecast import config, threads
from seqforecast.cpu import atomics


@pytest.fixture
def team(monkeypatch):
    """A fresh team of workers (three blocks for any work), and a record of which thread ran
    each block; the team is let go of after the test."""
    monkeypatch.setattr(config, "KERNEL_ROW_THREADS", 3)
    monkeypatch.setattr(config, "ROW_BLOCK_WORK", 1)
    monkeypatch.setattr(threads, "_team", None)
    yield
    monkeypatch.setattr(threads, "_team", None)


def _counting_kernel(counts, runners, pause=0.0):
    """A kernel adding 1 to ``counts[first:stop]`` and naming the thread that ran each block;
    ``pause`` seconds of sleep (the GIL let go) give the workers time to claim blocks."""
    def kernel(first, stop):
        if pause:
            time.sleep(pause)
        counts[first:stop] += 1
        runners.append((first, threading.current_thread().name))
    return kernel


def test_every_block_runs_once_whichever_thread_claims_it(team):
    counts, runners = np.zeros(50, int), []
    kernel = _counting_kernel(counts, runners, pause=1e-3)
    for _ in range(30):
        threads.run_row_blocks(kernel, 50, 1)
    np.testing.assert_array_equal(counts, 30)
    assert sorted({first for first, _ in runners}) == [0, 16, 33]  # 3 blocks, 90 runs
    assert len(runners) == 90
    names = {name for _, name in runners}
    assert threading.current_thread().name in names and any(
        name.startswith("seqforecast-") for name in names)  # the workers took part


def test_an_error_in_a_workers_block_reaches_the_caller_after_every_block_ran(team):
    counts, runners = np.zeros(30, int), []
    counting = _counting_kernel(counts, runners, pause=1e-3)

    def kernel(first, stop):
        counting(first, stop)
        if threading.current_thread().name.startswith("seqforecast-"):
            raise ValueError(f"block {first} failed")

    for _ in range(20):  # until a worker has run a block
        counts[:] = 0
        try:
            threads.run_row_blocks(kernel, 30, 1)
        except ValueError as error:
            assert "failed" in str(error)
            break
    else:
        pytest.fail("no worker ran a block")
    np.testing.assert_array_equal(counts, 1)  # the caller waited for every block
    counts[:] = 0
    threads.run_row_blocks(counting, 30, 1)  # the team goes on working
    np.testing.assert_array_equal(counts, 1)


def test_sleeping_workers_wake_for_the_next_call(team, monkeypatch):
    monkeypatch.setattr(config, "ROW_SPIN_SECONDS", 0.0)  # read when the team starts
    counts, runners = np.zeros(20, int), []
    kernel = _counting_kernel(counts, runners, pause=2e-3)
    threads.run_row_blocks(kernel, 20, 1)
    deadline = time.perf_counter() + 5
    while threads._team.asleep < 2 and time.perf_counter() < deadline:
        time.sleep(1e-3)
    assert threads._team.asleep == 2
    runners.clear()
    for _ in range(5):
        threads.run_row_blocks(kernel, 20, 1)
    np.testing.assert_array_equal(counts, 6)
    assert any(name.startswith("seqforecast-") for _, name in runners)


def test_a_call_while_the_team_is_busy_runs_on_its_own_thread(team):
    counts, runners = np.zeros(12, int), []
    slow = _counting_kernel(np.zeros(12, int), [], pause=0.2)
    busy = threading.Thread(target=threads.run_row_blocks, args=(slow, 12, 1))
    busy.start()
    time.sleep(0.05)  # the other thread's call holds the team
    threads.run_row_blocks(_counting_kernel(counts, runners), 12, 1)
    busy.join()
    np.testing.assert_array_equal(counts, 1)
    assert {name for _, name in runners} == {threading.current_thread().name}


def test_a_worker_the_system_does_not_run_leaves_its_blocks_to_the_caller(team, monkeypatch):
    """Workers that wait long before claiming: the caller runs every block and returns."""
    monkeypatch.setattr(config, "ROW_HANDOFF_SPINS", 10 ** 9)  # a second or so of waiting
    counts, runners = np.zeros(9, int), []
    threads.run_row_blocks(_counting_kernel(counts, runners), 9, 1)
    np.testing.assert_array_equal(counts, 1)
    assert {name for _, name in runners} == {threading.current_thread().name}


def test_claims_from_several_threads_hand_out_each_block_once():
    word, claimed = np.zeros(2, np.int64), [[] for _ in range(4)]
    atomics.publish(word, 7, 1)  # block 0 is the caller's

    def claim_all(mine):
        while (block := atomics.claim(word, 7, 20000)) >= 0:
            mine.append(block)
            atomics.finish(word)

    workers = [threading.Thread(target=claim_all, args=(mine,)) for mine in claimed]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    blocks = sorted(block for mine in claimed for block in mine)
    assert blocks == list(range(1, 20000))
    assert atomics.wait_for_blocks(word, 19999, 1) and not atomics.wait_for_blocks(word, 20000, 1)
    assert atomics.claim(word, 6, 20000) == -1  # an older generation's claim gets nothing
    atomics.publish(word, 8, 0)
    assert atomics.claim(word, 7, 20000) == -1 and atomics.claim(word, 8, 20000) == 0
    assert atomics.wait_for_work(word, 7, 1) == 8 and atomics.wait_for_work(word, 8, 10) == 8
    assert atomics.finish_and_claim(word, 8, 2, 10) == (1, 8)
    assert atomics.finish_and_claim(word, 8, 2, 10) == (-1, 8)  # none left, none newer


def test_an_error_in_the_callers_block_skips_the_blocks_no_one_has_claimed(team, monkeypatch):
    """The caller's own block fails before the workers claim anything: the call raises at
    once instead of waiting for blocks that no thread will run, and holds no arrays."""
    monkeypatch.setattr(config, "ROW_HANDOFF_SPINS", 10 ** 8)
    counts = np.zeros(9, int)

    def kernel(first, stop):
        if first == 0:
            raise ValueError("the first block failed")
        counts[first:stop] += 1

    with pytest.raises(ValueError, match="first block failed"):
        threads.run_row_blocks(kernel, 9, 1)
    assert threads._team.work is None
    threads.run_row_blocks(_counting_kernel(counts, []), 9, 1)  # the team goes on working
    assert counts.min() >= 1
