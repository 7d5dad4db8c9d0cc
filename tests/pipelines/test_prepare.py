"""pipelines.prepare: shards, manifest, summary, splits, bad files and resume."""

import csv
import glob
import json
import os

import numpy as np
import pytest
import tensorflow as tf

from keras_ser.config import DataConfig, FeatureConfig
from keras_ser.features import load_waveform, log_spectrogram_segments
from pipelines.prepare import main, prepare
from pipelines.records import parse_segments
from tests.helpers import tiny_emodb


def _manifest(out):
    with open(os.path.join(out, "manifest.csv"), newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture
def corpus(tmp_path):
    root = tiny_emodb(str(tmp_path / "emodb"))
    # Broken files next to good ones: each must be skipped with its reason.
    (tmp_path / "emodb" / "wav" / "16a01Wa.wav").write_bytes(b"")
    (tmp_path / "emodb" / "wav" / "16a02Na.wav").write_bytes(os.urandom(2048))
    return root


def test_shards_manifest_and_summary(corpus, tmp_path):
    out = str(tmp_path / "prepared")
    summary = prepare({"emodb": corpus}, out, workers=1, verbose=False)
    rows = _manifest(out)
    assert len(rows) == 22
    skipped = {r["utterance_id"]: r["reason"] for r in rows if r["status"] == "skipped"}
    assert skipped == {"16a01Wa": "empty file",
                       "16a02Na": f"undecodable audio: Error opening {os.path.join(corpus, 'wav', '16a02Na.wav')!r}: "
                                  "Format not recognised."}
    ok = [r for r in rows if r["status"] == "ok"]
    assert all(int(r["n_segments"]) == 4 for r in ok)  # 0.6 s = 9600 samples: 1 + 2 hops + tail
    assert summary["feature_shape"] == [32, 129, 1]
    splits = summary["corpora"]["emodb"]
    assert sum(s["utterances_ok"] for s in splits.values()) == 20
    assert sum(s["utterances_skipped"] for s in splits.values()) == 2
    assert sum(s["segments"] for s in splits.values()) == 80
    # Speaker-independent split: every speaker on one side only, 20 % held out.
    sides = {}
    for r in ok:
        sides.setdefault(r["speaker"], set()).add(r["split"])
    assert all(len(s) == 1 for s in sides.values())
    assert sorted(s.pop() for s in sides.values()).count("test") == 1
    prepared = json.load(open(os.path.join(out, "prepared.json")))
    assert len(prepared["normalisation"]["mean"]) == 129


def test_tfrecord_round_trip_equals_features(corpus, tmp_path):
    out = str(tmp_path / "prepared")
    prepare({"emodb": corpus}, out, workers=1, verbose=False)
    shard = os.path.join(out, "shards", "emodb", "08.tfrecord")
    records = list(tf.data.TFRecordDataset(shard).batch(100))
    parsed = parse_segments(records[0], (32, 129))
    ids = [u.decode() for u in parsed["utterance_id"].numpy()]
    assert ids[:4] == ["08a01Wa"] * 4 and set(parsed["speaker"].numpy()) == {b"emodb/08"}
    assert list(parsed["segment_index"].numpy()[:4]) == [0, 1, 2, 3]
    assert parsed["arousal"].numpy()[0] == 1 and parsed["valence"].numpy()[0] == 0
    assert parsed["gender"].numpy()[0] == b"f" and parsed["language"].numpy()[0] == b"de"
    waveform, _ = load_waveform(os.path.join(corpus, "wav", "08a01Wa.wav"), FeatureConfig())
    expected = log_spectrogram_segments(waveform, FeatureConfig()).numpy()
    np.testing.assert_array_equal(parsed["spectrogram"].numpy()[:4], expected)


@pytest.mark.parametrize("batch", [4096, 5])
def test_batched_spectrograms_equal_each_utterance_alone(batch, monkeypatch):
    # prepare cuts every file into segments in NumPy and runs the STFT over many files at
    # once (in chunks of SPECTROGRAM_BATCH segments): bit for bit what the exported graph
    # computes from each waveform alone, for every length case of the segment contract.
    import pipelines.prepare as prepare_module

    monkeypatch.setattr(prepare_module, "SPECTROGRAM_BATCH", batch)
    rng = np.random.default_rng(0)
    lengths = [100, 4240, 4240 + 1059, 4240 + 1060, 16000, 40000 + 7]
    waveforms = [rng.normal(0, 0.1, n).astype(np.float32) for n in lengths]
    batched = prepare_module.spectrogram_fn(FeatureConfig())(waveforms)
    assert len(batched) == len(waveforms)
    for waveform, spectrograms in zip(waveforms, batched):
        np.testing.assert_array_equal(spectrograms, log_spectrogram_segments(waveform, FeatureConfig()).numpy())


def test_rerun_redoes_only_missing_shards(corpus, tmp_path):
    out = str(tmp_path / "prepared")
    first = prepare({"emodb": corpus}, out, workers=1, verbose=False)
    assert first["shards_written"] == 6
    before = {p: open(p, "rb").read() for p in glob.glob(os.path.join(out, "shards", "*", "*.tfrecord"))}
    manifest_before = open(os.path.join(out, "manifest.csv")).read()
    # An interrupted run: one receipt never written, a half-written temp file left behind.
    os.remove(os.path.join(out, "shards", "emodb", "09.json"))
    open(os.path.join(out, "shards", "emodb", "09.tfrecord.tmp999"), "wb").write(b"partial")
    second = prepare({"emodb": corpus}, out, workers=1, verbose=False)
    assert second["shards_written"] == 1
    after = {p: open(p, "rb").read() for p in glob.glob(os.path.join(out, "shards", "*", "*.tfrecord"))}
    assert after == before
    assert open(os.path.join(out, "manifest.csv")).read() == manifest_before


def test_two_workers_write_the_same_shards(corpus, tmp_path):
    one, two = str(tmp_path / "one"), str(tmp_path / "two")
    prepare({"emodb": corpus}, one, workers=1, verbose=False)
    prepare({"emodb": corpus}, two, workers=2, verbose=False)
    for path in glob.glob(os.path.join(one, "shards", "*", "*.tfrecord")):
        assert open(path, "rb").read() == open(path.replace(one, two), "rb").read()


def test_split_is_deterministic_for_a_seed(corpus, tmp_path):
    a = prepare({"emodb": corpus}, str(tmp_path / "a"), data=DataConfig(split_seed=3), workers=1, verbose=False)
    b = prepare({"emodb": corpus}, str(tmp_path / "b"), data=DataConfig(split_seed=3), workers=1, verbose=False)
    assert a["corpora"] == b["corpora"]


def test_cli_rejects_a_root_without_the_layout(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert main(["--corpus", f"emodb={tmp_path / 'empty'}", "--out", str(tmp_path / "out")]) == 2
    assert "wav/" in capsys.readouterr().err


def test_cli_rejects_a_malformed_corpus_argument(tmp_path, capsys):
    assert main(["--corpus", "emodb", "--out", str(tmp_path / "out")]) == 2
    assert "NAME=ROOT" in capsys.readouterr().err


def test_corrupted_shard_is_rewritten_by_a_rerun(corpus, tmp_path):
    out = str(tmp_path / "prepared")
    prepare({"emodb": corpus}, out, workers=1, verbose=False)
    shard = os.path.join(out, "shards", "emodb", "10.tfrecord")
    good = open(shard, "rb").read()
    with open(shard, "r+b") as f:
        f.seek(100)
        f.write(b"\x00garbage\x00")
    assert prepare({"emodb": corpus}, out, workers=1, verbose=False)["shards_written"] == 1
    assert open(shard, "rb").read() == good


def test_the_prepare_process_imports_tensorflow_without_keras_and_leaves_tf_keras_working(tmp_path):
    import subprocess
    import sys

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    out = tmp_path / "prepared"
    script = (
        "import os, sys\n"
        "from pipelines.prepare import main\n"
        f"assert main(['--corpus', 'emodb={tiny_emodb(str(tmp_path / 'emodb'))}', '--out', {str(out)!r}]) == 0\n"
        "print('keras' in sys.modules, 'sklearn' in sys.modules, os.environ.get('TF_USE_LEGACY_KERAS'))\n"
        "import tensorflow as tf\n"
        "print(tf.keras.layers.Dense.__module__.split('.')[0])\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "TF_USE_LEGACY_KERAS"}
    done = subprocess.run([sys.executable, "-c", script], cwd=root, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["False", "False", "None", "keras"]
    assert json.loads((out / "summary.json").read_text())["corpora"]["emodb"]["train"]["segments"] > 0


def test_decoding_workers_start_with_the_decoder_imported_and_without_tensorflow(tmp_path):
    """Workers are forked from a forkserver that preloaded the decoder, even when the caller has TensorFlow."""
    import subprocess
    import sys

    from tests.conftest import REPO

    script = (
        "import os, sys\n"
        "import tensorflow\n"
        "from pipelines.prepare import DecodePool\n"
        "from tests.helpers import modules_seen_by_the_worker as reader\n"
        "results = [r for _, r in DecodePool(2).map([(f'f{i}.wav', 16000, 0.1, reader) for i in range(8)])]\n"
        "assert all(reason == '' for _, _, reason in results), results\n"
        "pids = {int(w[0]) for w, _, _ in results}\n"
        "print(len(pids), os.getpid() not in pids, all(w[1] == 1 for w, _, _ in results),"
        " any(w[2] == 1 for w, _, _ in results), 'scipy.signal' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    # two workers, not this process; scipy's resampler already there, no TensorFlow; the caller never imported scipy
    assert done.stdout.split() == ["2", "True", "True", "False", "False"]
