"""Decoding real-world audio files (keras_ser.audio): every container and encoding
a corpus ships, bit-exact where the format is lossless; bad files raise with a reason."""

import os
import struct
import sys
import subprocess

import numpy as np
import pytest
import soundfile

from keras_ser.audio import AudioError, load_waveform, read_audio

RATE = 16000


def _tone(frames, rate=RATE, amplitude=0.5, seed=3):
    t = np.arange(frames) / rate
    noise = np.random.default_rng(seed).normal(0, 0.02, frames)
    return np.clip(amplitude * np.sin(2 * np.pi * 220 * t) + noise, -0.99, 0.99)


def _chunk(chunk_id: bytes, payload: bytes) -> bytes:
    return chunk_id + struct.pack("<I", len(payload)) + payload + (b"\0" if len(payload) % 2 else b"")


def _wav_with_extra_chunks(path, values: np.ndarray, rate: int, bits: int):
    """The layout of field recorders: FLLR before `data`; LIST, bext and a vendor chunk after it."""
    channels = 1 if values.ndim == 1 else values.shape[1]
    width = bits // 8
    fmt = struct.pack("<HHIIHH", 1, channels, rate, rate * channels * width, channels * width, bits)
    data = values.astype("<i2" if bits == 16 else "u1").tobytes()
    body = (b"WAVE" + _chunk(b"fmt ", fmt) + _chunk(b"FLLR", b"\0" * 4042) + _chunk(b"data", data)
            + _chunk(b"LIST", b"INFOISFT" + struct.pack("<I", 6) + b"Lavf5\0")
            + _chunk(b"bext", b"\0" * 602) + _chunk(b"iXML", b"<BWFXML/>"))
    with open(path, "wb") as f:
        f.write(b"RIFF" + struct.pack("<I", len(body)) + body)


def test_wav_with_extra_chunks_and_odd_frame_count_decodes_exactly(tmp_path):
    frames = 48000 + 1  # odd
    values = np.round(_tone(frames, 48000) * 32767).astype(np.int16)
    path = str(tmp_path / "field.wav")
    _wav_with_extra_chunks(path, values, 48000, 16)
    samples, rate = read_audio(path)
    assert rate == 48000 and samples.shape == (frames, 1)
    np.testing.assert_array_equal(samples[:, 0], values.astype(np.float32) / 32768.0)


def test_8_bit_wav_with_odd_data_size_and_trailing_chunks(tmp_path):
    frames = 16001  # 8-bit mono: an odd-sized data chunk followed by a pad byte
    values = np.round(_tone(frames) * 127 + 128).astype(np.uint8)
    path = str(tmp_path / "eight.wav")
    _wav_with_extra_chunks(path, values, RATE, 8)
    samples, rate = read_audio(path)
    assert samples.shape == (frames, 1)
    np.testing.assert_array_equal(samples[:, 0], (values.astype(np.float32) - 128) / 128.0)


def _quantised(bits, frames=RATE + 7, channels=1):
    signal = _tone(frames)
    if channels > 1:
        signal = np.stack([signal * (1 - 0.2 * c) for c in range(channels)], axis=1)
    return np.round(signal * 2.0 ** (bits - 1)) / 2.0 ** (bits - 1)


LOSSLESS = {  # name -> (format, subtype, bits of the quantisation grid)
    "wav_pcm16": ("WAV", "PCM_16", 16),
    "wav_pcm24": ("WAV", "PCM_24", 24),
    "wav_pcm32": ("WAV", "PCM_32", 24),  # a 24-bit grid is exact in float32
    "wav_float": ("WAV", "FLOAT", 24),
    "wav_double": ("WAV", "DOUBLE", 24),
    "wav_u8": ("WAV", "PCM_U8", 8),
    "wavex_pcm16": ("WAVEX", "PCM_16", 16),
    "rf64_pcm16": ("RF64", "PCM_16", 16),
    "w64_pcm24": ("W64", "PCM_24", 24),
    "flac_16": ("FLAC", "PCM_16", 16),
    "flac_24": ("FLAC", "PCM_24", 24),
    "aiff_16": ("AIFF", "PCM_16", 16),
    "aiff_24": ("AIFF", "PCM_24", 24),
    "aiffc_float": ("AIFF", "FLOAT", 24),  # libsndfile writes float AIFF as AIFF-C
}


@pytest.mark.parametrize("name", sorted(LOSSLESS))
@pytest.mark.parametrize("channels", [1, 2])
def test_lossless_formats_decode_bit_exactly(tmp_path, name, channels):
    container, subtype, bits = LOSSLESS[name]
    expected = _quantised(bits, channels=channels)
    path = str(tmp_path / "audio.bin")  # the name says nothing: the bytes decide
    soundfile.write(path, expected, RATE, format=container, subtype=subtype)
    samples, rate = read_audio(path)
    assert rate == RATE and samples.dtype == np.float32
    np.testing.assert_array_equal(samples, expected.reshape(samples.shape).astype(np.float32))


def test_aiff_c_uncompressed_written_by_hand(tmp_path):
    values = np.round(_tone(RATE) * 32767).astype(">i2")
    exponent = int(np.floor(np.log2(RATE)))
    rate80 = struct.pack(">H", 16383 + exponent) + struct.pack(">Q", RATE << (63 - exponent))
    comm = struct.pack(">hIh", 1, len(values), 16) + rate80 + b"NONE" + b"\x0enot compressed\0"
    ssnd = struct.pack(">II", 0, 0) + values.tobytes()
    body = (b"AIFC" + b"FVER" + struct.pack(">II", 4, 0xA2805140) + b"COMM" + struct.pack(">I", len(comm)) + comm
            + b"SSND" + struct.pack(">I", len(ssnd)) + ssnd)
    path = tmp_path / "aifc.wav"
    path.write_bytes(b"FORM" + struct.pack(">I", len(body)) + body)
    samples, rate = read_audio(str(path))
    assert rate == RATE
    np.testing.assert_array_equal(samples[:, 0], values.astype(np.float32) / 32768.0)


LOSSY = {  # name -> (format, subtype, rate, tolerance on the RMS error)
    "ogg_vorbis": ("OGG", "VORBIS", 16000, 0.02),
    "ogg_opus": ("OGG", "OPUS", 48000, 0.05),
    "mp3": ("MP3", "MPEG_LAYER_III", 16000, 0.05),
}


@pytest.mark.parametrize("name", sorted(LOSSY))
def test_lossy_formats_decode_within_codec_precision(tmp_path, name):
    container, subtype, rate, tolerance = LOSSY[name]
    signal = _tone(rate, rate)
    path = str(tmp_path / f"{name}.audio")
    soundfile.write(path, signal, rate, format=container, subtype=subtype)
    samples, decoded_rate = read_audio(path)
    assert decoded_rate == rate
    decoded = samples[:, 0]
    # Codecs add a delay: compare at the best lag within 50 ms.
    best = min(
        np.sqrt(np.mean((decoded[lag:lag + rate // 2] - signal[: rate // 2]) ** 2)) for lag in range(0, rate // 20, 8)
    )
    assert best < tolerance, best


def test_channels_are_averaged_and_resampled_to_16k(tmp_path):
    rate = 44100
    left = _tone(rate, rate)
    path = str(tmp_path / "stereo.flac")
    soundfile.write(path, np.stack([left, np.zeros_like(left)], axis=1), rate, subtype="PCM_24")
    waveform, seconds = load_waveform(path)
    assert seconds == pytest.approx(1.0)
    assert waveform.dtype == np.float32 and abs(waveform.shape[0] - RATE) <= 1
    assert np.max(np.abs(waveform)) == pytest.approx(np.max(np.abs(left)) / 2, rel=0.05)
    spectrum = np.abs(np.fft.rfft(waveform))
    assert abs(np.argmax(spectrum) * RATE / waveform.shape[0] - 220) < 2


@pytest.mark.parametrize("content, reason", [
    (b"", "empty file"),
    (b"RIFF\x24\x00\x00\x00WAVEfmt ", "undecodable audio"),
    (bytes(range(256)) * 4, "undecodable audio: .*Format not recognised"),
])
def test_bad_bytes_raise_with_reason(tmp_path, content, reason):
    path = tmp_path / "bad.wav"
    path.write_bytes(content)
    with pytest.raises(AudioError, match=reason):
        read_audio(str(path))


def test_paths_that_fail_even_as_root(tmp_path):
    (tmp_path / "folder.wav").mkdir()
    with pytest.raises(AudioError, match="unreadable file: is a directory"):
        read_audio(str(tmp_path / "folder.wav"))
    os.symlink(str(tmp_path / "gone.wav"), str(tmp_path / "dangling.wav"))
    with pytest.raises(AudioError, match="unreadable file: No such file"):
        read_audio(str(tmp_path / "dangling.wav"))


def test_a_cut_data_chunk_decodes_the_samples_present(tmp_path):
    values = np.round(_tone(RATE) * 32767).astype(np.int16)
    path = str(tmp_path / "cut.wav")
    soundfile.write(path, values, RATE, subtype="PCM_16")
    raw = open(path, "rb").read()
    open(path, "wb").write(raw[: 44 + 2 * 5000])
    samples, _ = read_audio(path)
    np.testing.assert_array_equal(samples[:, 0], values[:5000].astype(np.float32) / 32768.0)


def test_silence_non_finite_and_too_short(tmp_path):
    soundfile.write(str(tmp_path / "silent.wav"), np.zeros(8000), RATE, subtype="PCM_16")
    with pytest.raises(AudioError, match="digital silence"):
        read_audio(str(tmp_path / "silent.wav"))
    signal = _tone(8000)
    signal[100] = np.nan
    soundfile.write(str(tmp_path / "nan.wav"), signal, RATE, subtype="FLOAT")
    with pytest.raises(AudioError, match="non-finite"):
        read_audio(str(tmp_path / "nan.wav"))
    soundfile.write(str(tmp_path / "short.wav"), _tone(800), RATE, subtype="PCM_16")
    with pytest.raises(AudioError, match="too short"):
        load_waveform(str(tmp_path / "short.wav"))


def test_decoding_imports_no_tensorflow():
    code = ("import sys, keras_ser.audio, keras_ser.predict; "
            "print(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
