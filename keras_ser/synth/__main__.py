"""python -m keras_ser.synth --out DIR [--scale tiny|small|paper] [--seed N] [--corpora a,b]"""

import argparse
import sys

from keras_ser.synth.layouts import SCALES, SYNTHETIC_CORPORA


def build_parser(prog: str = "python -m keras_ser.synth") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Generate the synthetic stand-ins for IEMOCAP, MSP-IMPROV, SAVEE and Emo-DB "
        "in their own on-disk layouts, plus DIR/data.yaml pointing at them.",
    )
    parser.add_argument("--out", required=True, help="output folder (created if missing); corpora go to OUT/<name>")
    parser.add_argument(
        "--scale",
        choices=SCALES,
        default="small",
        help="tiny: ~1 file per speaker and emotion (tests); small: ~190 files per corpus (default); "
        "paper: the real corpora's sizes",
    )
    parser.add_argument("--seed", type=int, default=0, help="generation seed; same seed and scale, same bytes")
    parser.add_argument(
        "--corpora",
        default=",".join(SYNTHETIC_CORPORA),
        help=f"comma-separated subset of {','.join(SYNTHETIC_CORPORA)} (default: all)",
    )
    parser.add_argument("--workers", type=int, default=None, help="worker processes (default: number of CPUs)")
    return parser


def main(argv=None, prog: str = "python -m keras_ser.synth") -> int:
    args = build_parser(prog).parse_args(argv)
    from keras_ser.synth.generation import SynthError, generate

    corpora = [name.strip() for name in args.corpora.split(",") if name.strip()]
    try:
        roots = generate(args.out, scale=args.scale, seed=args.seed, corpora=corpora, workers=args.workers)
    except (ValueError, SynthError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for name, root in roots.items():
        print(f"{name}\t{root}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
