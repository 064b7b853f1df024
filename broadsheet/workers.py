"""Worker processes for the build's two parallel stages: reading sources and rendering pages.

The workers are forked, so each inherits the build's memory (the Markdown instance, the site, the layouts)
without copying it through a pipe. What a worker is started for, its job, is handed to it by the pool's
initializer and kept in this module in the worker alone: the one piece of module state in Broadsheet,
and never set in the build's own process.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import multiprocessing.pool
import os
import signal
import sys
from collections.abc import Iterator
from typing import Any

_PR_SET_PDEATHSIG = 1
_job: Any = None  # this worker process's job (see pool); None in the build's process


def can_fork() -> bool:
    """Whether worker processes can be forked here (not on Windows, nor macOS's default)."""
    return "fork" in multiprocessing.get_all_start_methods()


@contextlib.contextmanager
def pool(size: int, job: Any) -> Iterator[multiprocessing.pool.Pool]:
    """`size` forked worker processes, each started with `job` (read it there with `job()`)."""
    with multiprocessing.get_context("fork").Pool(size, _start, (job,)) as workers:
        yield workers


def job() -> Any:
    """The job this worker process was started with."""
    return _job


def _start(job: Any) -> None:
    """In a worker process: keep its job; Ctrl-C is the build's to handle (it stops the workers), not each
    worker's; and on Linux the worker dies with the build (a killed build leaves no worker writing into a
    closed pipe)."""
    global _job
    _job = job
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with_parent()


def die_with_parent() -> None:
    """In a forked process: on Linux, be killed when the process that forked it dies."""
    if sys.platform.startswith("linux"):
        parent = os.getppid()
        try:
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        except (OSError, AttributeError):
            return
        if os.getppid() != parent:  # the parent was gone before the request was made
            os._exit(0)
