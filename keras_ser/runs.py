"""A finished run folder, loaded back: config, network with best weights, normalisation.

Used by export, experiments and tuning to rebuild exactly the trained model
without re-reading the corpora.
"""

import dataclasses
import functools
import json
import os
from typing import Iterable

import numpy as np

from keras_ser.config import RUN_CONFIG, FitConfig, load_run_config


@dataclasses.dataclass
class Run:
    root: str
    config: FitConfig
    network: object  # keras_ser.models.EmotionNetwork
    vocabulary: dict
    mean: np.ndarray  # the training statistics: what `waveform` uses without adaptation audio
    std: np.ndarray
    speakers: dict
    normalisation: object = None  # pipelines.normalisation.Normalisation

    @functools.cached_property
    def prepared(self):
        """The run's prepared corpora (`pipelines.dataset.PreparedCorpora`)."""
        from pipelines.dataset import PreparedCorpora

        return PreparedCorpora(self.speakers["prepared"])

    def dataset(self, speakers: Iterable[str], batch_size: int = 256, adapted: bool = True):
        """Evaluation stream (x, labels, weights) of `speakers`' segments, normalised as in training.

        `adapted=False`: every speaker normalised with the training statistics
        instead, as a deployed model given no adaptation audio.
        """
        from pipelines.dataset import Vocabulary, make_dataset

        speakers = list(speakers)
        normalisation = self.normalisation if adapted else self.normalisation.without_adaptation()
        mean, std = normalisation.arrays(speakers, receipt=self.prepared.receipt)
        return make_dataset([self.prepared.shard(s) for s in speakers], self.prepared.features,
                            Vocabulary(**self.vocabulary), mean, std, batch_size)

    def split_dataset(self, split: str = "test", batch_size: int = 256, adapted: bool = True):
        """`dataset` of the run's "train", "val" or "test" speakers."""
        return self.dataset(self.speakers["plan"][split], batch_size, adapted)

    @property
    def results(self) -> dict:
        """results.json: test UA/WA/confusion per task and corpus, the system, epochs run."""
        return _read_json(os.path.join(self.root, "results.json"))

    @property
    def history(self) -> list:
        """history.json: one record of losses, accuracies and validation UA per epoch."""
        return _read_json(os.path.join(self.root, "history.json"))

    def export(self, formats="savedmodel,tflite", quantize="none", **options) -> dict:
        """`keras_ser.export.export_run` of this run into <root>/export; returns what was written."""
        from keras_ser.export import export_run

        return export_run(self.root, formats, quantize, **options)


def _read_json(path: str):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def load_run(run_dir: str, weights: str = "best.weights.h5", unroll: bool = True) -> Run:
    """Rebuilds the network of `run_dir` and loads its best weights (`unroll`: export-ready LSTM,
    see keras_ser.models.cnn_blstm; the same weights and outputs either way)."""
    from keras_ser.models import build_network
    from pipelines.normalisation import Normalisation

    run_dir = os.path.abspath(run_dir)
    for name in (RUN_CONFIG, "speakers.json", "normalisation.json", weights):
        if not os.path.exists(os.path.join(run_dir, name)):
            raise FileNotFoundError(f"{run_dir} is not a finished keras_ser run (missing {name})")
    config = load_run_config(run_dir)
    with open(os.path.join(run_dir, "speakers.json"), encoding="utf-8") as f:
        speakers = json.load(f)
    with open(os.path.join(run_dir, "normalisation.json"), encoding="utf-8") as f:
        normalisation = json.load(f)
    vocabulary = speakers["vocabulary"]
    network = build_network(config.model, config.features, config.tasks, config.heads,
                            {head: len(values) for head, values in vocabulary.items()}, unroll=unroll)
    network.training_model.load_weights(os.path.join(run_dir, weights))
    normalisation = Normalisation.from_dict(normalisation)
    return Run(run_dir, config, network, vocabulary, normalisation.fallback.mean, normalisation.fallback.std, speakers,
               normalisation)
