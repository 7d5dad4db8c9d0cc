"""Worker processes (synthesis, prepare's decoding): their start method, and a clear error when they cannot start.

Workers are started with forkserver or spawn, and each imports the main
module of the process that starts them. A script that calls `keras_ser.fit`,
`pipelines.prepare.prepare` or `keras_ser.synth.generate` at top level, without the
`if __name__ == "__main__":` guard, therefore re-runs itself in every worker,
where starting further processes fails: the workers die while starting.
Without a check, a `multiprocessing.Pool` replaces them forever (a hang)
and a process pool breaks on every job (each file skipped as a crash).
"""

import multiprocessing
import os
from typing import List


def worker_context(preload: List[str]):
    """forkserver with `preload` imported once in the server (each worker is then forked with those
    modules loaded, in milliseconds); spawn where forkserver is unavailable. The preload list is the
    process's: it takes effect when this process's forkserver starts, i.e. for the first such pool."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(preload)
        return context
    return multiprocessing.get_context("spawn")


class WorkersCannotStart(RuntimeError):
    """Worker processes die while starting, before doing any work."""


def check_start(context, what: str, hint: str = "") -> None:
    """Starts one process of the multiprocessing `context`; raises WorkersCannotStart unless it exits cleanly."""
    probe = context.Process(target=os.getpid, name=f"{what}-start-check")
    probe.start()
    probe.join()
    if probe.exitcode != 0:
        raise WorkersCannotStart(
            f"{what}: worker processes die while starting (exit code {probe.exitcode}), before any work. "
            "A script that calls keras_ser.fit, prepare or synthesis must make that call under "
            "`if __name__ == \"__main__\":`, because each worker process imports the script's main module "
            "(the workers' own traceback is printed above)" + (f"; {hint}" if hint else "") + ".")
