"""Worker processes (synthesis, prepare's decoding): a clear error when they cannot start.

Workers are started with forkserver or spawn, and each imports the main
module of the process that starts them. A script that calls `keras_ser.fit`,
`pipelines.prepare.prepare` or `keras_ser.synth.generate` at top level, without the
`if __name__ == "__main__":` guard, therefore re-runs itself in every worker,
where starting further processes fails: the workers die while starting.
Without a check, a `multiprocessing.Pool` replaces them forever (a hang)
and a process pool breaks on every job (each file skipped as a crash).
"""

import os


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
