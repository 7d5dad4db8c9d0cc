import pytest

from tests.helpers import tiny_prepared
from tests.tuning.helpers import write_tiny_config


@pytest.fixture(scope="session")
def tiny_config_path(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tuning_tones")
    return write_tiny_config(str(folder), tiny_prepared(str(folder)))
