"""From an audio file to the (segments, 32, 129) log spectrograms the model reads.

One utterance flows: `read_audio` (tensorflow-io decodes what the corpus ships;
the container is sniffed from its bytes, never trusted from the file name) ->
`to_model_rate` (mono, 16 kHz) -> `log_spectrogram_segments` (TF ops only, so
the exported model computes exactly the same features in its graph).

Segmentation (documented contract):
- segments of `segment_samples` (4240 = 265 ms) every `segment_hop` samples;
- an utterance shorter than one segment is zero-padded to one segment;
- the tail after the last full segment becomes one more, zero-padded segment
  when it is at least `min_tail_fraction` of a hop long, else it is dropped.
"""

import math
import struct

import numpy as np
import tensorflow as tf

from keras_ser.config import FeatureConfig


class AudioError(Exception):
    """A file that cannot be used; `str(err)` is the reason recorded in the manifest."""


# ---------------------------------------------------------------------------
# Decoding


def read_audio(path: str):
    """Returns (samples float32 [n, channels] in [-1, 1], sample_rate).

    Raises AudioError with a one-line reason for anything unusable.
    """
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as err:
        raise AudioError(f"unreadable file: {err.strerror}") from err
    if not raw:
        raise AudioError("empty file")
    if raw[:4] == b"RIFF" and raw[8:12] == b"WAVE":
        samples, rate = _decode_wav(raw)
    elif raw[:4] == b"fLaC":
        samples, rate = _decode_flac(raw)
    elif raw[:4] == b"FORM" and raw[8:12] in (b"AIFF", b"AIFC"):
        samples, rate = _decode_aiff(raw)
    else:
        raise AudioError(f"not a WAV, FLAC or AIFF file (starts with {raw[:4]!r})")
    if samples.shape[0] == 0:
        raise AudioError("no audio samples")
    if not np.all(np.isfinite(samples)):
        raise AudioError("non-finite samples (NaN or Inf)")
    if not np.any(samples):
        raise AudioError("digital silence (all samples are zero)")
    return samples, rate


_WAVE_PCM, _WAVE_FLOAT, _WAVE_EXTENSIBLE = 1, 3, 0xFFFE


def _riff_chunks(raw: bytes, start: int):
    pos = start
    while pos + 8 <= len(raw):
        chunk_id, size = raw[pos : pos + 4], struct.unpack("<I", raw[pos + 4 : pos + 8])[0]
        yield chunk_id, pos + 8, size
        pos += 8 + size + (size & 1)


def _decode_wav(raw: bytes):
    import tensorflow_io as tfio

    fmt = data = None
    for chunk_id, offset, size in _riff_chunks(raw, 12):
        if chunk_id == b"fmt ":
            if size < 16 or offset + 16 > len(raw):
                raise AudioError("truncated WAV header (fmt chunk)")
            fmt = struct.unpack("<HHIIHH", raw[offset : offset + 16])
            if fmt[0] == _WAVE_EXTENSIBLE and size >= 26:
                fmt = (struct.unpack("<H", raw[offset + 24 : offset + 26])[0],) + fmt[1:]
        elif chunk_id == b"data":
            data = (offset, size)
            break
    if fmt is None:
        raise AudioError("truncated WAV header (no fmt chunk)")
    if data is None:
        raise AudioError("truncated WAV (no data chunk)")
    tag, channels, rate, _, block_align, bits = fmt
    if channels < 1 or rate < 1000 or block_align < 1:
        raise AudioError(f"invalid WAV header ({channels} channels, {rate} Hz)")
    if data[0] + data[1] > len(raw):
        raise AudioError(f"truncated WAV: data chunk claims {data[1]} bytes, file holds {len(raw) - data[0]}")
    dtypes = {
        (_WAVE_PCM, 8): (tf.uint8, lambda x: (x - 128.0) / 128.0),
        (_WAVE_PCM, 16): (tf.int16, lambda x: x / 32768.0),
        # tensorflow-io returns 24-bit PCM left-aligned in int32.
        (_WAVE_PCM, 24): (tf.int32, lambda x: x / 2147483648.0),
        (_WAVE_PCM, 32): (tf.int32, lambda x: x / 2147483648.0),
        (_WAVE_FLOAT, 32): (tf.float32, lambda x: x),
    }
    if (tag, bits) not in dtypes:
        raise AudioError(f"unsupported WAV encoding (format tag {tag}, {bits} bits)")
    dtype, scale = dtypes[(tag, bits)]
    contents = tf.constant(raw)
    if (tag, bits) == (_WAVE_PCM, 32):
        # tensorflow-io decodes every 32-bit WAV as float; reinterpret the
        # bits of integer PCM instead of reading them as floats.
        decoded = tf.bitcast(tfio.audio.decode_wav(contents, dtype=tf.float32), tf.int32)
    else:
        decoded = tfio.audio.decode_wav(contents, dtype=dtype)
    samples = scale(decoded.numpy().astype(np.float64)).astype(np.float32)
    return samples.reshape(-1, channels), rate


def _decode_flac(raw: bytes):
    import tensorflow_io as tfio

    # STREAMINFO is the first metadata block: rate 20 bits, channels 3, bits 5.
    if len(raw) < 42:
        raise AudioError("truncated FLAC header")
    info = int.from_bytes(raw[18:26], "big")
    rate = info >> 44
    channels = ((info >> 41) & 0x7) + 1
    bits = ((info >> 36) & 0x1F) + 1
    if bits != 16:
        raise AudioError(f"unsupported FLAC encoding ({bits} bits; 16 supported)")
    try:
        decoded = tfio.audio.decode_flac(tf.constant(raw), dtype=tf.int16)
    except (tf.errors.InvalidArgumentError, tf.errors.OutOfRangeError) as err:
        raise AudioError(f"undecodable FLAC: {err.message.splitlines()[0]}") from err
    return (decoded.numpy().astype(np.float32) / 32768.0).reshape(-1, channels), rate


def _decode_aiff(raw: bytes):
    # tensorflow-io has no AIFF decoder; AIFF is big-endian PCM in an SSND chunk.
    comm = ssnd = None
    pos = 12
    while pos + 8 <= len(raw):
        chunk_id, size = raw[pos : pos + 4], struct.unpack(">I", raw[pos + 4 : pos + 8])[0]
        if chunk_id == b"COMM":
            comm = raw[pos + 8 : pos + 8 + size]
        elif chunk_id == b"SSND":
            ssnd = raw[pos + 16 : pos + 8 + size]
        pos += 8 + size + (size & 1)
    if comm is None or len(comm) < 18 or ssnd is None:
        raise AudioError("truncated AIFF (missing COMM or SSND chunk)")
    if raw[8:12] == b"AIFC" and len(comm) >= 22 and comm[18:22] not in (b"NONE", b"twos"):
        raise AudioError(f"unsupported AIFF-C compression {comm[18:22]!r}")
    channels, frames, bits = struct.unpack(">hIh", comm[:8])
    exponent, mantissa = struct.unpack(">HQ", comm[8:18])
    rate = int(round(mantissa * 2.0 ** ((exponent & 0x7FFF) - 16383 - 63)))
    if bits not in (8, 16, 24, 32) or channels < 1:
        raise AudioError(f"unsupported AIFF encoding ({bits} bits, {channels} channels)")
    width = bits // 8
    count = min(frames * channels, len(ssnd) // width)
    body = np.frombuffer(ssnd[: count * width], dtype=np.uint8).reshape(-1, width)
    # Sign-extend big-endian integers of any width into int32.
    padded = np.zeros((count, 4), dtype=np.uint8)
    padded[:, :width] = body
    values = padded.view(">i4").reshape(-1).astype(np.float64) / 2147483648.0
    return values.astype(np.float32).reshape(-1, channels), rate


# ---------------------------------------------------------------------------
# Mono, 16 kHz


def to_model_rate(samples: np.ndarray, rate: int, config: FeatureConfig) -> np.ndarray:
    """Averages channels and resamples (polyphase, scipy) to config.sample_rate."""
    from scipy.signal import resample_poly

    mono = samples.mean(axis=1) if samples.ndim == 2 else samples
    if rate != config.sample_rate:
        common = math.gcd(rate, config.sample_rate)
        mono = resample_poly(mono, config.sample_rate // common, rate // common)
    if mono.shape[0] < config.min_duration * config.sample_rate:
        raise AudioError(f"too short ({mono.shape[0] / config.sample_rate:.3f} s < {config.min_duration} s)")
    return mono.astype(np.float32)


def load_waveform(path: str, config: FeatureConfig):
    """read_audio + to_model_rate; returns (mono 16 kHz float32, seconds of audio)."""
    samples, rate = read_audio(path)
    return to_model_rate(samples, rate, config), samples.shape[0] / rate


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
