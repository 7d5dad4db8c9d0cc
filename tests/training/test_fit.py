"""keras_ser.fit end to end on tiny tone corpora (two corpora, two languages)."""

import json
import os
import pathlib

import numpy as np
import pytest
import yaml

import keras_ser
from keras_ser.config import load_fit_config
from keras_ser.fit import main, run_fit
from pipelines.dataset import PreparedCorpora
from tests.conftest import copy_run
from tests.helpers import TINY_MODEL

@pytest.fixture(scope="module")
def prepared(tones):
    return tones


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


def _reference_config(reference_run, out):
    """The reference run's settings (its command line) with another output folder."""
    from keras_ser.fit import build_parser, overrides_from_args

    args = build_parser().parse_args(reference_run.args + ["--out", str(out)])
    return load_fit_config(args.config, overrides_from_args(args))


# Tests comparing with (or copying) the reference run share its worker, so it trains once.
uses_reference = pytest.mark.xdist_group("fit_reference")


@uses_reference
def test_cli_writes_the_run_folder(reference_run, prepared):
    out = pathlib.Path(reference_run.out)
    for name in ("config.yaml", "results.json", "results.md", "history.json", "speakers.json", "best.weights.h5"):
        assert (out / name).exists(), name
    assert any(f.startswith("events") for f in os.listdir(out / "tensorboard"))
    assert os.listdir(out / "checkpoints")
    results = json.loads((out / "results.json").read_text())
    assert results["system"] == "DANN_2 (S+C)" and results["tasks"] == ["arousal", "valence"]
    # Counts: every utterance (and segment) of the test speakers, once.
    plan = json.loads((out / "speakers.json").read_text())["plan"]
    rows = [r for r in PreparedCorpora(prepared).utterances if r["speaker"] in set(plan["test"])]
    for task in ("arousal", "valence"):
        for corpus in ("emodb", "savee"):
            entry = results["test"][task][corpus]
            corpus_rows = [r for r in rows if r["corpus"] == corpus]
            assert entry["utterance"]["count"] == len(corpus_rows) == np.sum(entry["utterance"]["confusion"])
            assert entry["segment"]["count"] == sum(int(r["n_segments"]) for r in corpus_rows)
            # UA is the mean recall of the confusion matrix's rows (rows: true class).
            confusion = np.array(entry["utterance"]["confusion"])
            assert entry["utterance"]["ua"] == pytest.approx(np.mean(np.diag(confusion) / confusion.sum(axis=1)))
        assert results["test"][task]["average"]["utterance"]["ua"] == pytest.approx(
            np.mean([results["test"][task][c]["utterance"]["ua"] for c in ("emodb", "savee")]))
    history = json.loads((out / "history.json").read_text())
    assert [h["epoch"] for h in history] == [1, 2, 3, 4]
    for key in ("arousal_softmax", "arousal_center", "gender_domain", "language_domain", "corpus_domain",
                "corpus_accuracy", "val_ua"):
        assert key in history[0], key
    # The best epoch's validation UA is the one kept.
    assert results["best_val_ua"] == pytest.approx(max(h["val_ua"] for h in history))
    printed = reference_run.printed
    assert "| DANN_2 (S+C) |" in printed and "Arousal UA" in printed
    # The run loads back with its best weights and normalisation, and scores on its
    # test speakers exactly what results.json holds.
    from keras_ser.evaluation import collect_predictions, score
    from keras_ser.runs import load_run

    run = load_run(str(out))
    assert run.mean.shape == (129,) and run.vocabulary["corpus"] == ["emodb", "savee"]
    probabilities = run.network.inference_model(np.zeros((2, 32, 129, 1), "float32"))
    np.testing.assert_allclose(np.sum(probabilities["arousal"], axis=1), 1.0, rtol=1e-5)
    rescored = score(collect_predictions(run.network.inference_model, run.split_dataset("test"), run.config.tasks),
                     run.config.tasks)
    assert rescored == results["test"]
    # The resolved config is accepted as it is.
    saved = yaml.safe_load((out / "config.yaml").read_text())
    assert load_fit_config(str(out / "config.yaml")).model.lambda_ == saved["model"]["lambda"] == 0.5


@pytest.mark.slow
def test_learns_arousal_of_loud_high_versus_soft_low_tones(prepared, tmp_path):
    results = run_fit(_config(prepared, tmp_path / "run", task="arousal", **{"train.epochs": 10}), verbose=False)
    assert results["test"]["arousal"]["average"]["utterance"]["ua"] >= 0.9


@uses_reference
def test_same_seed_same_metrics(reference_run, tmp_path):
    again = run_fit(_reference_config(reference_run, tmp_path / "again"), verbose=False)
    assert again["test"] == json.load(open(os.path.join(reference_run.out, "results.json")))["test"]
    assert json.load(open(tmp_path / "again" / "history.json")) == json.load(
        open(os.path.join(reference_run.out, "history.json")))


def test_early_stopping_waits_for_min_epochs(prepared, tmp_path, monkeypatch):
    """Validation that never improves after the first epoch stops a run after 1 + patience
    epochs, but not before train.min_epochs."""
    from keras_ser.training.trainer import Trainer

    validate, first = Trainer.validate, []

    def unchanging(self):
        if not first:
            first.append(validate(self))
        return first[0]

    monkeypatch.setattr(Trainer, "validate", unchanging)
    epochs = {}
    for min_epochs in (0, 3):
        first.clear()
        out = tmp_path / f"min{min_epochs}"
        run_fit(_config(prepared, out, task="arousal", **{"train.epochs": 4, "train.patience": 1,
                                                          "train.min_epochs": min_epochs}), verbose=False)
        epochs[min_epochs] = [h["epoch"] for h in json.load(open(out / "history.json"))]
    assert epochs == {0: [1, 2], 3: [1, 2, 3]}


class Interrupt(Exception):
    pass


@uses_reference
def test_resume_after_interruption_gives_the_uninterrupted_result(reference_run, tmp_path):
    def stop_after_second_epoch(record):
        if record["epoch"] == 2:
            raise Interrupt

    config = _reference_config(reference_run, tmp_path / "cut")
    with pytest.raises(Interrupt):
        run_fit(config, verbose=False, on_epoch_end=stop_after_second_epoch)
    assert not (tmp_path / "cut" / "results.json").exists()
    resumed = run_fit(config, resume=True, verbose=False)
    assert resumed["test"] == json.load(open(os.path.join(reference_run.out, "results.json")))["test"]
    history = json.load(open(tmp_path / "cut" / "history.json"))
    assert [h["epoch"] for h in history] == [1, 2, 3, 4]
    assert history == json.load(open(os.path.join(reference_run.out, "history.json")))


@uses_reference
def test_a_weight_average_changes_what_is_kept_not_how_it_trains_and_resumes_exactly(reference_run, tmp_path):
    def averaged(out):
        config = _reference_config(reference_run, out)
        config.train.ema_momentum = 0.9
        return config

    whole = run_fit(averaged(tmp_path / "whole"), verbose=False)
    history = json.load(open(tmp_path / "whole" / "history.json"))
    reference = json.load(open(os.path.join(reference_run.out, "history.json")))
    # The same training steps, loss for loss; the validation sees the average.
    assert [{k: v for k, v in h.items() if not k.startswith("val")} for h in history] == [
        {k: v for k, v in h.items() if not k.startswith("val")} for h in reference]
    assert [h["val"] for h in history] != [h["val"] for h in reference]

    def stop_after_second_epoch(record):
        if record["epoch"] == 2:
            raise Interrupt

    with pytest.raises(Interrupt):
        run_fit(averaged(tmp_path / "cut"), verbose=False, on_epoch_end=stop_after_second_epoch)
    resumed = run_fit(averaged(tmp_path / "cut"), resume=True, verbose=False)
    assert resumed["test"] == whole["test"]
    assert json.load(open(tmp_path / "cut" / "history.json")) == history


@uses_reference
def test_existing_run_needs_resume_or_overwrite(reference_run, tmp_path, capsys):
    out = copy_run(reference_run.out, tmp_path)
    args = reference_run.args + ["--out", out]
    assert main(args) == 2
    assert "--resume" in capsys.readouterr().err
    assert json.load(open(os.path.join(out, "history.json"))) == json.load(
        open(os.path.join(reference_run.out, "history.json")))
    # --overwrite starts over: one epoch, not the reference's four.
    assert main(args + ["--overwrite", "--epochs", "1"]) == 0
    assert [h["epoch"] for h in json.load(open(os.path.join(out, "history.json")))] == [1]


@pytest.mark.slow
def test_cross_protocol_tests_on_targets_with_unlabelled_target_audio(prepared, tmp_path):
    config = _config(prepared, tmp_path / "cross", protocol="cross", source="savee", targets=["emodb"],
                     task="arousal", **{"model.preset": "dann2"})
    results = run_fit(config, verbose=False)
    assert list(results["test"]["arousal"]) == ["emodb", "average"]
    speakers = json.load(open(tmp_path / "cross" / "speakers.json"))
    assert all(s.startswith("savee/") for s in speakers["plan"]["train"] + speakers["plan"]["val"])
    assert sorted(speakers["plan"]["unlabelled"]) == sorted(speakers["plan"]["test"])
    assert speakers["vocabulary"]["language"] == ["de", "en"]


@pytest.mark.parametrize("args, message", [
    (["--lambda", "1.5"], "model.lambda_: 1.5 is outside the accepted range [0.0, 1.0]"),
    (["--gamma", "-0.1"], "model.gamma"),
    (["--protocol", "cross", "--source", "emodb", "--targets", "emodb"], "must differ from the source"),
    (["--protocol", "cross", "--targets", "emodb"], "needs a source corpus"),
    (["--set", "train.ema_momentum=1.0"], "train.ema_momentum: 1.0 is outside the accepted range [0.0, 1.0)"),
    (["--set", "train.min_epochs=-1"], "train.min_epochs: -1 is outside the accepted range"),
    (["--set", "train.patience=0"], "train.patience: 0 is outside the accepted range"),
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


@uses_reference
def test_corrupted_checkpoint_is_a_clear_error(reference_run, tmp_path, capsys):
    out = copy_run(reference_run.out, tmp_path)
    data = next(pathlib.Path(out, "checkpoints").glob("ckpt-4.data-*"))
    raw = bytearray(data.read_bytes())
    raw[len(raw) // 2: len(raw) // 2 + 64] = b"\x13" * 64
    data.write_bytes(bytes(raw))
    assert main(reference_run.args + ["--out", out, "--resume", "--epochs", "5"]) == 2
    err = capsys.readouterr().err
    assert "cannot restore checkpoint" in err and "ckpt-4" in err and out in err


@uses_reference
def test_best_epoch_weights_that_do_not_fit_are_a_clear_error(reference_run, tmp_path, capsys):
    out = copy_run(reference_run.out, tmp_path)
    best_epoch = pathlib.Path(out, "best_epoch.npz")
    with np.load(best_epoch) as data:
        arrays = {key: data[key] for key in data.files}
    arrays.pop(str(len(arrays) - 1))
    np.savez(best_epoch, **arrays)
    # The run is complete: resuming it only selects the best weights again, from best_epoch.npz.
    assert main(reference_run.args + ["--out", out, "--resume"]) == 2
    err = capsys.readouterr().err
    assert "best_epoch.npz" in err and "do not fit this network" in err


@uses_reference
def test_an_interrupted_run_of_the_earlier_release_resumes_from_its_h5_best_epoch_weights(reference_run, tmp_path):
    """Earlier releases kept the best epoch's weights in best_epoch.weights.h5."""
    from keras_ser.runs import load_run
    from keras_ser.training.trainer import _set_model_arrays

    out = copy_run(reference_run.out, tmp_path)
    model = load_run(out).network.training_model
    _set_model_arrays(model, os.path.join(out, "best_epoch.npz"))
    model.save_weights(os.path.join(out, "best_epoch.weights.h5"))
    # As the earlier release leaves an interrupted run: no best_epoch.npz, no best.weights.h5 yet.
    os.remove(os.path.join(out, "best_epoch.npz"))
    os.remove(os.path.join(out, "best.weights.h5"))
    resumed = run_fit(_reference_config(reference_run, out), resume=True, verbose=False)
    assert resumed["test"] == json.load(open(os.path.join(reference_run.out, "results.json")))["test"]


@uses_reference
def test_resume_needs_only_the_run_folder(reference_run, tmp_path):
    """`--out RUN --resume` continues with the settings in RUN/config.yaml, not the command line's defaults."""
    def stop_after_second_epoch(record):
        if record["epoch"] == 2:
            raise Interrupt

    out = tmp_path / "cut"
    with pytest.raises(Interrupt):
        run_fit(_reference_config(reference_run, out), verbose=False, on_epoch_end=stop_after_second_epoch)
    assert main(["--out", str(out), "--resume"]) == 0
    assert json.load(open(out / "results.json"))["test"] == json.load(
        open(os.path.join(reference_run.out, "results.json")))["test"]
    assert json.load(open(out / "history.json")) == json.load(open(os.path.join(reference_run.out, "history.json")))
    # The run's own settings given again are not a change; a moved folder is the same run.
    moved = tmp_path / "moved"
    out.rename(moved)
    assert main(reference_run.args + ["--out", str(moved), "--resume"]) == 0
    # The Python API too: `out=` alone continues the run with its own settings.
    run = keras_ser.train(out=str(moved), resume=True, verbose=False)
    assert run.results["test"] == json.load(open(os.path.join(reference_run.out, "results.json")))["test"]


@uses_reference
@pytest.mark.parametrize("change, named", [
    (["--set", "train.ema_momentum=0.5"], "train.ema_momentum: 0.0 in the run, 0.5 here"),
    (["--preset", "baseline", "--loss", "s"], "model.preset: 'dann2' in the run, 'baseline' here"),
    (["--seed", "2"], "train.seed: 1 in the run, 2 here"),
])
def test_resuming_with_other_settings_is_refused_by_name(reference_run, tmp_path, capsys, change, named):
    out = copy_run(reference_run.out, tmp_path)
    saved = pathlib.Path(out, "config.yaml").read_text()
    assert main(["--out", out, "--resume", *change]) == 2
    err = capsys.readouterr().err
    assert named in err and "--resume` alone continues it" in err
    assert pathlib.Path(out, "config.yaml").read_text() == saved
