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
    """A fresh team of workers, three blocks for any work; its workers are stopped after the
    test (and the module's own team restored)."""
    monkeypatch.setattr(config, "KERNEL_ROW_THREADS", 3)
    monkeypatch.setattr(config, "ROW_BLOCK_WORK", 1)
    monkeypatch.setattr(threads, "_team", None)
    yield
    if threads._team is not None:
        threads._team.close()


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
    while threads._team.asleep != 0b110 and time.perf_counter() < deadline:
        time.sleep(1e-3)
    assert threads._team.asleep == 0b110  # workers 1 and 2
    runners.clear()
    for _ in range(5):
        threads.run_row_blocks(kernel, 20, 1)
    np.testing.assert_array_equal(counts, 6)
    assert any(name.startswith("seqforecast-") for _, name in runners)


def test_a_call_while_the_team_is_busy_runs_on_its_own_thread(team):
    counts, runners, started = np.zeros(12, int), [], threading.Event()

    def slow(first, stop):
        started.set()
        time.sleep(0.3)

    busy = threading.Thread(target=threads.run_row_blocks, args=(slow, 12, 1))
    busy.start()
    started.wait()  # the other thread's call holds the team
    threads.run_row_blocks(_counting_kernel(counts, runners, pause=1e-3), 12, 1)
    assert busy.is_alive()  # this call did not wait for the team
    busy.join()
    np.testing.assert_array_equal(counts, 1)
    assert {name for _, name in runners} == {threading.current_thread().name}


def test_a_worker_the_system_does_not_run_leaves_its_blocks_to_the_caller(team, monkeypatch):
    """Workers that wait long before claiming: the caller runs every block and returns."""
    monkeypatch.setattr(config, "ROW_HANDOFF_SPINS", 10 ** 7)  # milliseconds of waiting
    counts, runners = np.zeros(9, int), []
    threads.run_row_blocks(_counting_kernel(counts, runners), 9, 1)
    np.testing.assert_array_equal(counts, 1)
    assert {name for _, name in runners} == {threading.current_thread().name}


def test_claims_from_several_threads_hand_out_each_block_once():
    published, slots, n = np.zeros(1, np.int64), np.zeros(5000, np.int64), 5000
    atomics.publish(published, slots, 7, n)  # block 0 is the caller's
    claimed = [[] for _ in range(4)]

    def claim_all(mine):
        while (block := atomics.claim(slots, 7, n, atomics.WORKER)) >= 0:
            mine.append(block)

    workers = [threading.Thread(target=claim_all, args=(mine,)) for mine in claimed]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert sorted(block for mine in claimed for block in mine) == list(range(1, n))
    assert not atomics.wait_for_workers(slots, 7, n, 10)  # all in the workers' hands
    assert atomics.claim(slots, 6, n, atomics.WORKER) == -1  # an older work's claim: nothing
    block, generation = atomics.finish_and_claim(published, slots, 7, 1, n, 10)
    assert (block, generation) == (-1, 7)  # none left to claim, no newer work
    slots[2:n] = 4 * 7 + atomics.DONE
    assert atomics.wait_for_workers(slots, 7, n, 10)
    atomics.publish(published, slots, 8, 3)
    assert atomics.wait_for_work(published, 7, 1) == 8 and atomics.wait_for_work(published, 8,
                                                                                  10) == 8
    assert atomics.claim(slots, 7, 3, atomics.WORKER) == -1
    assert atomics.claim(slots, 8, 3, atomics.CALLER) == 1  # block 0 was the caller's


def test_an_error_in_the_callers_block_skips_the_blocks_no_one_has_claimed(team, monkeypatch):
    """The caller's own block fails before the workers claim anything: the call raises at
    once instead of waiting for blocks that no thread will run, and holds no arrays."""
    monkeypatch.setattr(config, "ROW_HANDOFF_SPINS", 10 ** 8)
    counts = np.zeros(9, int)

    def kernel(first, stop):
        if first == 0:
            raise ValueError("the first block failed")
        counts[first:stop] += 1

    start = time.perf_counter()
    with pytest.raises(ValueError, match="first block failed"):
        threads.run_row_blocks(kernel, 9, 1)
    assert time.perf_counter() - start < 0.05 and counts.sum() == 0  # skipped, not waited for
    assert threads._team.work is None
    time.sleep(0.2)  # the workers' late look at the work finds nothing to claim
    assert counts.sum() == 0
    threads.run_row_blocks(_counting_kernel(counts, []), 9, 1)  # the team goes on working
    np.testing.assert_array_equal(counts, 1)
