"""Shared fixture: the four corpora generated once, at tiny scale, for the whole synth suite."""

import io
import json
import os

import pytest

from keras_ser.synth import generate


@pytest.fixture(scope="session")
def tiny(shared_folder):
    """(out_dir, roots, progress log) of one tiny generation with seed 0 on two workers.

    Generated once per test run (`shared_folder`: the xdist workers share it). Read-only.
    """
    def build(folder):
        log = io.StringIO()
        roots = generate(os.path.join(folder, "out"), scale="tiny", seed=0, workers=2, log=log)
        with open(os.path.join(folder, "generated.json"), "w", encoding="utf-8") as f:
            json.dump({"roots": roots, "log": log.getvalue()}, f)

    folder = shared_folder("synth_tiny", build)
    with open(os.path.join(folder, "generated.json"), encoding="utf-8") as f:
        generated = json.load(f)
    return os.path.join(folder, "out"), generated["roots"], generated["log"]
