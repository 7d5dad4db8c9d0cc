"""Collapse regression: a tiny S+C run keeps its embedding's scale and learns both tasks.

The unbounded objective (linear classifier, center loss on the raw embedding)
falls without bound as the embedding shrinks and the classifier grows; with
lambda 0.5 that race was won by the shrinking, and tasks sat at chance. Tone
corpora whose loudness carries arousal and whose pitch carries valence make
both tasks learnable, so chance-level UA here means collapse.
"""

import os

import numpy as np
import pytest

from keras_ser.config import load_fit_config
from keras_ser.fit import run_fit
from tests.helpers import TINY_MODEL, tone, write_wav

SPEAKERS = ("03", "08", "09", "10", "11", "12", "13", "14")
# Emo-DB codes: anger (high, negative), happiness (high, positive),
# neutral (low, positive), sadness (low, negative).
EMOTIONS = {"W": (True, False), "F": (True, True), "N": (False, True), "T": (False, False)}


def two_cue_emodb(root: str) -> str:
    """Loud tones for high arousal, high-pitched tones for positive valence."""
    for s_index, speaker in enumerate(SPEAKERS):
        for e_index, (code, (high, positive)) in enumerate(EMOTIONS.items()):
            for text in ("a01", "a02", "a04"):
                pitch = (260 if positive else 110) * (1 + 0.03 * s_index)
                signal = tone(1.0, 16000, pitch, 0.8 if high else 0.1, seed=s_index * 100 + e_index * 10 + int(text[2]))
                write_wav(os.path.join(root, "wav", f"{speaker}{text}{code}a.wav"), signal, 16000)
    return root


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    from pipelines.prepare import prepare

    folder = tmp_path_factory.mktemp("two_cues")
    out = str(folder / "prepared")
    prepare({"emodb": two_cue_emodb(str(folder / "emodb"))}, out, workers=1, verbose=False)
    return out


def embedding_norms(run_dir: str, fresh: bool = False) -> float:
    """Mean L2 norm of the shared embedding over the run's test segments (trained, or freshly initialised)."""
    import keras

    from keras_ser.runs import load_run

    run = load_run(run_dir)
    if fresh:
        keras.utils.set_random_seed(run.config.train.seed)
        from keras_ser.models import build_network

        network = build_network(run.config.model, run.config.features, run.config.tasks, run.config.heads,
                                {h: len(run.vocabulary[h]) for h in run.config.heads})
        extractor = network.extractor
    else:
        extractor = run.network.extractor
    norms = [np.linalg.norm(extractor(x, training=False).numpy(), axis=1) for x, _, _ in run.split_dataset("test")]
    return float(np.mean(np.concatenate(norms)))


def train(prepared, out, center_form):
    config = load_fit_config(None, {
        "data": {"prepared": prepared}, "out": str(out), "model": dict(TINY_MODEL, preset="baseline", loss="sc",
                                                                       **{"lambda": 0.5}, center_form=center_form),
        "train": {"batch_size": 32, "epochs": 6, "patience": 6, "seed": 1}})
    return run_fit(config, verbose=False)


def class_directions(run, task: str) -> np.ndarray:
    """The task's two centers on the unit sphere: the classifier's class directions (proxy) or the running centers."""
    layer = run.network.center_losses[task]
    return layer.centers.numpy() if hasattr(layer, "centers") else layer.class_directions().numpy()


@pytest.mark.slow
@pytest.mark.parametrize("center_form", ["proxy", "bounded"])
def test_bounded_center_losses_keep_the_embedding_and_learn_both_tasks(prepared, tmp_path, center_form):
    results = train(prepared, tmp_path / "run", center_form)
    for task in ("arousal", "valence"):
        assert results["test"][task]["average"]["utterance"]["ua"] >= 0.75, task
    assert embedding_norms(str(tmp_path / "run")) >= 0.5 * embedding_norms(str(tmp_path / "run"), fresh=True)
    # Between-class distance in each task's space: the two centers did not merge.
    from keras_ser.runs import load_run

    run = load_run(str(tmp_path / "run"))
    assert run.config.model.center_form == center_form
    for task in ("arousal", "valence"):
        centers = class_directions(run, task)
        assert np.linalg.norm(centers[0] - centers[1]) >= 0.25, task


@pytest.mark.slow
def test_unbounded_form_shrinks_the_embedding(prepared, tmp_path):
    # The failure the bounded form exists for, measured the same way: the
    # embedding's norm falls well below its initial value (0.91 -> 0.40 here).
    train(prepared, tmp_path / "run", "unbounded")
    assert embedding_norms(str(tmp_path / "run")) < 0.5 * embedding_norms(str(tmp_path / "run"), fresh=True)
