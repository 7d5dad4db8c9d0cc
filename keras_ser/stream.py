"""Emotion of a live stream: `keras-ser predict --stream -`.

    arecord -f S16_LE -r 16000 -c 1 | keras-ser predict --stream - --model model.tflite
    arecord -f S16_LE -r 16000 -c 1 -t raw | keras-ser predict --stream - --rate 16000 --model model.tflite

The stream is WAV (or any container soundfile reads from a pipe) or, when
`rate` is given, headerless PCM of that rate, channel count and sample
format. Every `step` seconds of audio the last `window` seconds (less at the
start) go through the recognizer, resampled and mixed down like a file, and
one result is yielded: {"start", "end" (seconds of stream time), task:
{"label", "probability", "probabilities"}}. A stream that ends inside a step
gives one last result over what arrived, marked "final": true.

With `adapt_half_life` (seconds), the stream normalises itself: every new
step of audio goes through the model's `statistics` signature into running
statistics (`keras_ser.adaptation.RunningStatistics`, streaming mode: a
frame's weight halves every `adapt_half_life` seconds, the training
statistics as the prior), and each window is scored with them
(`waveform_adapted`). This is how a model trained with `speaker` or
`corpus` normalisation follows its speaker or microphone live; each result
then carries "adapted_seconds", the audio the statistics rest on.
"""

import re
import sys
from typing import Iterator, Optional

import numpy as np

from keras_ser.audio import AudioError

# --sample-format of headerless PCM -> (soundfile subtype, endianness)
SAMPLE_FORMATS = {"s16le": ("PCM_16", "LITTLE"), "s24le": ("PCM_24", "LITTLE"), "s32le": ("PCM_32", "LITTLE"),
                  "f32le": ("FLOAT", "LITTLE"), "u8": ("PCM_U8", "FILE")}


def open_stream(source: str, rate: Optional[int] = None, channels: int = 1, sample_format: str = "s16le"):
    """A soundfile.SoundFile reading `source` ("-" = standard input) as it arrives."""
    import soundfile

    target = sys.stdin.fileno() if source == "-" else source
    options = {"closefd": False} if source == "-" else {}
    if rate is not None:
        subtype, endian = SAMPLE_FORMATS[sample_format]
        options.update(format="RAW", samplerate=rate, channels=channels, subtype=subtype, endian=endian)
    try:
        return soundfile.SoundFile(target, **options)
    except (soundfile.LibsndfileError, RuntimeError, ValueError, OSError) as err:
        name = "standard input" if source == "-" else source
        reason = re.sub(r"^Error opening [^:]*: ", "", " ".join(str(err).split()))
        hint = "" if rate is not None else " (for headerless PCM give --rate, --channels and --sample-format)"
        raise AudioError(f"cannot read the stream from {name}: {reason}{hint}") from err


def frames_per_second(recognizer) -> float:
    """Frames the `statistics` signature counts per second of audio: each segment's frames, a segment per hop."""
    features = recognizer.features
    return features.num_frames * features.sample_rate / features.segment_hop


def running_statistics(recognizer, half_life: float):
    """Streaming-mode statistics whose frames' weight halves every `half_life` seconds."""
    from keras_ser.adaptation import RunningStatistics

    if half_life <= 0:
        raise ValueError(f"--adapt-stream {half_life}: the half-life must be positive seconds")
    return RunningStatistics.for_model(recognizer.model, decay=0.5 ** (1.0 / (half_life * frames_per_second(recognizer))))


def stream_predictions(recognizer, sound, window: float = 2.0, step: float = 0.5,
                       adapt_half_life: Optional[float] = None) -> Iterator[dict]:
    """Yields one result per `step` seconds of `sound` over its last `window` seconds (see module doc)."""
    from keras_ser.export import CLASS_NAMES

    statistics = running_statistics(recognizer, adapt_half_life) if adapt_half_life is not None else None
    if not 0 < step <= window:
        raise ValueError(f"--step {step} and --window {window}: need 0 < step <= window")
    if step < recognizer.features.min_duration:
        raise ValueError(f"--step {step}: at least {recognizer.features.min_duration} s (the shortest usable audio)")
    rate = sound.samplerate
    step_frames, window_frames = max(1, round(step * rate)), max(1, round(window * rate))
    recent = np.zeros((0, sound.channels), np.float32)
    received = 0
    while True:
        block = sound.read(step_frames, dtype="float32", always_2d=True)
        if block.shape[0] == 0:
            return
        received += block.shape[0]
        recent = np.concatenate([recent, block])[-window_frames:]
        final = block.shape[0] < step_frames
        adapted = None
        if statistics is not None:
            new_audio, _ = recognizer.waveform(block, sample_rate=rate)
            if new_audio.shape[0] >= recognizer.features.frame_length:
                statistics.add(**recognizer.model.statistics(new_audio))
            adapted = statistics.mean_std()
        prediction = recognizer(recent, sample_rate=rate, timeline=False, statistics=adapted)
        result = {"start": round((received - recent.shape[0]) / rate, 3), "end": round(received / rate, 3)}
        if statistics is not None:
            result["adapted_seconds"] = round(statistics.frames / frames_per_second(recognizer), 3)
        for task, probabilities in prediction.probabilities.items():
            label = max(probabilities, key=probabilities.get)
            result[task] = {"label": label, "probability": round(probabilities[label], 4),
                            "probabilities": {name: round(probabilities[name], 4) for name in CLASS_NAMES[task]}}
        if final:
            result["final"] = True
        yield result
        if final:
            return
