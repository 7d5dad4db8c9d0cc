"""PNG figures of a suite (matplotlib, Agg backend: no display needed)."""

from typing import Dict, List

import numpy as np

EMBEDDING_COLOURINGS = ("corpus", "gender", "language", "emotion")


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def training_curves(histories: Dict[str, List[dict]], title: str, path: str) -> str:
    """Loss terms, head accuracies and validation UA per epoch; one line per term and seed."""
    plt = _pyplot()
    panels = [
        ("loss terms", lambda k: k.endswith(("_softmax", "_center", "_domain")) or k == "total"),
        ("accuracy of the heads (training batches)", lambda k: k.endswith("_accuracy")),
        ("validation UA", lambda k: k == "val_ua"),
    ]
    figure, axes = plt.subplots(1, 3, figsize=(16, 4.2))
    for axis, (name, wanted) in zip(axes, panels):
        keys = sorted({k for h in histories.values() for r in h for k, v in r.items() if wanted(k) and isinstance(v, float)})
        colours = {k: plt.cm.tab10(i % 10) for i, k in enumerate(keys)}
        for index, (label, history) in enumerate(histories.items()):
            epochs = [r["epoch"] for r in history]
            for key in keys:
                values = [r.get(key, np.nan) for r in history]
                axis.plot(epochs, values, marker="o", color=colours[key], alpha=1.0 if index == 0 else 0.45,
                          label=key if index == 0 else None)
        axis.set_title(name)
        axis.set_xlabel("epoch")
        if keys:
            axis.legend(fontsize=7)
    figure.suptitle(f"{title} ({', '.join(histories)})", fontsize=10)
    # A fixed layout: three panels of one shape, legends inside (tight_layout
    # measured every label and took as long as drawing the figure).
    figure.subplots_adjust(left=0.035, right=0.99, bottom=0.12, top=0.86, wspace=0.16)
    figure.savefig(path, dpi=90)
    plt.close(figure)
    return path


def confusion_grid(matrices: Dict[str, Dict[str, list]], classes: List[str], title: str, path: str) -> str:
    """Rows: systems; columns: corpora; utterance-level counts summed over seeds and folds."""
    plt = _pyplot()
    systems = list(matrices)
    corpora = sorted({c for m in matrices.values() for c in m})
    figure, axes = plt.subplots(len(systems), len(corpora), figsize=(2.6 * len(corpora) + 1, 2.4 * len(systems) + 0.6),
                                squeeze=False)
    for row, system in enumerate(systems):
        for col, corpus in enumerate(corpora):
            axis = axes[row][col]
            matrix = np.asarray(matrices[system].get(corpus, np.zeros((2, 2))), dtype=float)
            recall = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
            axis.imshow(recall, vmin=0, vmax=1, cmap="Blues")
            for (i, j), count in np.ndenumerate(matrix):
                axis.text(j, i, f"{int(count)}", ha="center", va="center",
                          color="white" if recall[i, j] > 0.6 else "black", fontsize=8)
            axis.set_xticks(range(len(classes)), classes, fontsize=7)
            axis.set_yticks(range(len(classes)), classes, fontsize=7)
            if row == 0:
                axis.set_title(corpus, fontsize=9)
            if col == 0:
                axis.set_ylabel(f"{system}\ntrue", fontsize=8)
            if row == len(systems) - 1:
                axis.set_xlabel("predicted", fontsize=8)
    figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    plt.close(figure)
    return path


def project(embeddings: np.ndarray, method: str, seed: int = 0) -> np.ndarray:
    """2-D map of embeddings: t-SNE (perplexity capped for small samples) or PCA."""
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE

    if embeddings.shape[0] < 3:
        return np.zeros((embeddings.shape[0], 2))
    if method == "pca":
        return PCA(n_components=2, random_state=seed).fit_transform(embeddings)
    perplexity = float(min(30.0, (embeddings.shape[0] - 1) / 3))
    return TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(embeddings)


def embedding_maps(maps: Dict[str, dict], method: str, title: str, path: str) -> str:
    """Rows: colour by corpus, gender, language, emotion; columns: systems side by side."""
    plt = _pyplot()
    systems = list(maps)
    figure, axes = plt.subplots(len(EMBEDDING_COLOURINGS), len(systems),
                                figsize=(5.2 * len(systems), 4.2 * len(EMBEDDING_COLOURINGS)), squeeze=False)
    for col, system in enumerate(systems):
        points, labels = maps[system]["points"], maps[system]["labels"]
        for row, colouring in enumerate(EMBEDDING_COLOURINGS):
            axis = axes[row][col]
            values = labels[colouring]
            palette = plt.cm.tab10 if len(set(values)) <= 10 else plt.cm.tab20
            for index, value in enumerate(sorted(set(values))):
                mask = values == value
                axis.scatter(points[mask, 0], points[mask, 1], s=5, alpha=0.7, color=palette(index % palette.N),
                             label=value)
            axis.set_title(f"{system}: {colouring}", fontsize=9)
            axis.set_xticks([])
            axis.set_yticks([])
            axis.legend(fontsize=6, markerscale=2, loc="best")
    figure.suptitle(f"{title} ({method.upper()} of the emotion embedding, test segments)", fontsize=10)
    figure.tight_layout(rect=(0, 0, 1, 0.98))
    figure.savefig(path, dpi=80)
    plt.close(figure)
    return path
