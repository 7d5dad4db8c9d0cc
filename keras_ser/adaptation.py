"""Normalisation statistics of a user or a microphone, from a few seconds of their audio (no TensorFlow).

A model trained with `corpus` or `speaker` normalisation expects each
speaker's spectrograms standardised with that speaker's (or recording
chain's) own per-frequency mean and std. On a device those come from the
exported model's `statistics` signature, which returns the per-frequency
sums of the very log spectrograms the model reads:

    stats = RunningStatistics.for_model(model)           # prior: the training statistics
    for chunk in a_few_seconds_of_the_user:
        stats.add(**model.statistics(chunk))
    mean, std = stats.mean_std()
    model.waveform_adapted(utterance, mean, std)

Batch mode (`decay=1`) weighs every frame alike: a few seconds of one
speaker give their statistics. Streaming mode (`decay < 1`) forgets old
frames exponentially (a frame's weight halves every
`log(0.5) / log(decay)` frames), so the statistics follow a change of room or
microphone. `prior_frames` pseudo-frames of the training statistics are
blended in, so the first second of audio does not give a noisy std; with no
audio at all the result is the training statistics, what the plain
`waveform` signature uses.
"""

from typing import Iterable, Optional, Tuple

import numpy as np

# A second of audio gives ~240 frames (32 per segment, a segment every
# 132.5 ms): a prior worth half a second fades after a few seconds of speech.
DEFAULT_PRIOR_FRAMES = 120.0
# Floor of the variance, as in pipelines.prepare.normalisation_stats.
MIN_VARIANCE = 1e-12


class RunningStatistics:
    """Per-frequency sums of log-spectrogram frames, and the mean/std they give.

    Args:
        num_bins: frequency bins (129).
        prior_mean, prior_std: statistics blended in with weight `prior_frames`
            (the training statistics of the model); None: no prior.
        prior_frames: weight of the prior, in frames.
        decay: per-frame forgetting factor in (0, 1]; 1 keeps every frame.
    """

    def __init__(self, num_bins: int, prior_mean: Optional[np.ndarray] = None,
                 prior_std: Optional[np.ndarray] = None, prior_frames: float = 0.0, decay: float = 1.0):
        if not 0.0 < decay <= 1.0:
            raise ValueError(f"decay: {decay!r} is outside (0, 1]")
        if (prior_mean is None) != (prior_std is None):
            raise ValueError("prior_mean and prior_std go together")
        if prior_frames < 0:
            raise ValueError(f"prior_frames: {prior_frames!r} is negative")
        self.num_bins, self.decay = num_bins, decay
        self.prior_frames = prior_frames if prior_mean is not None else 0.0
        self.prior_mean = None if prior_mean is None else np.asarray(prior_mean, np.float64).reshape(num_bins)
        self.prior_std = None if prior_std is None else np.asarray(prior_std, np.float64).reshape(num_bins)
        self.sum = np.zeros(num_bins, np.float64)
        self.sum_squares = np.zeros(num_bins, np.float64)
        self.frames = 0.0

    @classmethod
    def for_model(cls, model, prior_frames: float = DEFAULT_PRIOR_FRAMES, decay: float = 1.0) -> "RunningStatistics":
        """Statistics for a loaded export (keras_ser.predict), its training statistics as the prior."""
        if model.training_statistics is None:  # an export without normalisation.json beside it
            return cls(model.num_bins, decay=decay)
        mean, std = model.training_statistics
        return cls(len(mean), mean, std, prior_frames, decay)

    def add(self, sum, sum_squares, frames) -> "RunningStatistics":  # noqa: A002 - the signature's output names
        """Adds one chunk's sums (the `statistics` signature's outputs)."""
        frames = float(np.asarray(frames).reshape(()))
        forget = self.decay ** frames
        self.sum = forget * self.sum + np.asarray(sum, np.float64).reshape(self.num_bins)
        self.sum_squares = forget * self.sum_squares + np.asarray(sum_squares, np.float64).reshape(self.num_bins)
        self.frames = forget * self.frames + frames
        return self

    def add_frames(self, spectrogram: np.ndarray) -> "RunningStatistics":
        """Adds log-spectrogram frames (..., num_bins) directly."""
        frames = np.asarray(spectrogram, np.float64).reshape(-1, self.num_bins)
        if self.decay == 1.0:
            return self.add(frames.sum(axis=0), np.square(frames).sum(axis=0), frames.shape[0])
        for frame in frames:  # forgetting is per frame, in order
            self.add(frame, np.square(frame), 1)
        return self

    def mean_std(self) -> Tuple[np.ndarray, np.ndarray]:
        """(mean, std) float32 of the frames seen, blended with the prior."""
        total, squares, frames = self.sum, self.sum_squares, self.frames
        if self.prior_frames:
            total = total + self.prior_frames * self.prior_mean
            squares = squares + self.prior_frames * (np.square(self.prior_std) + np.square(self.prior_mean))
            frames = frames + self.prior_frames
        if frames <= 0:
            raise ValueError("no audio and no prior: nothing to take statistics from")
        mean = total / frames
        std = np.sqrt(np.maximum(squares / frames - np.square(mean), MIN_VARIANCE))
        return mean.astype(np.float32), std.astype(np.float32)


def adaptation_statistics(model, waveforms: Iterable[np.ndarray], prior_frames: float = DEFAULT_PRIOR_FRAMES,
                          decay: float = 1.0) -> Tuple[np.ndarray, np.ndarray]:
    """(mean, std) of a user's audio (16 kHz mono arrays) through `model`'s `statistics` signature."""
    stats = RunningStatistics.for_model(model, prior_frames, decay)
    for waveform in waveforms:
        stats.add(**model.statistics(waveform))
    return stats.mean_std()
