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

from keras_ser.config import ConfigError, FeatureConfig, FitConfig
from pipelines.dataset import PreparedCorpora


def cache_dir() -> str:
    return os.path.abspath(os.path.expanduser(os.environ.get("KERAS_SER_CACHE", "~/.cache/keras_ser")))


def synthetic_corpora(scale: str, seed: int, verbose: bool = True) -> dict:
    from keras_ser.synth import generate
    from keras_ser.synth.generation import SynthError

    try:
        return generate(os.path.join(cache_dir(), "synthetic", f"{scale}-seed{seed}"), scale=scale, seed=seed)
    except SynthError as err:
        raise ConfigError(f"data.corpora: none given, so the synthetic default corpora would be generated; {err}") from err


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


def adopt_prepared_features(config: FitConfig) -> FitConfig:
    """A run on an existing prepared folder takes that folder's feature settings (segment length, hop, ...).

    Its TFRecords were cut with them, and the run folder's config.yaml is what
    export and predict read, so a folder prepared with `--segment-hop 1060`
    exports a model that segments with 1060 too. Feature settings given
    explicitly (not the defaults) that differ from the folder's are an error.
    """
    data = config.data
    path = os.path.join(data.prepared or "", "prepared.json")
    if not data.prepared or data.corpora or not os.path.exists(path):
        return config
    with open(path, encoding="utf-8") as f:
        prepared = FeatureConfig(**json.load(f)["features"])
    if config.features != prepared and config.features != FeatureConfig():
        differences = [f"features.{k}: {v!r} here, {getattr(prepared, k)!r} in the folder"
                       for k, v in dataclasses.asdict(config.features).items() if v != getattr(prepared, k)]
        raise ConfigError(f"{'; '.join(differences)}: the prepared folder {data.prepared} was cut with its own "
                          "feature settings; drop these settings or prepare the corpora again with them")
    config.features = prepared
    return config


def _wait_for(path: str, timeout: float = 1800.0) -> None:
    deadline = time.time() + timeout
    while not os.path.exists(path):
        if time.time() > deadline:
            raise TimeoutError(f"waited {timeout:.0f} s for the chief to write {path}")
        time.sleep(2.0)
