"""Run an experiment suite and write its report: `python -m keras_ser.experiments`.

    python -m keras_ser.experiments --suite paper --seeds 3 --out results/paper            # synthetic corpora
    python -m keras_ser.experiments --suite paper --data corpora.yaml --seeds 3 --folds 4 --out results/paper-cv
    python -m keras_ser.experiments --suite my_study.yaml --prepared data/prepared --out results/study

Repeating a command trains only what is missing and rewrites the report.
"""

import argparse
import sys
from typing import Optional

from keras_ser.config import ConfigError, load_yaml, merge, parse_assignments
from keras_ser.experiments.suite import RESERVED


def build_parser(prog: str = "python -m keras_ser.experiments") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n".join(__doc__.split("\n")[2:]))
    parser.add_argument("--suite", default="paper",
                        help=f"suite YAML, or a shipped suite name ({', '.join(shipped_suites())}); default paper")
    parser.add_argument("--out", required=True, help="folder for runs/, plots/, report.md and report.json")
    parser.add_argument("--data", help="YAML with `corpora: {name: root}`; default: the synthetic corpora")
    parser.add_argument("--prepared", help="folder of prepared TFRecords (pipelines.prepare output)")
    parser.add_argument("--synthetic-scale", choices=["tiny", "small", "paper"],
                        help="size of the synthetic corpora used without --data (default small)")
    parser.add_argument("--seeds", type=int, help="training seeds per system (default: the suite's, paper: 3)")
    parser.add_argument("--folds", type=int,
                        help="speaker-level cross-validation: K folds over each corpus's speakers (default: none)")
    parser.add_argument("--epochs", type=int, help="maximum epochs per run (default: the suite's settings)")
    parser.add_argument("--batch-size", type=int, help="global batch size per run")
    parser.add_argument("--task", choices=["arousal", "valence", "both"],
                        help="tables for one task only (runs then train that task alone)")
    parser.add_argument("--cross-sources",
                        help="cross protocol sources: auto (iemocap if present, else each corpus), all, or A,B")
    parser.add_argument("--paper-reference", help="YAML of the paper's numbers (default: the shipped, empty slot)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="any setting of the config tree for every run (e.g. train.patience=8); VALUE is YAML; "
                             "repeatable; wins over the suite's base and variants. Keys the suite decides per run "
                             "(protocol, task, train.seed, ...) are refused")
    parser.add_argument("--quiet", action="store_true", help="print only errors")
    return parser


def shipped_suites() -> list:
    """Names of the suites in keras_ser/configs/suites (the paper's reference numbers are not a suite)."""
    import os

    folder = os.path.join(os.path.dirname(os.path.dirname(__file__)), "configs", "suites")
    return sorted(name[:-5] for name in os.listdir(folder) if name.endswith(".yaml") and name != "paper_reference.yaml")


def overrides_from_args(args) -> tuple:
    """(FitConfig settings from the flags, whether --data names synthetic corpora)."""
    tree: dict = {}
    synthetic = None
    if args.data:
        data = dict(load_yaml(args.data))
        synthetic = data.pop("synthetic", None) is not None  # provenance note of keras_ser.synth
        tree["data"] = data
    if args.prepared:
        tree.setdefault("data", {})["prepared"] = args.prepared
    if args.synthetic_scale:
        tree.setdefault("data", {})["synthetic_scale"] = args.synthetic_scale
    for key, value in (("epochs", args.epochs), ("batch_size", args.batch_size)):
        if value is not None:
            tree.setdefault("train", {})[key] = value
    settings = parse_assignments(getattr(args, "set", []))
    for item in getattr(args, "set", []):
        key = item.partition("=")[0].strip().replace("lambda_", "lambda")
        if any(key == reserved or key.startswith(reserved + ".") for reserved in RESERVED):
            raise ConfigError(f"--set {key}: the suite decides this per run; use the matching flag "
                              "(--task, --seeds, --folds, --cross-sources) or the suite YAML")
    return merge(tree, settings), (True if synthetic else None)


def main(argv: Optional[list] = None, prog: str = "python -m keras_ser.experiments") -> int:
    args = build_parser(prog).parse_args(argv)
    # After parsing: --help and argument errors never wait for TensorFlow.
    from keras_ser.corpora.base import LayoutError
    from keras_ser.experiments import load_suite, run_suite
    from keras_ser.training.trainer import CheckpointError
    from pipelines.dataset import CorruptShardError

    try:
        if args.seeds is not None and args.seeds < 1:
            raise ConfigError(f"--seeds: {args.seeds} is not accepted; at least 1")
        if args.folds is not None and (args.folds == 1 or args.folds < 0):
            raise ConfigError(f"--folds: {args.folds} is not accepted; 0 (no folds) or at least 2")
        suite = load_suite(args.suite)
        overrides, synthetic = overrides_from_args(args)
        run_suite(suite, args.out, overrides, seeds=args.seeds, folds=args.folds, task=args.task,
                  sources=args.cross_sources, synthetic=synthetic, verbose=not args.quiet,
                  **({"paper_reference": args.paper_reference} if args.paper_reference else {}))
    except (ConfigError, LayoutError, CheckpointError, CorruptShardError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
