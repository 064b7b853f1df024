"""workers: forked worker processes that each see the job they were started with, and the build that has none."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from broadsheet.workers import can_fork, job, pool

from .conftest import PROJECT

forking = pytest.mark.skipif(not can_fork(), reason="worker processes cannot be forked here")
LINUX = sys.platform.startswith("linux")
WAIT = 10  # seconds: what any of these must take at most


def seen(_: object = None) -> tuple[int, object]:
    """In a worker: its pid and its job."""
    return os.getpid(), job()


def met(n: int) -> tuple[int, int]:
    """In a worker: wait for every other worker of the pool at the job's barrier, then use the job's function."""
    found = job()
    found["barrier"].wait(WAIT)
    return os.getpid(), found["double"](n)


@pytest.mark.skipif(not LINUX, reason="Linux has the fork start method")
def test_workers_can_be_forked_on_linux():
    assert can_fork() is True


@forking
def test_each_worker_sees_the_job_it_was_started_with():
    edition = {"edition": "late", "pages": (1, 2, 3)}
    with pool(2, edition) as workers:
        found = workers.map(seen, range(8), chunksize=1)
    assert [answer for _, answer in found] == [edition] * 8
    assert os.getpid() not in {pid for pid, _ in found}


@forking
def test_the_job_is_inherited_not_sent_through_a_pipe():
    # a lambda and a barrier cannot be pickled; `size` workers must all be up at once to pass the barrier
    size = 3
    barrier = multiprocessing.get_context("fork").Barrier(size)
    with pool(size, {"barrier": barrier, "double": lambda n: 2 * n}) as workers:
        found = workers.map_async(met, range(size), chunksize=1).get(WAIT)
    assert sorted(doubled for _, doubled in found) == [0, 2, 4]
    assert len({pid for pid, _ in found}) == size


@forking
def test_pools_side_by_side_each_keep_their_own_job():
    with pool(1, "morning") as morning, pool(1, "evening") as evening:
        assert morning.apply(seen)[1] == "morning" and evening.apply(seen)[1] == "evening"
        assert job() is None
    with pool(1, "late") as late:
        assert late.apply(seen)[1] == "late"


@forking
def test_the_build_process_never_has_a_job():
    assert job() is None
    with pool(2, "render") as workers:
        assert workers.apply(seen)[1] == "render"
        assert job() is None
    assert job() is None


INTERRUPTED_BUILD = textwrap.dedent("""
    import os, signal
    from broadsheet.workers import pool

    with pool(1, None) as workers:
        worker = workers.apply(os.getpid)
        os.kill(worker, signal.SIGINT)
        print(worker, workers.apply_async(os.getpid).get(10), flush=True)
""")


@forking
def test_a_worker_ignores_ctrl_c():
    # Ctrl-C reaches every process of the group: the build stops its workers, none may stop on its own. (In a
    # process of its own: a pool whose worker died can hang on closing.)
    run = subprocess.run([sys.executable, "-c", INTERRUPTED_BUILD], cwd=PROJECT, capture_output=True, text=True,
                         timeout=3 * WAIT)
    assert run.returncode == 0, run.stderr
    before, after = run.stdout.split()
    assert after == before  # the same worker answered after the interrupt


def gone(pid: int) -> bool:
    """Whether a process has ended (a zombie nobody reaped has ended too)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return True
    return state in ("Z", "X")


BUSY_BUILD = textwrap.dedent("""
    import os, time
    from broadsheet.workers import pool

    def render():
        print(os.getpid(), flush=True)
        time.sleep(120)

    with pool(1, None) as workers:
        workers.apply_async(render)
        time.sleep(120)
""")


@forking
@pytest.mark.skipif(not LINUX, reason="only Linux can ask that a process die with its parent")
def test_a_worker_dies_when_the_build_is_killed():
    build = subprocess.Popen([sys.executable, "-c", BUSY_BUILD], cwd=PROJECT, stdout=subprocess.PIPE, text=True)
    worker = 0
    try:
        worker = int(build.stdout.readline())  # printed by the worker once it is busy rendering
        build.kill()
        build.wait(WAIT)
        deadline = time.monotonic() + WAIT
        while not gone(worker) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert gone(worker), f"worker {worker} outlived its killed build"
    finally:
        if build.poll() is None:
            build.kill()
            build.wait(WAIT)
        if worker and not gone(worker):
            os.kill(worker, signal.SIGKILL)
        build.stdout.close()
