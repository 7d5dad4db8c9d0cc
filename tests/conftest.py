"""The suite's guards and shared fixtures.

Guards, for every test and every subprocess it starts:
- `KERAS_SER_CACHE` points to a temporary folder of the test run (never the
  user's `~/.cache/keras_ser`);
- the working directory is a temporary folder, so a command line's default
  output (`saved_models/...`) never lands in the checkout;
- `PYTHONPATH` starts with this checkout, so a `python -m ...` child imports
  the code under test.

Parallel runs (`-n 2 --dist loadgroup`, set in setup.cfg): tests carrying
`pytest.mark.xdist_group(name)` run on one worker, one after the other.
Groups used:
- "cluster": loopback clusters (MultiWorkerMirroredStrategy workers,
  KerasTuner chief and workers), so two clusters never share the CPU;
- "fit_reference", "export", "experiments": tests sharing a fixture that
  trains, so it trains once.
The order is longest first, so that the short tests fill in at the end
and both workers finish together (a long test started last would run alone
on one core): the groups in `GROUP_ORDER`, then the tests marked `slow`,
then the rest.

Fixtures:
- `tones`: the tiny tone corpora (`tests.helpers.tiny_prepared`: Emo-DB
  layout, 5 German speakers; SAVEE layout, 4 English speakers), prepared
  once per test run and shared by every worker. Read-only: a test that
  damages prepared data builds its own.
- `shared_folder(name, build)`: the same once-per-run sharing for other data.
- `reference_run`: one finished `keras_ser.fit` run on `tones` (tiny model,
  both tasks, 4 epochs), trained once per test run, in-process, through the
  command line. Tests that compare a resumed, repeated or killed run with
  it use `reference_run.args` (and mark themselves
  `xdist_group("fit_reference")`); tests that change a run folder work on
  `copy_run(reference_run.out, ...)`.
- `emodb_root`, `emovo_root`: the real corpora next to the checkout. Missing, their tests
  skip, except in CI (`CI=true`) where the corpus is always present and a
  skip would hide a broken path: there they fail.
"""

import contextlib
import io
import os
import pathlib
import shutil
import types

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO = pathlib.Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
EMODB = SHARED / "corpora" / "emodb"
EMOVO = SHARED / "corpora" / "emovo"

# Longest first; then the slow tests, then the rest, each in collection order.
GROUP_ORDER = ("cluster", "experiments", "export", "fit_reference")


def pytest_collection_modifyitems(config, items):
    def rank(item):
        marker = item.get_closest_marker("xdist_group")
        name = (marker.kwargs.get("name") or marker.args[0]) if marker else None
        if name in GROUP_ORDER:
            return GROUP_ORDER.index(name)
        return len(GROUP_ORDER) + (0 if item.get_closest_marker("slow") else 1)

    items[:] = sorted(items, key=rank)  # stable: collection order within a rank


def _run_folder(tmp_path_factory) -> pathlib.Path:
    """The folder every xdist worker of this test run shares (the base temp folder without xdist)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@pytest.fixture(scope="session", autouse=True)
def guard_shared_locations(tmp_path_factory):
    base = tmp_path_factory.getbasetemp()
    cwd = base / "cwd"
    cwd.mkdir(exist_ok=True)
    saved = {key: os.environ.get(key) for key in ("KERAS_SER_CACHE", "PYTHONPATH")}
    previous_cwd = os.getcwd()
    os.environ["KERAS_SER_CACHE"] = str(base / "keras_ser_cache")
    os.environ["PYTHONPATH"] = os.pathsep.join([str(REPO)] + ([saved["PYTHONPATH"]] if saved["PYTHONPATH"] else []))
    os.chdir(cwd)
    yield
    os.chdir(previous_cwd)
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="session")
def shared_folder(tmp_path_factory):
    """shared_folder(name, build) -> path: `build(folder)` runs once per test run, on whichever
    worker asks first; the others wait on a file lock and reuse the folder."""
    from filelock import FileLock

    root = _run_folder(tmp_path_factory)

    def get(name, build):
        folder = root / name
        done = root / f"{name}.done"
        with FileLock(str(root / f"{name}.lock")):
            if not done.exists():
                shutil.rmtree(folder, ignore_errors=True)  # a build that failed half-way
                build(str(folder))
                done.touch()
        return str(folder)

    return get


@pytest.fixture(scope="session")
def tones(shared_folder):
    """Prepared tiny tone corpora: emodb (German, 5 speakers) and savee (English, 4 speakers). Read-only."""
    from tests.helpers import tiny_prepared

    return os.path.join(shared_folder("tones", tiny_prepared), "prepared")


REFERENCE_ARGS = ["--epochs", "4", "--batch-size", "16", "--seed", "1"]


@pytest.fixture(scope="session")
def reference_run(shared_folder, tones):
    """SimpleNamespace(out=run folder, args=command line without --out, printed=its standard output)."""
    from keras_ser.fit import main
    from tests.helpers import tiny_model_config

    def command(folder):
        return ["--prepared", tones, "--config", os.path.join(folder, "tiny_model.yaml"), *REFERENCE_ARGS]

    def build(folder):
        os.makedirs(folder)
        tiny_model_config(folder)
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            assert main(command(folder) + ["--out", os.path.join(folder, "run")]) == 0
        pathlib.Path(folder, "printed.txt").write_text(printed.getvalue())

    folder = shared_folder("reference_run", build)
    return types.SimpleNamespace(out=os.path.join(folder, "run"), args=command(folder),
                                 printed=pathlib.Path(folder, "printed.txt").read_text())


def copy_run(run: str, folder) -> str:
    """A copy of a finished run folder at `folder`/run, to continue or damage."""
    return shutil.copytree(run, os.path.join(folder, "run"))


def require_shared(path: pathlib.Path, what: str) -> None:
    """Skips when `path` is missing, fails instead under CI=true."""
    if path.exists():
        return
    message = f"{what} is not at {path} (expected in ../shared next to the repository)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message + "; CI always has it", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def emodb_root():
    require_shared(EMODB / "wav", "the real Emo-DB")
    return str(EMODB)


@pytest.fixture(scope="session")
def emovo_root():
    require_shared(EMOVO / "f1", "the real EMOVO")
    return str(EMOVO)
