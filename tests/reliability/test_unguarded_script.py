"""A script that starts worker processes without the `__main__` guard gets a clear error, not a hang.

Workers (synthesis, prepare's decoding) import the script's main module; an
unguarded script re-runs itself there and the workers die while starting.
Before the start check, synthesis's Pool replaced them forever and prepare
skipped every file as "decoding process died".
"""

import os
import subprocess
import sys

import pytest

from tests.conftest import REPO
from tests.helpers import tiny_emodb


def _run_script(path, body, guarded):
    lines = body.strip().splitlines()
    if guarded:
        lines = ['if __name__ == "__main__":'] + ["    " + line for line in lines]
    path.write_text("\n".join(lines) + "\n")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, str(path)], cwd=str(path.parent), env=env, capture_output=True,
                          text=True, timeout=240)


@pytest.mark.slow
@pytest.mark.parametrize("guarded", [False, True], ids=["unguarded", "guarded"])
def test_prepare_from_a_script(tmp_path, guarded):
    root = tiny_emodb(str(tmp_path / "emodb"))
    done = _run_script(tmp_path / "prepare_script.py", f"""
from pipelines.prepare import prepare
summary = prepare({{"emodb": {root!r}}}, {str(tmp_path / "out")!r}, workers=2, verbose=False)
print("SEGMENTS", summary["corpora"]["emodb"]["train"]["segments"])
""", guarded)
    if guarded:
        assert done.returncode == 0, done.stderr[-3000:]
        assert int(done.stdout.split("SEGMENTS")[1]) > 0
        with open(tmp_path / "out" / "manifest.csv") as f:
            assert "decoding process died" not in f.read()
    else:
        assert done.returncode != 0
        assert "prepare: worker processes die while starting" in done.stderr
        assert 'if __name__ == "__main__":' in done.stderr
        assert not (tmp_path / "out" / "manifest.csv").exists()


def test_synthesis_from_an_unguarded_script_fails_instead_of_hanging(tmp_path):
    done = _run_script(tmp_path / "synth_script.py", f"""
import io
from keras_ser.synth import generate
generate({str(tmp_path / "out")!r}, scale="tiny", seed=0, corpora=["savee"], workers=2, log=io.StringIO())
""", guarded=False)
    assert done.returncode != 0
    assert "synthesis: worker processes die while starting" in done.stderr
    assert 'if __name__ == "__main__":' in done.stderr
