"""What a search leaves for a reader: the trial table and validation UA over gamma x lambda."""

import json
import os
from typing import Dict, List

from keras_ser.config import FitConfig
from tuning.hypermodel import SEARCH_SPACE, get_field
from tuning.tuner import TRIAL_RECORD

COLUMNS = ("trial", "tuner", "status", "gamma", "lambda", "center_alpha", "learning_rate", "epochs", "val_ua")


def trial_rows(trials, config: FitConfig, runs_dir: str) -> List[Dict]:
    """One row per trial, in trial order; settings not searched show the config's value."""
    rows = []
    for trial in sorted(trials, key=lambda t: t.trial_id):
        values = trial.hyperparameters.values
        row = {"trial": trial.trial_id, "status": trial.status, "val_ua": trial.score}
        for name, setting in SEARCH_SPACE.items():
            row[name] = float(values.get(name, get_field(config, setting.field)))
        row["epochs"] = int(values.get("tuner/epochs", config.train.epochs))
        record_path = os.path.join(runs_dir, trial.trial_id, TRIAL_RECORD)
        row["tuner"] = "-"
        if os.path.exists(record_path):
            with open(record_path, encoding="utf-8") as f:
                row["tuner"] = json.load(f)["tuner_id"]
        rows.append(row)
    return rows


def trial_table(rows: List[Dict], best_id: str = None) -> str:
    """Markdown table of the trials; the best one is marked with *."""
    lines = ["| " + " | ".join(COLUMNS) + " |", "|---" * len(COLUMNS) + "|"]
    for row in rows:
        cells = []
        for column in COLUMNS:
            value = row[column]
            if column == "trial" and value == best_id:
                value = f"{value} *"
            elif column == "val_ua":
                value = "-" if value is None else f"{100 * value:.2f}"
            elif isinstance(value, float):
                value = f"{value:.4g}"
            cells.append(str(value))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot_val_ua(rows: List[Dict], path: str, best_id: str = None) -> str:
    """Scatter of the finished trials over gamma (log) x lambda, coloured by validation UA."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    done = [r for r in rows if r["val_ua"] is not None]
    figure, axes = plt.subplots(figsize=(6, 4.5))
    points = axes.scatter([r["gamma"] for r in done], [r["lambda"] for r in done],
                          c=[100 * r["val_ua"] for r in done], cmap="viridis", s=60, edgecolors="k")
    for r in done:
        axes.annotate(r["trial"], (r["gamma"], r["lambda"]), textcoords="offset points", xytext=(4, 4), fontsize=7)
        if r["trial"] == best_id:
            axes.scatter([r["gamma"]], [r["lambda"]], marker="*", s=300, facecolors="none", edgecolors="r")
    axes.set_xscale("log")
    axes.set_xlabel("gamma (gradient reversal)")
    axes.set_ylabel("lambda (softmax weight, eq. 6)")
    axes.set_title("Validation UA (utterance level) per trial")
    figure.colorbar(points, ax=axes, label="validation UA (%)")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path
