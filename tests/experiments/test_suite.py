"""Suite YAMLs: the shipped ones load, malformed ones fail early with the key named."""

import dataclasses
import os

import pytest
import yaml

from keras_ser.experiments import SuiteError, load_suite
from keras_ser.experiments.__main__ import main
from keras_ser.experiments.plan import cross_sources, make_groups, plan_runs


def test_paper_suite_has_the_papers_rows_and_protocols():
    suite = load_suite("paper")
    assert [v.name for v in suite.variants] == ["Baseline (S)", "DANN_1 (S)", "DANN_2 (S)", "DANN_2 (S+C)"]
    assert set(suite.protocols) == {"multi", "cross"} and suite.tasks == ["arousal", "valence"]
    assert suite.seeds == 3 and suite.compare == ["Baseline (S)", "DANN_2 (S+C)"]


def test_gamma_sweep_is_a_config_of_variants():
    suite = load_suite("gamma_sweep")
    assert len(suite.variants) >= 4 and list(suite.protocols) == ["multi"]
    specs = plan_runs(suite, make_groups(suite, ["emodb", "savee"]), "/tmp/x", {}, seeds=2, folds=0, task="both")
    gammas = sorted({s.config.model.gamma for s in specs})
    assert gammas[0] == 0.0 and 0.3 in gammas and len(specs) == 2 * len(suite.variants)
    assert {s.config.train.seed for s in specs} == {0, 1}


def _planned(suite, variant, groups_of, overrides=None):
    """The run configs of one variant of a suite, by group (one seed)."""
    return {s.group: dataclasses.replace(s.config, out="") for s in plan_runs(
        suite, groups_of, "/tmp/x", overrides or {}, seeds=1, folds=0, task="both") if s.variant == variant}


def test_lambda_sweep_varies_only_the_center_loss_weight():
    suite = load_suite("lambda_sweep")
    assert set(suite.protocols) == {"multi", "cross"}
    specs = plan_runs(suite, make_groups(suite, ["emodb", "savee"]), "/tmp/x", {}, seeds=1, folds=0, task="both")
    models = [s.config.model for s in specs]
    assert sorted({m.lambda_ for m in models}) == [0.1, 0.5, 0.7, 0.9, 1.0]
    assert {(m.preset, m.loss, m.gamma) for m in models} == {("dann2", "sc", 0.3)}
    # "lambda 0.5 (paper suite)" is the paper suite's DANN_2 (S+C), setting for setting.
    paper = load_suite("paper")
    groups = make_groups(paper, ["emodb", "savee"])
    ours, theirs = _planned(suite, "lambda 0.5 (paper suite)", groups), _planned(paper, "DANN_2 (S+C)", groups)
    assert ours.keys() == theirs.keys() == {"multi", "cross-emodb", "cross-savee"}
    assert ours == theirs


@pytest.mark.parametrize("name, setting, values, default_row, reference, corpora", [
    ("cosine_scale", "cosine_scale", [5.0, 10.0, 20.0], "scale 10 (paper suite)", "paper", ["emodb", "savee"]),
    ("task_dim", "task_dim", [8, 32, 64], "task_dim 8 (paper suite)", "paper", ["emodb", "savee"]),
    ("real_task_dim", "task_dim", [8, 32], "task_dim 8 (real_speech suite)", "real_speech", ["emodb", "emovo"]),
])
def test_a_setting_study_varies_only_its_setting_and_its_default_row_is_its_reference_suites(
        name, setting, values, default_row, reference, corpora, tmp_path):
    suite = load_suite(name)
    assert set(suite.protocols) == {"multi", "cross"}
    # Real corpora are named by root; the synthetic ones need none.
    overrides = {} if reference == "paper" else {"data": {"corpora": {c: str(tmp_path) for c in corpora}}}
    reference_suite = load_suite(reference)
    groups = make_groups(reference_suite, corpora)
    assert [g.key for g in make_groups(suite, corpora)] == [g.key for g in groups]
    specs = plan_runs(suite, groups, "/tmp/x", overrides, seeds=1, folds=0, task="both")
    models = [s.config.model for s in specs]
    assert sorted({getattr(m, setting) for m in models}) == values
    assert {(m.preset, m.loss, m.gamma, m.lambda_, m.center_form) for m in models} == {
        ("dann2", "sc", 0.3, 0.5, "proxy")}
    ours = _planned(suite, default_row, groups, overrides)
    theirs = _planned(reference_suite, "DANN_2 (S+C)", groups, overrides)
    assert ours.keys() == theirs.keys() == {"multi"} | {f"cross-{c}" for c in corpora}
    assert ours == theirs
    default = getattr(theirs["multi"].model, setting)
    # Every other row differs from it in that setting alone.
    for variant in {s.variant for s in specs} - {default_row}:
        for group, config in _planned(suite, variant, groups, overrides).items():
            assert config != ours[group]
            at_default = dataclasses.replace(config.model, **{setting: default})
            assert dataclasses.replace(config, model=at_default) == ours[group]


@pytest.mark.parametrize("name, reference, corpora", [
    ("paper_cv", "paper", ["emodb", "savee"]),
    ("real_speech_cv", "real_speech", ["emodb", "emovo"]),
])
def test_a_cv_suite_is_its_reference_suites_multi_protocol_over_speaker_folds(name, reference, corpora, tmp_path):
    suite, reference_suite = load_suite(name), load_suite(reference)
    assert set(suite.protocols) == {"multi"} and suite.folds == 4 and suite.seeds == 1
    overrides = {} if reference == "paper" else {"data": {"corpora": {c: str(tmp_path) for c in corpora}}}

    def multi_runs(of):
        return [(s.variant, s.fold, s.config) for s in plan_runs(
            of, make_groups(of, corpora), "/tmp/x", overrides, seeds=1, folds=4, task="both") if s.group == "multi"]

    ours = multi_runs(suite)
    assert len(ours) == 4 * len(reference_suite.variants)
    assert {(config.data.folds, config.data.fold) for _, _, config in ours} == {(4, f) for f in range(4)}
    assert ours == multi_runs(reference_suite)


def test_normalisation_suite_crosses_two_systems_with_every_normalisation(tmp_path):
    suite = load_suite("normalisation")
    specs = plan_runs(suite, make_groups(suite, ["emodb", "savee"]), "/tmp/x", {}, seeds=1, folds=0, task="both")
    # multi plus each corpus as the cross source.
    assert sorted({s.group for s in specs}) == ["cross-emodb", "cross-savee", "multi"]
    rows = {(s.config.model.preset, s.config.model.loss, s.config.data.normalisation) for s in specs}
    assert rows == {(preset, loss, mode) for preset, loss in (("baseline", "s"), ("dann2", "sc"))
                    for mode in ("global", "corpus", "speaker")}
    bad = tmp_path / "bad.yaml"
    bad.write_text("variants: [{name: x, overrides: {data: {normalisation: utterance}}}]\n")
    with pytest.raises(SuiteError, match="data.normalisation: 'utterance'"):
        load_suite(str(bad))


def test_cross_sources_follow_the_paper_when_iemocap_is_present():
    assert cross_sources("auto", ["emodb", "iemocap", "msp_improv", "savee"]) == ["iemocap"]
    assert cross_sources("auto", ["emodb", "savee"]) == ["emodb", "savee"]
    assert cross_sources("savee", ["emodb", "savee"]) == ["savee"]
    with pytest.raises(SuiteError, match="cross sources"):
        cross_sources("iemocap", ["emodb", "savee"])
    groups = make_groups(load_suite("paper"), ["emodb", "iemocap", "savee"])
    assert [(g.key, g.targets) for g in groups] == [("multi", []), ("cross-iemocap", ["emodb", "savee"])]


def test_runs_get_their_own_folders_seeds_and_folds():
    suite = load_suite("paper")
    specs = plan_runs(suite, make_groups(suite, ["emodb", "savee"], "savee"), "/out", {}, seeds=2, folds=3, task="both")
    assert len(specs) == 2 * 4 * 2 * 3
    assert len({s.out for s in specs}) == len(specs)
    cross = [s for s in specs if s.group == "cross-savee"][0].config
    assert (cross.protocol, cross.source, cross.targets) == ("cross", "savee", ["emodb"])
    assert {(s.config.data.folds, s.config.data.fold) for s in specs} == {(3, 0), (3, 1), (3, 2)}
    assert specs[0].out == "/out/runs/multi/baseline-s/seed0-fold0"


def test_a_per_task_suite_trains_each_task_in_a_run_of_its_own(tmp_path):
    path = _write(tmp_path, "task_models: per_task\nprotocols: {multi: {}}\nvariants:\n  - {name: a}\n")
    suite = load_suite(path)
    specs = plan_runs(suite, make_groups(suite, ["emodb", "savee"]), "/out", {}, seeds=1, folds=2, task="both")
    assert [(os.path.basename(s.out), s.config.task) for s in specs] == [
        ("seed0-fold0-arousal", "arousal"), ("seed0-fold0-valence", "valence"),
        ("seed0-fold1-arousal", "arousal"), ("seed0-fold1-valence", "valence")]
    one = plan_runs(suite, make_groups(suite, ["emodb", "savee"]), "/out", {}, seeds=1, folds=0, task="valence")
    assert [(os.path.basename(s.out), s.config.task) for s in one] == [("seed0-valence", "valence")]


def _write(tmp_path, text):
    path = tmp_path / "suite.yaml"
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize("text, message", [
    ("variants: []\n", "variants` must list at least one system"),
    ("varients:\n  - {overrides: {}}\n", "unknown key 'varients'"),
    ("variants:\n  - {overrides: {model: {gama: 0.3}}}\n", "model.gama: unknown key"),
    ("variants:\n  - {overrides: {model: {gamma: -1.0}}}\n", "model.gamma"),
    ("base: {protocol: cross}\nvariants:\n  - {name: a}\n", "protocol is set per run by the suite"),
    ("variants:\n  - {overrides: {train: {seed: 3}}}\n", "train.seed is set per run"),
    ("variants:\n  - {name: a}\n  - {name: a}\n", "used twice"),
    ("protocols: {leave_one_out: {}}\nvariants:\n  - {name: a}\n", "unknown protocol"),
    ("tasks: [happiness]\nvariants:\n  - {name: a}\n", "tasks must be"),
    ("compare: [b]\nvariants:\n  - {name: a}\n", "compare must list variant names"),
    ("analysis: {embedding: umap}\nvariants:\n  - {name: a}\n", "choose tsne or pca"),
    ("seeds: 0\nvariants:\n  - {name: a}\n", "seeds: expected an integer >= 1"),
    ("task_models: separate\nvariants:\n  - {name: a}\n", "task_models: 'separate'; choose joint or per_task"),
    ("variants: [\n", "not valid YAML"),
])
def test_bad_suite_is_refused_with_the_reason(tmp_path, text, message):
    with pytest.raises(SuiteError if "YAML" not in message else Exception, match=message.replace("(", r"\(")):
        load_suite(_write(tmp_path, text))


def test_cli_reports_a_bad_suite_before_any_work(tmp_path, capsys):
    path = _write(tmp_path, "variants:\n  - {overrides: {model: {preset: dann3}}}\n")
    assert main(["--suite", path, "--out", str(tmp_path / "out")]) == 2
    assert "model.preset: 'dann3' is not accepted" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
    assert main(["--suite", "no_such_suite", "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "neither a file nor a shipped suite" in err and "gamma_sweep" in err and "paper_reference" not in err


def test_paper_reference_holds_the_papers_tables():
    from keras_ser.experiments.report import PAPER_REFERENCE, load_paper_reference

    reference = load_paper_reference(PAPER_REFERENCE)
    assert reference["corpora"] == ["iemocap", "msp_improv", "savee", "emodb"]
    systems = {"Baseline (S)", "DANN_1 (S)", "DANN_2 (S)", "DANN_2 (S+C)"}
    for group, corpora in (("multi", reference["corpora"]), ("cross-iemocap", ["msp_improv", "savee", "emodb"])):
        for task in ("arousal", "valence"):
            rows = reference["tables"][group][task]
            assert set(rows) == systems
            for system, cells in rows.items():
                # The printed averages are the means of the printed corpora (catches a mistyped cell).
                assert abs(sum(cells[c] for c in corpora) / len(corpora) - cells["average"]) < 0.011, (group, task, system)
    assert reference["tables"]["multi"]["arousal"]["DANN_2 (S+C)"]["emodb"] == 92.12
    assert reference["tables"]["cross-iemocap"]["valence"]["Baseline (S)"]["emodb"] == 49.73


def test_paper_rows_show_only_the_shared_corpora():
    from keras_ser.experiments.report import PAPER_REFERENCE, load_paper_reference, paper_rows

    reference = load_paper_reference(PAPER_REFERENCE)
    full = paper_rows(reference, ["emodb", "iemocap", "msp_improv", "savee"], "multi", "arousal")
    assert full["Baseline (S)"]["average"] == 78.68
    partial = paper_rows(reference, ["emodb", "emovo"], "multi", "arousal")
    assert partial["Baseline (S)"] == {"emodb": 90.95}
    assert paper_rows(reference, ["emodb", "emovo"], "cross-emodb", "arousal") == {}
    assert paper_rows(reference, ["emovo", "ravdess"], "multi", "arousal") == {}
