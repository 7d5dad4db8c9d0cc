"""Shared fixture: the four corpora generated once, at tiny scale, for the whole synth suite."""

import io

import pytest

from keras_ser.synth import generate


@pytest.fixture(scope="session")
def tiny(tmp_path_factory):
    """(out_dir, roots, progress log) of one tiny generation with seed 0 on two workers."""
    out_dir = str(tmp_path_factory.mktemp("synth_tiny"))
    log = io.StringIO()
    roots = generate(out_dir, scale="tiny", seed=0, workers=2, log=log)
    return out_dir, roots, log.getvalue()
