"""Atomic writes: a file that marks work as done is never seen half-written.

Each writer goes to a temporary name in the same folder (so the rename stays
on one filesystem) and renames it into place; a killed process leaves only a
`*.tmp<pid>` file, which no reader takes for the real one.
"""

import json
import os


def atomic_write_bytes(path: str, data: bytes) -> None:
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def atomic_write_text(path: str, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str, value, **dump_options) -> None:
    atomic_write_text(path, json.dumps(value, indent=1, **dump_options))
