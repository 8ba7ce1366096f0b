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
    """A fresh team of two workers, started (three blocks for any work); its workers are
    stopped after the test (and the module's own team restored)."""
    monkeypatch.setattr(config, "KERNEL_ROW_THREADS", 3)
    monkeypatch.setattr(config, "ROW_BLOCK_WORK", 1)
    monkeypatch.setattr(threads, "_team", None)
    threads.run_row_blocks(lambda first, stop: None, 3, 1)
    yield threads._team
    threads._team.close()


@pytest.fixture
def held_workers(team, monkeypatch):
    """The workers, once they see new work, wait until the test sets this event (on any
    machine, however slow: they never get to claim a block before the caller is done)."""
    go = threading.Event()
    monkeypatch.setattr(atomics, "pause", lambda word, spins: go.wait())
    yield go
    go.set()


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
    monkeypatch.setattr(team, "spins", 1)  # ROW_SPIN_SECONDS as good as 0
    counts, runners = np.zeros(20, int), []
    kernel = _counting_kernel(counts, runners, pause=2e-3)
    threads.run_row_blocks(kernel, 20, 1)
    deadline = time.perf_counter() + 5
    while team.asleep != 0b110 and time.perf_counter() < deadline:
        time.sleep(1e-3)
    assert team.asleep == 0b110  # workers 1 and 2
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


def test_a_worker_the_system_does_not_run_leaves_its_blocks_to_the_caller(held_workers):
    """Workers held before claiming: the caller runs every block and returns."""
    counts, runners = np.zeros(9, int), []
    threads.run_row_blocks(_counting_kernel(counts, runners), 9, 1)
    np.testing.assert_array_equal(counts, 1)
    assert {name for _, name in runners} == {threading.current_thread().name}


@pytest.mark.parametrize("generation", [7, 2 ** 40])
def test_claims_from_several_threads_hand_out_each_block_once(generation):
    """Four threads released together claim all free blocks, each exactly once."""
    n = 5000
    published, slots = np.zeros(1, np.int64), np.zeros(n, np.int64)
    for _ in range(5):
        atomics.publish(published, slots, generation, n)  # block 0 is the caller's
        claimed, start = [[] for _ in range(4)], threading.Barrier(4)

        def claim_all(mine):
            start.wait()
            while (block := atomics.claim(slots, generation, n, atomics.WORKER)) >= 0:
                mine.append(block)

        workers = [threading.Thread(target=claim_all, args=(mine,)) for mine in claimed]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        assert sorted(block for mine in claimed for block in mine) == list(range(1, n))
    assert not atomics.wait_for_workers(slots, generation, n, 10)  # in the workers' hands
    assert atomics.claim(slots, generation - 1, n, atomics.WORKER) == -1  # older work: nothing
    block, newest = atomics.finish_and_claim(published, slots, generation, 1, n, 10)
    assert (block, newest) == (-1, generation)  # none left to claim, no newer work
    slots[2:n] = 4 * generation + atomics.DONE
    assert atomics.wait_for_workers(slots, generation, n, 10)
    atomics.publish(published, slots, generation + 1, 3)
    assert atomics.wait_for_work(published, generation, 1) == generation + 1
    assert atomics.wait_for_work(published, generation + 1, 10) == generation + 1
    assert atomics.claim(slots, generation, 3, atomics.WORKER) == -1
    assert atomics.claim(slots, generation + 1, 3, atomics.CALLER) == 1  # 0 was the caller's


def test_an_error_in_the_callers_block_skips_the_blocks_no_one_has_claimed(team,
                                                                           held_workers):
    """The caller's own block fails before the workers claim anything: the call raises at
    once, the blocks no thread has claimed are never run, and it holds no arrays."""
    counts = np.zeros(9, int)

    def kernel(first, stop):
        if first == 0:
            raise ValueError("the first block failed")
        counts[first:stop] += 1

    with pytest.raises(ValueError, match="first block failed"):
        threads.run_row_blocks(kernel, 9, 1)
    assert counts.sum() == 0 and team.work is None
    held_workers.set()
    time.sleep(0.2)  # the workers' late look at the work finds nothing to claim
    assert counts.sum() == 0
    threads.run_row_blocks(_counting_kernel(counts, []), 9, 1)  # the team goes on working
    np.testing.assert_array_equal(counts, 1)
