"""keras_ser.corpora: the ADAPTERS registry and get_adapter."""

import pytest

from keras_ser.corpora import ADAPTERS, CorpusAdapter, LayoutError, get_adapter

EXPECTED = {"emodb", "savee", "iemocap", "msp_improv", "ravdess", "cremad", "tess", "emovo", "manifest"}


def test_registry_names():
    assert set(ADAPTERS) == EXPECTED
    for name, adapter in ADAPTERS.items():
        assert issubclass(adapter, CorpusAdapter) and adapter.name == name and adapter.layout


def test_unknown_name_lists_accepted_ones(tmp_path):
    with pytest.raises(ValueError, match="unknown corpus 'emo_db'; accepted: cremad, emodb, emovo"):
        get_adapter("emo_db", str(tmp_path))


def test_missing_root_is_a_layout_error(tmp_path):
    with pytest.raises(LayoutError, match="does not exist"):
        get_adapter("emodb", str(tmp_path / "absent"))
