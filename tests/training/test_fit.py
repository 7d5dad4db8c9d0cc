"""keras_ser.fit end to end on tiny tone corpora (two corpora, two languages)."""

import json
import os

import pytest
import yaml

from keras_ser.config import load_fit_config
from keras_ser.fit import main, run_fit
from tests.helpers import TINY_MODEL, tiny_model_config, tiny_prepared

FAST = ["--batch-size", "16", "--seed", "1"]


@pytest.fixture(scope="module")
def fast(tmp_path_factory):
    return FAST + ["--config", tiny_model_config(str(tmp_path_factory.mktemp("config")))]


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    return tiny_prepared(str(tmp_path_factory.mktemp("tones")))


def _config(prepared, out, **overrides):
    tree = {"data": {"prepared": prepared}, "out": str(out), "model": dict(TINY_MODEL),
            "train": {"batch_size": 16, "epochs": 2, "seed": 1}}
    for key, value in overrides.items():
        node = tree
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return load_fit_config(None, tree)


def test_cli_writes_the_run_folder(prepared, fast, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["--prepared", prepared, "--epochs", "2", "--out", str(out), *fast]) == 0
    for name in ("config.yaml", "results.json", "results.md", "history.json", "speakers.json", "best.weights.h5"):
        assert (out / name).exists(), name
    assert any(f.startswith("events") for f in os.listdir(out / "tensorboard"))
    assert os.listdir(out / "checkpoints")
    results = json.loads((out / "results.json").read_text())
    assert results["system"] == "DANN_2 (S+C)" and results["tasks"] == ["arousal", "valence"]
    for task in ("arousal", "valence"):
        for corpus in ("emodb", "savee"):
            entry = results["test"][task][corpus]
            assert 0 <= entry["utterance"]["ua"] <= 1 and entry["segment"]["count"] > entry["utterance"]["count"]
            assert len(entry["utterance"]["confusion"]) == 2
    history = json.loads((out / "history.json").read_text())
    assert [h["epoch"] for h in history] == [1, 2]
    for key in ("arousal_softmax", "arousal_center", "gender_domain", "language_domain", "corpus_domain",
                "corpus_accuracy", "val_ua"):
        assert key in history[0], key
    printed = capsys.readouterr().out
    assert "| DANN_2 (S+C) |" in printed and "Arousal UA" in printed
    # The run loads back with its best weights and normalisation.
    from keras_ser.runs import load_run
    import numpy as np

    run = load_run(str(out))
    assert run.mean.shape == (129,) and run.vocabulary["corpus"] == ["emodb", "savee"]
    probabilities = run.network.inference_model(np.zeros((2, 32, 129, 1), "float32"))
    np.testing.assert_allclose(np.sum(probabilities["arousal"], axis=1), 1.0, rtol=1e-5)
    # The resolved config is accepted as it is.
    saved = yaml.safe_load((out / "config.yaml").read_text())
    assert load_fit_config(str(out / "config.yaml")).model.lambda_ == saved["model"]["lambda"] == 0.5


def test_learns_arousal_of_loud_high_versus_soft_low_tones(prepared, tmp_path):
    results = run_fit(_config(prepared, tmp_path / "run", task="arousal", **{"train.epochs": 10}), verbose=False)
    assert results["test"]["arousal"]["average"]["utterance"]["ua"] >= 0.9


def test_same_seed_same_metrics(prepared, tmp_path):
    first = run_fit(_config(prepared, tmp_path / "a"), verbose=False)
    second = run_fit(_config(prepared, tmp_path / "b"), verbose=False)
    assert first["test"] == second["test"]
    assert json.load(open(tmp_path / "a" / "history.json")) == json.load(open(tmp_path / "b" / "history.json"))


class Interrupt(Exception):
    pass


def test_resume_after_interruption_gives_the_uninterrupted_result(prepared, tmp_path):
    full = run_fit(_config(prepared, tmp_path / "full", **{"train.epochs": 3}), verbose=False)

    def stop_after_second_epoch(record):
        if record["epoch"] == 2:
            raise Interrupt

    config = _config(prepared, tmp_path / "cut", **{"train.epochs": 3})
    with pytest.raises(Interrupt):
        run_fit(config, verbose=False, on_epoch_end=stop_after_second_epoch)
    resumed = run_fit(config, resume=True, verbose=False)
    assert resumed["test"] == full["test"]
    history = json.load(open(tmp_path / "cut" / "history.json"))
    assert [h["epoch"] for h in history] == [1, 2, 3]
    assert history == json.load(open(tmp_path / "full" / "history.json"))


def test_existing_run_needs_resume_or_overwrite(prepared, fast, tmp_path, capsys):
    args = ["--prepared", prepared, "--epochs", "1", "--out", str(tmp_path / "run"), *fast]
    assert main(args) == 0
    assert main(args) == 2
    assert "--resume" in capsys.readouterr().err
    assert main(args + ["--overwrite"]) == 0


def test_cross_protocol_tests_on_targets_with_unlabelled_target_audio(prepared, tmp_path):
    config = _config(prepared, tmp_path / "cross", protocol="cross", source="savee", targets=["emodb"],
                     task="arousal", **{"model.preset": "dann2"})
    results = run_fit(config, verbose=False)
    assert list(results["test"]["arousal"]) == ["emodb", "average"]
    speakers = json.load(open(tmp_path / "cross" / "speakers.json"))
    assert all(s.startswith("savee/") for s in speakers["plan"]["train"] + speakers["plan"]["val"])
    assert sorted(speakers["plan"]["unlabelled"]) == sorted(speakers["plan"]["test"])
    assert speakers["vocabulary"]["language"] == ["de", "en"]


def test_target_split_holds_out_target_speakers(prepared, tmp_path):
    config = _config(prepared, tmp_path / "split", protocol="cross", source="savee", targets=["emodb"],
                     target_split=True, task="arousal", **{"train.epochs": 1})
    run_fit(config, verbose=False)
    plan = json.load(open(tmp_path / "split" / "speakers.json"))["plan"]
    assert plan["test"] and plan["unlabelled"] and not set(plan["test"]) & set(plan["unlabelled"])


def test_multi_protocol_keeps_speakers_apart(prepared, tmp_path):
    run_fit(_config(prepared, tmp_path / "multi", **{"train.epochs": 1, "model.preset": "dann1"}), verbose=False)
    plan = json.load(open(tmp_path / "multi" / "speakers.json"))["plan"]
    train, val, test = set(plan["train"]), set(plan["val"]), set(plan["test"])
    assert not (train & val or train & test or val & test)
    assert {s.split("/")[0] for s in test} == {"emodb", "savee"}


@pytest.mark.parametrize("args, message", [
    (["--lambda", "1.5"], "model.lambda_: 1.5 is outside the accepted range [0.0, 1.0]"),
    (["--gamma", "-0.1"], "model.gamma"),
    (["--protocol", "cross", "--source", "emodb", "--targets", "emodb"], "must differ from the source"),
    (["--protocol", "cross", "--targets", "emodb"], "needs a source corpus"),
])
def test_bad_settings_fail_before_any_work(tmp_path, capsys, args, message):
    assert main(args + ["--out", str(tmp_path / "run")]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_unknown_config_key_names_the_accepted_keys(tmp_path, capsys):
    path = tmp_path / "bad.yaml"
    path.write_text("model:\n  gama: 0.3\n")
    assert main(["--config", str(path), "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert "model.gama: unknown key" in err and "gamma" in err


def test_missing_corpus_root_is_named(tmp_path, capsys):
    path = tmp_path / "data.yaml"
    path.write_text("corpora:\n  emodb: /nonexistent/emodb\n")
    assert main(["--data", str(path), "--out", str(tmp_path / "run")]) == 2
    assert "data.corpora.emodb: root '/nonexistent/emodb' does not exist" in capsys.readouterr().err


def test_corrupted_checkpoint_is_a_clear_error(prepared, fast, tmp_path, capsys):
    out = tmp_path / "run"
    args = ["--prepared", prepared, "--epochs", "2", "--out", str(out), *fast]
    assert main(args[:2] + ["--epochs", "1"] + args[4:]) == 0
    data = next((out / "checkpoints").glob("ckpt-1.data-*"))
    raw = bytearray(data.read_bytes())
    raw[len(raw) // 2: len(raw) // 2 + 64] = b"\x13" * 64
    data.write_bytes(bytes(raw))
    assert main(args + ["--resume"]) == 2
    err = capsys.readouterr().err
    assert "cannot restore checkpoint" in err and "ckpt-1" in err
