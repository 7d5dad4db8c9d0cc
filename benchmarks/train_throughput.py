"""Training speed: the bare train step against the fit loop, 1 and 2 replicas (not a test).

    python benchmarks/train_throughput.py [--replicas 1,2] [--steps 32] [--epochs 3]
        [--steps-per-execution N] [--synchronized-batch-norm] [--set KEY=VALUE ...]

Segments per second of
- the bare step: train steps on one in-memory batch (no input pipeline),
  `steps_per_execution` steps per call, values read once per call, timed in
  bursts of `--steps` steps after each epoch of the fit loop (and once before
  it, not counted): a shared machine's speed drifts by 10 % and more within a
  minute, so the step is timed at the same moments as the loop;
- the fit loop: `Trainer.fit` on the synthetic small corpora (input
  pipeline, progress, validation and checkpoints included), epochs after the
  first (which traces the step), steps x batch / epoch wall time, the bursts
  left out;
and each as a share of this machine's float32 matmul rate, measured in the
same run with 2048 x 2048 matmuls in TensorFlow (a training step costs about
3x the forward pass's multiply-adds, counted from the model's layers).
Also printed: the share of the loop's epochs spent in its train-step calls
(drift cannot move it: both sides are timed in the same epoch) and the
steps' rate there; the same rates from the median call and the median epoch,
which a shared machine's slow moments move much less than the means. Each
rate is also given per CPU second (process CPU time, all threads), which a
busy shared machine disturbs much less than wall time.
Each replica count runs in its own process (2 replicas: MirroredStrategy over
two logical CPU devices, which must exist before TensorFlow starts).
`--synchronized-batch-norm` runs Keras's synchronized BatchNorm on one
replica too (the non-fused statistics), for comparison.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

MATMUL_SIZE = 2048


def matmul_rate(repeats: int = 5, chain: int = 8):
    """float32 FLOP per second of wall time and per CPU second (all threads)
    of chained 2048 x 2048 matmuls (best of `repeats`)."""
    import tensorflow as tf

    a = tf.random.normal([MATMUL_SIZE, MATMUL_SIZE]) / MATMUL_SIZE**0.5
    b = tf.random.normal([MATMUL_SIZE, MATMUL_SIZE]) / MATMUL_SIZE**0.5

    @tf.function
    def chained(x):
        for _ in range(chain):
            x = tf.matmul(x, b)
        return tf.reduce_sum(x)

    chained(a).numpy()
    best, best_cpu = float("inf"), float("inf")
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        chained(a).numpy()
        best = min(best, time.perf_counter() - start)
        best_cpu = min(best_cpu, time.process_time() - start_cpu)
    flops = chain * 2 * MATMUL_SIZE**3
    return flops / best, flops / best_cpu


def train_flops_per_segment(model) -> float:
    """Multiply-adds x 2 of the forward pass, x 3 for forward and backward."""
    import keras

    flops = 0.0
    for layer in model._flatten_layers(include_self=False):
        if isinstance(layer, keras.layers.Conv2D):
            _, height, width, filters = layer.output.shape
            kernel = layer.kernel.shape
            flops += 2 * height * width * filters * kernel[0] * kernel[1] * kernel[2]
        elif isinstance(layer, keras.layers.Bidirectional):
            steps, features, units = layer.input.shape[1], layer.input.shape[2], layer.forward_layer.units
            flops += 2 * 2 * steps * 4 * units * (features + units)
        elif isinstance(layer, keras.layers.Dense):
            flops += 2 * layer.kernel.shape[0] * layer.kernel.shape[1]
    return 3 * flops


def measure(replicas: int, args) -> dict:
    """Runs in a child process with `replicas` logical CPU devices."""
    import tensorflow as tf

    if replicas > 1:
        tf.config.set_logical_device_configuration(
            tf.config.list_physical_devices("CPU")[0], [tf.config.LogicalDeviceConfiguration()] * replicas)
    from keras_ser.config import load_fit_config, merge, parse_assignments
    from keras_ser.data import resolve_prepared
    from keras_ser.fit import build_data
    from keras_ser.layers import batch_norm
    from keras_ser.protocols import plan_speakers
    from keras_ser.training.trainer import DataPlan, Trainer

    if args.synchronized_batch_norm:
        batch_norm.BatchNormalization._fusable = lambda self, inputs, mask: False
    overrides = {"train": {"epochs": args.epochs}}
    if args.steps_per_execution:
        overrides["train"]["steps_per_execution"] = args.steps_per_execution
    config = load_fit_config(None, merge(overrides, parse_assignments(args.set)))
    devices = [d.name for d in tf.config.list_logical_devices("CPU")]
    strategy = tf.distribute.MirroredStrategy(devices) if replicas > 1 else tf.distribute.get_strategy()
    prepared = resolve_prepared(config, verbose=False)
    data_plan, _, _, _ = build_data(config, prepared, plan_speakers(config, prepared))
    batch, per_call = config.train.batch_size, config.train.steps_per_execution

    # Bare step: one cached global batch, split over the replicas.
    cached = next(iter(data_plan.train_dataset(0)))

    def cached_dataset(seed, context=None):
        size = context.get_per_replica_batch_size(batch) if context else batch
        index = context.input_pipeline_id if context else 0
        part = tf.nest.map_structure(lambda t: t[index * size:(index + 1) * size], cached)
        return tf.data.Dataset.from_tensors(part).repeat()

    frozen = DataPlan(cached_dataset, None, per_call, data_plan.head_sizes)
    bare = Trainer(config, strategy, frozen, tempfile.mkdtemp(prefix="keras_ser_bench_"))
    iterator = iter(strategy.distribute_datasets_from_function(lambda context: cached_dataset(0, context)))
    bare._run_steps(iterator, 0, per_call)
    calls = max(1, args.steps // per_call)
    call_seconds, step_wall, step_cpu_seconds = [], [], []

    def time_bare_steps():
        start, start_cpu = time.perf_counter(), time.process_time()
        for call in range(calls):
            began = time.perf_counter()
            bare._run_steps(iterator, call * per_call, per_call)
            call_seconds.append(time.perf_counter() - began)
        step_wall.append(time.perf_counter() - start)
        step_cpu_seconds.append(time.process_time() - start_cpu)

    time_bare_steps()
    flops = train_flops_per_segment(bare.network.training_model)

    # Fit loop: whole epochs on the prepared corpora, with a burst of bare steps after each
    # epoch (left out of the epochs' times), so that the two rates sample the machine at the
    # same moments: a shared machine's speed drifts by 10 % and more within a minute.
    trainer = Trainer(config, strategy, data_plan, tempfile.mkdtemp(prefix="keras_ser_bench_"))
    epoch_seconds, epoch_cpu_seconds, in_steps = [], [], [0.0]
    # The loop's own share of an epoch, which the machine's drift cannot move: the time
    # inside its train-step calls against the whole epoch.
    run_steps = trainer._run_steps

    def timed_run_steps(*step_args):
        began = time.perf_counter()
        values = run_steps(*step_args)
        in_steps[-1] += time.perf_counter() - began
        return values

    trainer._run_steps = timed_run_steps
    started = {"wall": time.perf_counter(), "cpu": time.process_time()}

    def epoch_end(record):
        epoch_seconds.append(time.perf_counter() - started["wall"])
        epoch_cpu_seconds.append(time.process_time() - started["cpu"])
        in_steps.append(0.0)
        time_bare_steps()
        started.update(wall=time.perf_counter(), cpu=time.process_time())

    trainer.fit(verbose=False, on_epoch_end=epoch_end)
    segments = calls * per_call * batch
    # The step's rate from the bursts around the timed epochs (after the first epoch on).
    step = len(step_wall[1:]) * segments / sum(step_wall[1:])
    step_cpu = len(step_wall[1:]) * segments / sum(step_cpu_seconds[1:])
    # The median call: what the step runs at when nothing else takes the cores.
    step_median = per_call * batch / statistics.median(call_seconds)
    # The first epoch traces the step and fills the in-memory cache: not timed.
    timed, timed_in_steps = epoch_seconds[1:], sum(in_steps[1:len(epoch_seconds)])
    timed_segments = len(timed) * data_plan.steps_per_epoch * batch
    fit = timed_segments / sum(timed)
    fit_median = data_plan.steps_per_epoch * batch / statistics.median(timed)
    step_share = timed_in_steps / sum(timed)
    in_loop_step = timed_segments / timed_in_steps
    fit_cpu = timed_segments / sum(epoch_cpu_seconds[1:])
    return {"replicas": replicas, "batch": batch, "steps_per_execution": per_call, "step": step, "fit": fit,
            "step_median": step_median, "fit_median": fit_median,
            "step_bursts": [segments / wall for wall in step_wall],
            "step_share": step_share, "in_loop_step": in_loop_step,
            "step_per_cpu_second": step_cpu, "fit_per_cpu_second": fit_cpu,
            "first_epoch_seconds": epoch_seconds[0], "epoch_seconds": timed,
            "flops_per_segment": flops, "load_average": os.getloadavg()[0]}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--replicas", default="1,2", help="comma-separated replica counts (default 1,2)")
    parser.add_argument("--steps", type=int, default=32, help="bare-step steps to time (default 32)")
    parser.add_argument("--epochs", type=int, default=3, help="fit-loop epochs; the first is not timed (default 3)")
    parser.add_argument("--steps-per-execution", type=int, help="override train.steps_per_execution")
    parser.add_argument("--synchronized-batch-norm", action="store_true",
                        help="Keras's synchronized BatchNorm statistics on one replica too (no fused kernel)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="any setting of the config tree, as for keras_ser.fit (e.g. train.in_memory_mb=0)")
    parser.add_argument("--json", help="write the numbers here")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.epochs < 2:
        parser.error("--epochs: at least 2 (the first epoch traces the step and is not timed)")
    if args.child:
        print(json.dumps(measure(args.child, args)))
        return

    rows = []
    for replicas in [int(r) for r in args.replicas.split(",")]:
        command = [sys.executable, os.path.abspath(__file__), "--child", str(replicas), "--steps", str(args.steps),
                   "--epochs", str(args.epochs)]
        if args.steps_per_execution:
            command += ["--steps-per-execution", str(args.steps_per_execution)]
        if args.synchronized_batch_norm:
            command.append("--synchronized-batch-norm")
        command += [f"--set={assignment}" for assignment in args.set]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            sys.exit(f"{replicas} replica(s) failed:\n{result.stderr[-3000:]}")
        rows.append(json.loads(result.stdout.strip().splitlines()[-1]))
    rate, rate_cpu = matmul_rate()
    print(f"float32 matmul ({MATMUL_SIZE}x{MATMUL_SIZE}): {rate / 1e9:.0f} GFLOP/s, {rate_cpu / 1e9:.0f} GFLOP per CPU "
          f"second; a train step costs {rows[0]['flops_per_segment'] / 1e6:.0f} MFLOP per segment; "
          f"load average {os.getloadavg()[0]:.1f}")
    print("wall: segments/s; CPU: segments per CPU second (all threads; less sensitive to a busy machine)")
    print(f"{'replicas':>8} {'steps/call':>10} {'step seg/s':>11} {'% matmul':>9} {'fit seg/s':>10} {'% matmul':>9}"
          f" {'fit/step':>9} {'step CPU':>9} {'fit CPU':>8} {'% matmul':>9} {'fit/step':>9}")
    for row in rows:
        share, share_cpu = row["flops_per_segment"] / rate * 100, row["flops_per_segment"] / rate_cpu * 100
        print(f"{row['replicas']:>8} {row['steps_per_execution']:>10} {row['step']:>11.0f} {row['step'] * share:>8.1f}%"
              f" {row['fit']:>10.0f} {row['fit'] * share:>8.1f}% {row['fit'] / row['step']:>8.0%}"
              f" {row['step_per_cpu_second']:>9.0f} {row['fit_per_cpu_second']:>8.0f}"
              f" {row['step_per_cpu_second'] * share_cpu:>8.1f}%"
              f" {row['fit_per_cpu_second'] / row['step_per_cpu_second']:>8.0%}")
        row.update(matmul_flops=rate, matmul_flops_per_cpu_second=rate_cpu)
    print("bare-step bursts (before the fit loop, then after each epoch), seg/s: " + "; ".join(
        f"{row['replicas']} replica(s) " + ", ".join(f"{rate:.0f}" for rate in row["step_bursts"]) for row in rows))
    print("inside the fit loop: share of its epochs' wall time in train-step calls (what validation, "
          "checkpoints and the host leave to the steps), and the steps' rate there against the bare step's:")
    for row in rows:
        print(f"{row['replicas']:>8} replica(s): {row['step_share']:.1%} of the epochs in step calls, "
              f"steps at {row['in_loop_step']:.0f} seg/s ({row['in_loop_step'] / row['step']:.0%} of the bare step)")
    print("median call / median epoch (a shared machine's slow moments left out):")
    print(f"{'replicas':>8} {'step seg/s':>11} {'% matmul':>9} {'fit seg/s':>10} {'fit/step':>9}")
    for row in rows:
        share = row["flops_per_segment"] / rate * 100
        print(f"{row['replicas']:>8} {row['step_median']:>11.0f} {row['step_median'] * share:>8.1f}%"
              f" {row['fit_median']:>10.0f} {row['fit_median'] / row['step_median']:>8.0%}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
