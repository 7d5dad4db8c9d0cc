"""The paper's network: CNN-BLSTM feature extractor, emotion heads, domain heads.

    spectrogram (32, 129, 1)
      -> [Conv2D 3x3 -> BatchNorm -> ReLU -> MaxPool (mostly over frequency)] x 3
      -> (16 time steps, 8 x 48 features) -> BLSTM(64) -> Dense(64), linear = embedding
    embedding -> per task: Dense(32) projection -> L2 normalisation = task embedding
    task embedding -> CosineClassifier(2, scale s)                    [L_E, eq. (6)]
    task embedding -> ProxyCenterLoss: 2 - 2 cos to the classifier's class
                      direction (training model only)                 [eq. (4)-(5)]
    embedding -> GradientReversal(gamma) -> Dense(64) -> Dense(n) per domain head   [L_D]

With `center_form: bounded` the centers are running (Wen) unit centers
(`CenterLoss(unit_centers=True)`); with `center_form: unbounded` the task
embedding is the raw projection, the classifier a Dense(2) and the centers
unconstrained (eq. 4 as printed).
Each task's layers (`<task>_projection`, `<task>`, `<task>_center`) act on
that task alone; `task_layers` names them.

Two functional models share these layers: `training_model` (spectrogram and
emotion labels/weights in; logits and center distances out) and
`inference_model` (spectrogram in; emotion probabilities out), the one that
is exported. With `unroll=True` (training and export) the LSTM is unrolled
over its 16 static steps, which keeps the exported graph free of TensorList
ops (TFLite builtins only) and measured faster training steps than the
loop; the loop (`unroll=False`) traces about 2 s faster and serves code that
only predicts (the weights and outputs are the same).
"""

import dataclasses
from typing import Dict, List

import keras

from keras_ser.config import FeatureConfig, ModelConfig
from keras_ser.layers import (BatchNormalization, CenterLoss, CosineClassifier, GradientReversal, ProxyCenterLoss,
                              UnitNormalization)


@dataclasses.dataclass
class EmotionNetwork:
    training_model: keras.Model
    inference_model: keras.Model
    extractor: keras.Model
    reversal: keras.layers.Layer
    center_losses: Dict[str, keras.layers.Layer]  # CenterLoss or ProxyCenterLoss per task
    tasks: List[str]
    heads: List[str]


def build_feature_extractor(config: ModelConfig, features: FeatureConfig, unroll: bool = False) -> keras.Model:
    spectrogram = keras.Input(features.shape, name="spectrogram")
    x = spectrogram
    for block, (filters, pool) in enumerate(zip(config.conv_filters, config.conv_pools)):
        x = keras.layers.Conv2D(filters, config.conv_kernel, padding="same", use_bias=False, name=f"conv{block}")(x)
        # Batch statistics over the global batch, so N replicas train exactly
        # like one replica on the same global batch (fused kernel on one).
        x = BatchNormalization(momentum=0.9, fused=config.fused_batch_norm, name=f"bn{block}")(x)
        x = keras.layers.ReLU(name=f"relu{block}")(x)
        x = keras.layers.MaxPooling2D(tuple(pool), name=f"pool{block}")(x)
    steps, bins, channels = x.shape[1], x.shape[2], x.shape[3]
    x = keras.layers.Reshape((steps, bins * channels), name="to_sequence")(x)
    x = keras.layers.Dropout(config.dropout, name="sequence_dropout")(x)
    x = keras.layers.Bidirectional(keras.layers.LSTM(config.lstm_units, unroll=unroll), name="blstm")(x)
    x = keras.layers.Dropout(config.dropout, name="embedding_dropout")(x)
    embedding = keras.layers.Dense(config.embedding_dim, name="embedding")(x)
    return keras.Model(spectrogram, embedding, name="feature_extractor")


def build_network(
    config: ModelConfig,
    features: FeatureConfig,
    tasks: List[str],
    heads: List[str],
    head_sizes: Dict[str, int],
    unroll: bool = False,
) -> EmotionNetwork:
    """Builds both models; `head_sizes` gives each domain head's class count; `unroll`: the LSTM
    unrolled, as export needs."""
    extractor = build_feature_extractor(config, features, unroll)
    spectrogram = keras.Input(features.shape, name="spectrogram")
    embedding = extractor(spectrogram)
    bounded = config.center_form in ("bounded", "proxy")
    task_embeddings = {}
    for task in tasks:
        projected = keras.layers.Dense(config.task_dim, name=f"{task}_projection")(embedding) if config.task_dim else embedding
        task_embeddings[task] = UnitNormalization(name=f"{task}_unit")(projected) if bounded else projected
    if bounded:
        emotion_layers = {task: CosineClassifier(2, scale=config.cosine_scale, learn_scale=config.learn_scale, name=task)
                          for task in tasks}
    else:
        emotion_layers = {task: keras.layers.Dense(2, name=task) for task in tasks}
    logits = {task: layer(task_embeddings[task]) for task, layer in emotion_layers.items()}

    inputs = {"spectrogram": spectrogram}
    outputs = dict(logits)
    outputs["embedding"] = embedding
    outputs.update({f"{task}_embedding": task_embeddings[task] for task in tasks})
    center_losses = {}
    if config.loss == "sc":
        for task in tasks:
            labels = keras.Input((), dtype="int32", name=f"{task}_label")
            weights = keras.Input((), name=f"{task}_weight")
            inputs.update({f"{task}_label": labels, f"{task}_weight": weights})
            if config.center_form == "proxy":
                center_losses[task] = ProxyCenterLoss(emotion_layers[task], name=f"{task}_center")
            else:
                center_losses[task] = CenterLoss(2, alpha=config.center_alpha, unit_centers=bounded, name=f"{task}_center")
            outputs[f"{task}_center"] = center_losses[task]([task_embeddings[task], labels, weights])

    reversal = GradientReversal(config.gamma, name="gradient_reversal")
    if heads:
        reversed_embedding = reversal(embedding)
        for head in heads:
            hidden = keras.layers.Dense(config.domain_hidden, activation="relu", name=f"{head}_hidden")(reversed_embedding)
            outputs[head] = keras.layers.Dense(head_sizes[head], name=f"{head}_domain")(hidden)

    training_model = keras.Model(inputs, outputs, name="keras_ser_training")
    probabilities = {
        task: keras.layers.Softmax(name=f"{task}_probability")(logits[task]) for task in tasks
    }
    inference_model = keras.Model(spectrogram, probabilities, name="keras_ser_emotion")
    return EmotionNetwork(training_model, inference_model, extractor, reversal, center_losses, list(tasks), list(heads))


def task_layers(network: EmotionNetwork, task: str) -> List[keras.layers.Layer]:
    """The layers that serve `task` alone (projection, classifier, centers)."""
    names = (f"{task}_projection", task, f"{task}_center")
    return [layer for layer in network.training_model.layers if layer.name in names]
