"""MirroredStrategy over two logical CPU devices equals one replica on the same global batch."""

import json
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))


@pytest.mark.slow
def test_two_replicas_train_like_one():
    # Logical devices must be configured before TensorFlow initialises: own process.
    result = subprocess.run([sys.executable, os.path.join(HERE, "mirrored_check.py")],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["replicas"] == 2
    # The centers moved, and moved identically (all-reduced sums and counts).
    assert report["center_moved"] > 0.1
    assert report["center_max_diff"] < 1e-6
    # Whole train steps (reversal, center loss, domain heads, synchronized BN):
    # identical weights up to float summation order...
    assert report["weights_count"] > 20
    assert report["weights_max_diff"] < 1e-5
    # ...after steps that trained every trainable weight (a no-op step would pass the line above).
    assert report["trainable_count"] > 10 and report["unmoved_trainable"] == []
    assert report["weights_moved"] > 100 * 1e-5
