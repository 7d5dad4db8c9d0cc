"""tf.data throughput versus the train step (not a test).

    python benchmarks/pipeline_throughput.py [--prepared DIR] [--steps 50]

Measures batches/s of the input pipeline alone, and of the train step fed
from an in-memory batch (no input cost); the pipeline must be much faster
than the step, so training never waits on it.
"""

import argparse
import time


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--prepared", help="prepared folder (default: the synthetic small corpora)")
    parser.add_argument("--steps", type=int, default=50)
    args = parser.parse_args()

    import tensorflow as tf

    from keras_ser.config import load_fit_config
    from keras_ser.data import resolve_prepared
    from keras_ser.fit import build_data
    from keras_ser.protocols import plan_speakers
    from keras_ser.training.trainer import DataPlan, Trainer

    config = load_fit_config(None, {"data": {"prepared": args.prepared}} if args.prepared else {})
    prepared = resolve_prepared(config, verbose=False)
    plan = plan_speakers(config, prepared)
    data_plan, _, _, _ = build_data(config, prepared, plan)

    dataset = data_plan.train_dataset(0)
    iterator = iter(dataset)
    next(iterator)
    start = time.perf_counter()
    for _ in range(args.steps):
        next(iterator)
    pipeline = args.steps / (time.perf_counter() - start)

    cached = next(iter(dataset))
    frozen = DataPlan(lambda seed, context=None: tf.data.Dataset.from_tensors(cached).repeat(), None,
                      args.steps, data_plan.head_sizes)
    trainer = Trainer(config, tf.distribute.get_strategy(), frozen, "/tmp/keras_ser_bench_run")
    iterator = iter(frozen.train_dataset(0))
    trainer._train_step(iterator)
    start = time.perf_counter()
    for _ in range(args.steps):
        trainer._train_step(iterator)
    step = args.steps / (time.perf_counter() - start)
    batch = config.train.batch_size
    print(f"input pipeline: {pipeline:.1f} batches/s ({pipeline * batch:.0f} segments/s)")
    print(f"train step (input-free): {step:.1f} batches/s ({step * batch:.0f} segments/s)")
    print(f"pipeline / step = {pipeline / step:.1f}x")


if __name__ == "__main__":
    main()
