"""From an audio file to the (segments, 32, 129) log spectrograms the model reads.

One utterance flows: `read_audio` (soundfile decodes what the corpus ships,
see keras_ser.audio) -> `to_model_rate` (mono, 16 kHz) ->
`log_spectrogram_segments` (TF ops only, so the exported model computes
exactly the same features in its graph).

Segmentation (documented contract):
- segments of `segment_samples` (4240 = 265 ms) every `segment_hop` samples;
- an utterance shorter than one segment is zero-padded to one segment;
- the tail after the last full segment becomes one more, zero-padded segment
  when it is at least `min_tail_fraction` of a hop long, else it is dropped.
"""

import numpy as np
import tensorflow as tf

from keras_ser.audio import AudioError, load_waveform, read_audio  # noqa: F401 (public names)
from keras_ser.config import FeatureConfig


# Decoding, mono and 16 kHz live in keras_ser.audio (no TensorFlow there).


# ---------------------------------------------------------------------------
# Segments and spectrograms (TF ops: shared with the exported graph)


def num_segments(num_samples, config: FeatureConfig):
    """Segment count for `num_samples` (int or scalar tensor), see module doc."""
    length, hop = config.segment_samples, config.segment_hop
    extra = tf.maximum(tf.cast(num_samples, tf.int32) - length, 0)
    full, tail = extra // hop, extra % hop
    keep_tail = tf.cast(tf.cast(tail, tf.float32) >= config.min_tail_fraction * hop, tf.int32)
    return 1 + full + keep_tail


def segment_waveform(waveform: tf.Tensor, config: FeatureConfig) -> tf.Tensor:
    """(samples,) -> (segments, segment_samples), zero-padded per the contract."""
    count = num_segments(tf.shape(waveform)[0], config)
    needed = (count - 1) * config.segment_hop + config.segment_samples
    waveform = waveform[:needed]
    waveform = tf.pad(waveform, [[0, needed - tf.shape(waveform)[0]]])
    return tf.signal.frame(waveform, config.segment_samples, config.segment_hop)


def num_segments_np(num_samples: int, config: FeatureConfig) -> int:
    """`num_segments` for a Python int, without TensorFlow ops (the same contract)."""
    length, hop = config.segment_samples, config.segment_hop
    full, tail = divmod(max(int(num_samples) - length, 0), hop)
    return 1 + full + int(np.float32(tail) >= np.float32(config.min_tail_fraction * hop))


def segment_waveform_np(waveform: np.ndarray, config: FeatureConfig) -> np.ndarray:
    """`segment_waveform` in NumPy: the same samples (copies), for batching many utterances."""
    count = num_segments_np(waveform.shape[0], config)
    needed = (count - 1) * config.segment_hop + config.segment_samples
    padded = np.zeros(needed, np.float32)
    kept = min(needed, waveform.shape[0])
    padded[:kept] = waveform[:kept]
    windows = np.lib.stride_tricks.sliding_window_view(padded, config.segment_samples)
    return np.ascontiguousarray(windows[:: config.segment_hop])


def log_spectrogram(segments: tf.Tensor, config: FeatureConfig) -> tf.Tensor:
    """(..., segment_samples) -> (..., 32, 129): log magnitude of a Hann STFT."""
    stft = tf.signal.stft(
        segments,
        frame_length=config.frame_length,
        frame_step=config.frame_step,
        fft_length=config.fft_length,
        window_fn=tf.signal.hann_window,
    )
    return tf.math.log(tf.abs(stft) + config.log_offset)


def log_spectrogram_segments(waveform, config: FeatureConfig) -> tf.Tensor:
    """(samples,) 16 kHz float -> (segments, 32, 129)."""
    return log_spectrogram(segment_waveform(tf.convert_to_tensor(waveform, tf.float32), config), config)
