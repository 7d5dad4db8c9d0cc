"""Tables laid out like the paper's: rows are systems (model and loss), columns corpora and average."""

from typing import Dict, List, Optional

SYSTEM_NAMES = {"baseline": "Baseline", "dann1": "DANN_1", "dann2": "DANN_2"}
LOSS_NAMES = {"s": "S", "sc": "S+C"}


def system_name(preset: str, loss: str) -> str:
    return f"{SYSTEM_NAMES.get(preset, preset)} ({LOSS_NAMES.get(loss, loss)})"


def markdown_table(title: str, rows: Dict[str, Dict[str, str]], columns: List[str], bold: Optional[Dict[str, str]] = None) -> str:
    """`rows`: row name -> column -> cell text; `bold`: column -> row name to mark."""
    bold = bold or {}
    lines = [f"**{title}**", "", "| System | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]
    for name, cells in rows.items():
        texts = [f"**{cells.get(c, '-')}**" if bold.get(c) == name else cells.get(c, "-") for c in columns]
        lines.append(f"| {name} | " + " | ".join(texts) + " |")
    return "\n".join(lines)


def run_tables(results: dict, system: str, level: str = "utterance") -> str:
    """UA (%) per test corpus for one run, one table per task."""
    blocks = []
    for task, per_corpus in results.items():
        columns = [c for c in per_corpus if c != "average"] + ["average"]
        cells = {_column(c): f"{100 * per_corpus[c][level]['ua']:.2f}" for c in columns if c in per_corpus}
        blocks.append(markdown_table(f"{task.capitalize()} UA (%), {level} level", {system: cells},
                                     [_column(c) for c in columns]))
    return "\n\n".join(blocks)


def _column(corpus: str) -> str:
    return "Average" if corpus == "average" else corpus
