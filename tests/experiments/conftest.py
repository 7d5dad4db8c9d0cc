import yaml

from keras_ser.experiments.suite import resolve_suite_path

# A small network and cheap analysis: the suites' rows and protocols are kept.
TINY_BASE = {"model": {"conv_filters": [8, 8, 8], "lstm_units": 16, "embedding_dim": 16, "domain_hidden": 16},
             "train": {"batch_size": 16, "epochs": 1}}
TINY_ANALYSIS = {"embedding": "pca", "embedding_samples": 300, "probe_samples": 300, "bootstrap": 200}


def tiny_suite(folder, name="paper", **changes) -> str:
    """A shipped suite with a tiny network and cheap analysis, written to folder/<name>-tiny.yaml."""
    with open(resolve_suite_path(name), encoding="utf-8") as f:
        suite = yaml.safe_load(f)
    suite["base"] = {**suite.get("base", {}), **TINY_BASE}
    suite["analysis"] = dict(TINY_ANALYSIS)
    suite.update(changes)
    path = folder / f"{name}-tiny.yaml"
    path.write_text(yaml.safe_dump(suite, sort_keys=False))
    return str(path)
