"""prepare's settings: every data key of --data is read, flags then --set override it, strictly validated."""

import csv
import json
import os

import yaml

from pipelines.prepare import main
from tests.helpers import tiny_emodb


def _test_speakers(out):
    with open(os.path.join(out, "manifest.csv"), newline="") as f:
        return {row["speaker"] for row in csv.DictReader(f) if row["split"] == "test"}


def test_data_file_keys_flags_and_set(tmp_path, capsys):
    root = tiny_emodb(str(tmp_path / "emodb"))
    data = tmp_path / "data.yaml"
    data.write_text(yaml.safe_dump({"corpora": {"emodb": root}, "test_fraction": 0.4, "split_seed": 3,
                                    "val_fraction": 0.2, "synthetic": {"scale": "tiny"}}))
    out = str(tmp_path / "from_file")
    assert main(["--data", str(data), "--out", out, "--workers", "0", "--set", "features.segment_hop=1060"]) == 0
    prepared = json.loads(open(os.path.join(out, "prepared.json")).read())
    assert prepared["test_fraction"] == 0.4 and prepared["split_seed"] == 3
    assert prepared["features"]["segment_hop"] == 1060
    assert len(_test_speakers(out)) == 2  # 40 % of 5 speakers, not the default 20 %
    assert "val_fraction, which fit reads and prepare does not" in capsys.readouterr().err

    flag = str(tmp_path / "flag")
    assert main(["--data", str(data), "--out", flag, "--workers", "0", "--test-fraction", "0.2"]) == 0
    assert len(_test_speakers(flag)) == 1  # the flag wins over the file


def test_bad_settings_exit_2_before_any_work(tmp_path, capsys):
    root = tiny_emodb(str(tmp_path / "emodb"))
    data = tmp_path / "data.yaml"
    data.write_text(yaml.safe_dump({"corpora": {"emodb": root}, "test_fractoin": 0.4}))
    out = tmp_path / "out"
    assert main(["--data", str(data), "--out", str(out)]) == 2
    assert "test_fractoin: unknown key" in capsys.readouterr().err
    assert main(["--corpus", f"emodb={root}", "--out", str(out), "--set", "train.epochs=3"]) == 2
    assert "data.* and features.* settings only" in capsys.readouterr().err
    assert main(["--corpus", f"emodb={root}", "--out", str(out), "--set", "data.test_fraction=2"]) == 2
    assert "data.test_fraction: 2.0 is outside the accepted range" in capsys.readouterr().err
    assert not out.exists()
