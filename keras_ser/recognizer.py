"""An exported model, called on audio: `keras_ser.Recognizer`.

    >>> import keras_ser
    >>> recognizer = keras_ser.Recognizer.load("saved_models/run/export/model.tflite")
    >>> prediction = recognizer("speech.wav")               # or recognizer(samples, sample_rate=44100)
    >>> prediction.labels                                     # {'arousal': 'high', 'valence': 'negative'}
    >>> prediction.probabilities["arousal"]["high"], prediction.timeline[0]["start"]

A .tflite file runs in the standalone LiteRT runtime (the `lite` extra)
without importing TensorFlow; a SavedModel folder needs TensorFlow. Audio of
any sample rate and channel count is mixed down and resampled exactly like
the training data (`keras_ser.audio`). The feature settings (model rate,
segment length and hop) come from the export's `export.json`, written from
the run folder, so the timeline has the segments the model was trained on.

Utterance level: the model's `waveform` signature (the mean of the segment
posteriors, the paper's decision). Timeline: each segment of that
segmentation run alone through the same signature, so the timeline's mean
is the utterance-level result.
"""

import dataclasses
import json
import os
import warnings
from typing import Dict, List, Optional, Union

import numpy as np

from keras_ser.config import FeatureConfig

EXPORT_SUMMARY = "export.json"


@dataclasses.dataclass
class Prediction:
    """What a Recognizer says about one utterance.

    Attributes:
        seconds: duration of the audio given.
        probabilities: {task: {class name: probability}}, utterance level.
        timeline: one entry per segment, in order: {"start", "end" (seconds),
            task: {class name: probability}}; empty when not asked for.
    """

    seconds: float
    probabilities: Dict[str, Dict[str, float]]
    timeline: List[dict]

    @property
    def labels(self) -> Dict[str, str]:
        """{task: the most probable class}."""
        return {task: max(p, key=p.get) for task, p in self.probabilities.items()}

    def to_dict(self) -> dict:
        return {"seconds": self.seconds, "labels": self.labels, "probabilities": self.probabilities,
                "timeline": self.timeline}


def export_features(model_path: str) -> FeatureConfig:
    """The feature settings an export was made with (its export.json), or the defaults with a warning."""
    folder = os.path.dirname(os.path.abspath(model_path.rstrip(os.sep)))
    summary = os.path.join(folder, EXPORT_SUMMARY)
    if not os.path.exists(summary):
        warnings.warn(f"no {EXPORT_SUMMARY} next to {model_path}: assuming the default feature settings")
        return FeatureConfig()
    with open(summary, encoding="utf-8") as f:
        return FeatureConfig(**json.load(f)["features"])


def segment_starts(num_samples: int, features: FeatureConfig) -> List[int]:
    """Start sample of every segment, by the segmentation contract of keras_ser.features (NumPy)."""
    length, hop = features.segment_samples, features.segment_hop
    extra = max(num_samples - length, 0)
    count = 1 + extra // hop + int(extra % hop >= features.min_tail_fraction * hop)
    return [index * hop for index in range(count)]


class Recognizer:
    """Arousal and valence of audio with an exported keras_ser model.

    Args:
        model: a loaded export (`keras_ser.predict.load_model`).
        features: the feature settings the model was trained with.

    Call arguments:
        audio: a file path (any format soundfile reads), or a NumPy array of
            samples, (frames,) or (frames, channels), float in [-1, 1] or integer PCM.
        sample_rate: the array's sample rate (required for an array).
        timeline: also score every segment on its own (default True).

    Returns a `Prediction`.
    """

    def __init__(self, model, features: FeatureConfig = FeatureConfig()):
        self.model = model
        self.features = features

    @classmethod
    def load(cls, path: Union[str, os.PathLike], num_threads: Optional[int] = None) -> "Recognizer":
        """A .tflite file (LiteRT, no TensorFlow) or a SavedModel folder written by keras_ser.export."""
        from keras_ser.predict import load_model

        path = os.fspath(path)
        return cls(load_model(path, num_threads=num_threads), export_features(path))

    @property
    def tasks(self) -> List[str]:
        return list(self.model.tasks)

    def waveform(self, audio, sample_rate: Optional[int] = None):
        """(mono float32 at the model's rate, seconds of the input) of a path or an array."""
        from keras_ser.audio import load_waveform, to_model_rate

        if isinstance(audio, (str, os.PathLike)):
            return load_waveform(os.fspath(audio), self.features)
        if sample_rate is None:
            raise ValueError("sample_rate: give the sample rate of the array (e.g. sample_rate=44100)")
        samples = np.asarray(audio)
        if samples.ndim not in (1, 2) or samples.size == 0:
            raise ValueError(f"audio: expected (frames,) or (frames, channels) samples, got shape {samples.shape}")
        if np.issubdtype(samples.dtype, np.integer):
            samples = samples / float(np.iinfo(samples.dtype).max + 1)
        samples = samples.astype(np.float32)
        if not np.all(np.isfinite(samples)):
            raise ValueError("audio: non-finite samples (NaN or Inf)")
        return to_model_rate(samples, int(sample_rate), self.features.sample_rate,
                             self.features.min_duration), samples.shape[0] / sample_rate

    def __call__(self, audio, sample_rate: Optional[int] = None, timeline: bool = True,
                 statistics=None) -> Prediction:
        """`statistics`: (mean, std) of the speaker or microphone (keras_ser.adaptation) to normalise
        the utterance with (the `waveform_adapted` signature); None: the training statistics."""
        waveform, seconds = self.waveform(audio, sample_rate)
        outputs = (self.model.waveform(waveform) if statistics is None
                   else self.model.waveform_adapted(waveform, *statistics))
        return Prediction(float(seconds), self._probabilities(outputs), self.timeline(waveform) if timeline else [])

    def timeline(self, waveform: np.ndarray) -> List[dict]:
        """Per-segment probabilities of a mono waveform at the model's rate."""
        length, rate = self.features.segment_samples, self.features.sample_rate
        entries = []
        for start in segment_starts(waveform.shape[0], self.features):
            segment = waveform[start:start + length]
            segment = np.pad(segment, (0, length - segment.shape[0]))  # the contract's zero padding
            entries.append({"start": start / rate, "end": min(start + length, waveform.shape[0]) / rate,
                            **self._probabilities(self.model.waveform(segment))})
        return entries

    def _probabilities(self, outputs) -> Dict[str, Dict[str, float]]:
        from keras_ser.export import CLASS_NAMES

        result = {}
        for task in self.tasks:
            p = np.asarray(outputs[task], np.float64).reshape(-1)
            result[task] = {name: float(v) for name, v in zip(CLASS_NAMES[task], p)}
        return result
