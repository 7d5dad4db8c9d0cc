"""One tiny trained run and its export, shared by every test of tests/export.

Package-scoped: training (~20 s) and the four TFLite conversions (~30 s)
happen once for the whole folder; every test module here marks itself
`xdist_group("export")` so they all run on the worker that holds them.
"""

import pytest

from keras_ser.config import load_fit_config
from keras_ser.export import QUANTIZATIONS, export_run
from keras_ser.fit import run_fit


@pytest.fixture(scope="package")
def run_dir(tones, tmp_path_factory):
    folder = tmp_path_factory.mktemp("export_run")
    prepared = tones
    # 8 epochs: confident posteriors on the tones, so the int8 UA bound is
    # about quantization and not about coin flips near 0.5.
    config = load_fit_config(None, {"data": {"prepared": prepared}, "out": str(folder / "run"),
                                    "train": {"batch_size": 16, "epochs": 8, "seed": 1}})
    run_fit(config, verbose=False)
    return str(folder / "run")


@pytest.fixture(scope="package")
def exported(run_dir):
    """{name: {"path", "bytes"}} for savedmodel and tflite_<quantize> of every quantization."""
    return export_run(run_dir, ["savedmodel", "tflite"], QUANTIZATIONS)


@pytest.fixture(scope="package")
def run(run_dir):
    from keras_ser.runs import load_run

    return load_run(run_dir)
