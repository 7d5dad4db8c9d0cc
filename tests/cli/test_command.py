"""The keras-ser command: every subcommand is its `python -m` module, and --help never imports TensorFlow."""

import configparser
import json
import os
import subprocess
import sys

import pytest

from keras_ser.cli import COMMANDS, main
from tests.conftest import REPO

MODULES = {"synth": "keras_ser.synth", "prepare": "pipelines.prepare", "fit": "keras_ser.fit",
           "search": "tuning.search", "experiments": "keras_ser.experiments", "export": "keras_ser.export",
           "predict": "keras_ser.predict"}
HEAVY = ("tensorflow", "keras", "keras_tuner")


def _env():
    return {**os.environ, "PYTHONPATH": str(REPO)}


def test_the_console_script_is_declared():
    setup = configparser.ConfigParser()
    setup.read(REPO / "setup.cfg")
    scripts = [line.strip() for line in setup["options.entry_points"]["console_scripts"].splitlines() if line.strip()]
    assert scripts == ["keras-ser = keras_ser.cli:main"]
    assert sorted(COMMANDS) == sorted(MODULES)


@pytest.mark.parametrize("command", sorted(MODULES))
def test_help_imports_no_tensorflow_and_matches_the_module(command):
    code = ("import json, sys\nfrom keras_ser.cli import main\ntry:\n    main([%r, '--help'])\n"
            "except SystemExit as exit:\n    assert exit.code == 0, exit.code\n"
            "print(json.dumps(sorted(m for m in %r if m in sys.modules)), file=sys.stderr)" % (command, HEAVY))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_env(), cwd=REPO)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stderr.strip().splitlines()[-1]) == []
    assert out.stdout.startswith(f"usage: keras-ser {command} ")
    module = subprocess.run([sys.executable, "-m", MODULES[command], "--help"], capture_output=True, text=True,
                            env=_env(), cwd=REPO, check=True)
    # The same parser: only the program name (and so the line wrapping) differs.
    def words(text):
        return text.replace(f"python -m {MODULES[command]}", f"keras-ser {command}").split()

    assert words(module.stdout) == words(out.stdout)


def test_unknown_command_and_bare_call(capsys):
    assert main(["train"]) == 2
    assert "unknown command 'train'" in capsys.readouterr().err
    assert main([]) == 2
    listing = capsys.readouterr().out
    assert all(f"  {name} " in listing for name in MODULES)


def test_python_dash_m_keras_ser_is_the_command():
    out = subprocess.run([sys.executable, "-m", "keras_ser", "predict", "--help"], capture_output=True, text=True,
                         env=_env(), cwd=REPO)
    assert out.returncode == 0 and out.stdout.startswith("usage: keras-ser predict ")
