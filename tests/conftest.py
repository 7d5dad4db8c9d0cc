import os
import pathlib

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO = pathlib.Path(__file__).resolve().parents[1]
EMODB = REPO.parent / "shared" / "corpora" / "emodb"


@pytest.fixture(scope="session")
def emodb_root():
    if not (EMODB / "wav").is_dir():
        pytest.skip(f"the real Emo-DB is not at {EMODB}")
    return str(EMODB)


EMOVO = REPO.parent / "shared" / "corpora" / "emovo"


@pytest.fixture(scope="session")
def emovo_root():
    if not (EMOVO / "f1").is_dir():
        pytest.skip(f"the real EMOVO is not at {EMOVO}")
    return str(EMOVO)
