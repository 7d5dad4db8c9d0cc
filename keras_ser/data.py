"""Where a run's prepared TFRecords come from.

Given corpus roots, the prepare step runs into a cache folder keyed by the
roots and the feature settings (a rerun only checks receipts). Given no
corpora, the synthetic corpora are generated (once per scale and seed) and
prepared the same way: the embedded default data.
"""

import dataclasses
import hashlib
import json
import os
import time

from keras_ser.config import FitConfig
from pipelines.dataset import PreparedCorpora


def cache_dir() -> str:
    return os.path.abspath(os.path.expanduser(os.environ.get("KERAS_SER_CACHE", "~/.cache/keras_ser")))


def synthetic_corpora(scale: str, seed: int, verbose: bool = True) -> dict:
    from keras_ser.synth import generate

    return generate(os.path.join(cache_dir(), "synthetic", f"{scale}-seed{seed}"), scale=scale, seed=seed)


def resolve_prepared(config: FitConfig, writer: bool = True, verbose: bool = True) -> PreparedCorpora:
    """Returns the prepared corpora for `config`, preparing them if needed.

    `writer=False` (non-chief workers) waits for the chief's prepared folder
    instead of writing into it concurrently.
    """
    from pipelines.prepare import prepare

    data = config.data
    if data.prepared and not data.corpora and os.path.exists(os.path.join(data.prepared, "prepared.json")):
        return PreparedCorpora(data.prepared)
    corpora = data.corpora or synthetic_corpora(data.synthetic_scale, data.synthetic_seed, verbose)
    key = hashlib.sha256(json.dumps(
        [sorted((k, os.path.abspath(v)) for k, v in corpora.items()), dataclasses.asdict(config.features), data.emotion_map],
        sort_keys=True).encode()).hexdigest()[:12]
    out = data.prepared or os.path.join(cache_dir(), "prepared", key)
    if writer:
        prepare(corpora, out, config.features, data, verbose=verbose)
    else:
        _wait_for(os.path.join(out, "prepared.json"))
    return PreparedCorpora(out)


def _wait_for(path: str, timeout: float = 1800.0) -> None:
    deadline = time.time() + timeout
    while not os.path.exists(path):
        if time.time() > deadline:
            raise TimeoutError(f"waited {timeout:.0f} s for the chief to write {path}")
        time.sleep(2.0)
