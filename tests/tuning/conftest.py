import pytest

from tests.tuning.helpers import write_tiny_config


@pytest.fixture(scope="session")
def tiny_config_path(tones, tmp_path_factory):
    return write_tiny_config(str(tmp_path_factory.mktemp("tuning_config")), tones)
