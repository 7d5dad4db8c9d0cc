"""eSpeak NG through ctypes: text in, 22050 Hz int16 samples out.

The library is loaded and initialised once per process (`Synthesizer.get()`).
Each `synthesize` call sets voice, prosody and the noise seeds from scratch,
but eSpeak NG also keeps synthesis state across calls that neither
espeak_Terminate nor a re-initialisation resets (glottal phase, flutter
index): the same call made twice in one process can differ by a few samples.
Output is therefore a function of the arguments *and of what this process
spoke before*; `keras_ser.synth.generate` runs every speaker in a fresh
process, which keeps the corpora byte-identical whatever the worker count.

Enum values follow espeak-ng's `speak_lib.h` (API revision 12):
    espeak_AUDIO_OUTPUT: PLAYBACK=0, RETRIEVAL=1, SYNCHRONOUS=2, SYNCH_PLAYBACK=3
    espeak_PARAMETER:    SILENCE=0, RATE=1, VOLUME=2, PITCH=3, RANGE=4, ...
    espeak_POSITION_TYPE: POS_CHARACTER=1, POS_WORD=2, POS_SENTENCE=3
"""

import ctypes
import os
import threading
from typing import Optional

import numpy as np

AUDIO_OUTPUT_SYNCHRONOUS = 2
# speak_lib.h: "don't exit() on a fatal error, return an error code instead".
INITIALIZE_DONT_EXIT = 0x8000
ESPEAK_RATE = 1
ESPEAK_VOLUME = 2
ESPEAK_PITCH = 3
ESPEAK_RANGE = 4
POS_CHARACTER = 1
ESPEAK_CHARS_UTF8 = 1
EE_OK = 0

SAMPLE_RATE = 22050

# Limits documented in speak_lib.h for espeak_SetParameter.
RATE_LIMITS = (80, 450)  # words per minute
PITCH_LIMITS = (0, 100)  # base pitch, 50 = voice default
RANGE_LIMITS = (0, 100)  # pitch range, 0 = monotone, 50 = normal

# int t_espeak_callback(short *wav, int numsamples, espeak_EVENT *events)
_SYNTH_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)


class EspeakError(RuntimeError):
    """eSpeak NG refused a call (missing voice, bad data path, ...)."""


class Synthesizer:
    """The per-process eSpeak NG engine (synchronous mode, samples via callback).

    Args:
        library_path: libespeak-ng.so; default from `espeakng_loader`.
        data_path: the espeak-ng-data folder; default from `espeakng_loader`.

    Example:
        >>> audio = Synthesizer.get().synthesize("Hello there.", voice="en+f2")
        >>> audio.dtype, Synthesizer.get().sample_rate
        (dtype('int16'), 22050)
    """

    _instance: Optional["Synthesizer"] = None
    _instance_pid: Optional[int] = None
    _lock = threading.Lock()

    def __init__(self, library_path: Optional[str] = None, data_path: Optional[str] = None):
        if library_path is None or data_path is None:
            import espeakng_loader

            library_path = library_path or espeakng_loader.get_library_path()
            data_path = data_path or espeakng_loader.get_data_path()
        self.library_path = library_path
        self.data_path = data_path
        self._lib = ctypes.CDLL(library_path)
        self._declare_signatures()
        self._libc = ctypes.CDLL(None)
        rate = self._lib.espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, data_path.encode(), INITIALIZE_DONT_EXIT)
        if rate <= 0:
            raise EspeakError(f"espeak_Initialize failed (returned {rate}) with data path {data_path!r}")
        self.sample_rate = rate
        self._chunks: list = []
        # The CFUNCTYPE object must outlive every synthesis: keep it on self,
        # or the C side calls into freed memory.
        self._callback = _SYNTH_CALLBACK(self._collect)
        self._lib.espeak_SetSynthCallback(self._callback)

    @classmethod
    def get(cls) -> "Synthesizer":
        """The engine of this process, created on first use (and again after a fork)."""
        with cls._lock:
            if cls._instance is None or cls._instance_pid != os.getpid():
                cls._instance = cls()
                cls._instance_pid = os.getpid()
            return cls._instance

    def _declare_signatures(self):
        lib = self._lib
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_SetSynthCallback.argtypes = [_SYNTH_CALLBACK]
        lib.espeak_SetSynthCallback.restype = None
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetVoiceByName.restype = ctypes.c_int
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_SetParameter.restype = ctypes.c_int
        lib.espeak_Synth.argtypes = [
            ctypes.c_void_p,  # text
            ctypes.c_size_t,  # size in bytes, including the terminating NUL
            ctypes.c_uint,  # position
            ctypes.c_int,  # position_type
            ctypes.c_uint,  # end_position (0 = to the end)
            ctypes.c_uint,  # flags
            ctypes.c_void_p,  # unique_identifier
            ctypes.c_void_p,  # user_data
        ]
        lib.espeak_Synth.restype = ctypes.c_int
        lib.espeak_ng_SetRandSeed.argtypes = [ctypes.c_long]
        lib.espeak_ng_SetRandSeed.restype = None

    def _collect(self, wav, numsamples, events):
        # Called from inside espeak_Synth (same thread, synchronous mode);
        # wav is NULL with numsamples == 0 at the end. Returning 0 continues.
        if numsamples > 0 and wav:
            self._chunks.append(ctypes.string_at(wav, numsamples * 2))
        return 0

    def _check(self, status: int, what: str):
        if status != EE_OK:
            raise EspeakError(f"{what} failed with espeak error {status}")

    def synthesize(
        self,
        text: str,
        voice: str = "en",
        rate: int = 175,
        pitch: int = 50,
        pitch_range: int = 50,
        volume: int = 100,
        rand_seed: int = 0,
    ) -> np.ndarray:
        """Speaks `text` and returns its int16 samples at `self.sample_rate`.

        Args:
            text: UTF-8 text.
            voice: espeak voice name, optionally with a variant ("en-us+m3").
            rate: words per minute, clipped to RATE_LIMITS.
            pitch: base pitch 0-100, clipped.
            pitch_range: pitch range 0-100, clipped.
            volume: amplitude 0-200.
            rand_seed: seeds the generators espeak uses for breath noise, so
                voices with a `breath` setting stay reproducible.
        """
        lib = self._lib
        self._check(lib.espeak_SetVoiceByName(voice.encode()), f"espeak_SetVoiceByName({voice!r})")
        self._check(lib.espeak_SetParameter(ESPEAK_RATE, int(np.clip(rate, *RATE_LIMITS)), 0), "set rate")
        self._check(lib.espeak_SetParameter(ESPEAK_VOLUME, int(np.clip(volume, 0, 200)), 0), "set volume")
        self._check(lib.espeak_SetParameter(ESPEAK_PITCH, int(np.clip(pitch, *PITCH_LIMITS)), 0), "set pitch")
        self._check(
            lib.espeak_SetParameter(ESPEAK_RANGE, int(np.clip(pitch_range, *RANGE_LIMITS)), 0), "set range"
        )
        # Breath/roughness noise comes from espeak's own generator and, in
        # some builds, libc rand(): reseed both so history does not leak in.
        seed = int(rand_seed) % (2**31 - 1)
        lib.espeak_ng_SetRandSeed(seed)
        self._libc.srand(ctypes.c_uint(seed))
        encoded = text.encode("utf-8") + b"\0"
        buffer = ctypes.create_string_buffer(encoded, len(encoded))
        self._chunks = []
        self._check(
            lib.espeak_Synth(buffer, len(encoded), 0, POS_CHARACTER, 0, ESPEAK_CHARS_UTF8, None, None),
            "espeak_Synth",
        )
        audio = np.frombuffer(b"".join(self._chunks), dtype="<i2").copy()
        self._chunks = []
        if audio.size == 0:
            raise EspeakError(f"espeak produced no audio for {text!r} with voice {voice!r}")
        return audio
