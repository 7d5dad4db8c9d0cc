"""The search space: a keras_tuner.HyperModel whose `build(hp)` returns a trial's FitConfig.

Fixed settings come from the resolved config; every searched setting is
declared with the config's value as its default, so the first trial of a
Bayesian search and any trial with a value `hp.Fixed` train exactly what
`python -m keras_ser.fit` would train with that config.
"""

import copy
import dataclasses
from typing import Callable, Dict, Tuple

import keras_tuner

from keras_ser.config import FitConfig


@dataclasses.dataclass(frozen=True)
class SearchedSetting:
    """One searched hyperparameter: its config field and its sampling range."""

    field: str  # dotted FitConfig path
    low: float
    high: float
    sampling: str  # "log" or "linear"
    # Only searched when it changes the trained model (e.g. no gamma without domain heads).
    applies: Callable[[FitConfig], bool] = lambda config: True


def _has_domain_heads(config: FitConfig) -> bool:
    return bool(config.heads)


def _has_center_loss(config: FitConfig) -> bool:
    return config.model.loss == "sc"


def _has_running_centers(config: FitConfig) -> bool:
    # alpha is the step of the running (Wen) centers; the proxy form's centers
    # are the classifier's class directions, which alpha does not move.
    return _has_center_loss(config) and config.model.center_form != "proxy"


# hyperparameter name -> setting. Names are what the trial table, the plot and `--fix` use.
SEARCH_SPACE: Dict[str, SearchedSetting] = {
    # Gradient reversal coefficient; the paper's 0.3 sits mid-range on a log scale.
    "gamma": SearchedSetting("model.gamma", 0.01, 3.0, "log", _has_domain_heads),
    # eq. (6): L_E = lambda * softmax + (1 - lambda) * center
    "lambda": SearchedSetting("model.lambda_", 0.05, 1.0, "linear", _has_center_loss),
    "center_alpha": SearchedSetting("model.center_alpha", 0.05, 1.0, "linear", _has_running_centers),
    # Range per optimizer below (Adadelta's default rate is 1.0, Adam's 1e-3).
    "learning_rate": SearchedSetting("train.learning_rate", 0.05, 3.0, "log"),
}

LEARNING_RATE_RANGES: Dict[str, Tuple[float, float]] = {
    "adadelta": (0.05, 3.0),
    "adam": (1e-5, 1e-2),
    "sgd": (1e-4, 0.5),
}


def get_field(config, dotted: str):
    for part in dotted.split("."):
        config = getattr(config, part)
    return config


def set_field(config, dotted: str, value) -> None:
    *parents, leaf = dotted.split(".")
    for part in parents:
        config = getattr(config, part)
    setattr(config, leaf, value)


class FitHyperModel(keras_tuner.HyperModel):
    """The keras_ser search space around one resolved FitConfig.

    `build(hp)` declares gamma, lambda, center-loss alpha and the learning rate
    (those that matter for the config's model and loss) with the config's values
    as defaults, and returns the trial's validated FitConfig. It builds no Keras
    model: trials train with `keras_ser.fit.train_run` (see `tuning.tuner`).

    Args:
        config: the resolved search config; its `out` is the search folder.
        **kwargs: keras_tuner.HyperModel arguments (name, tunable).

    Example:
    ```python
    hp = keras_tuner.HyperParameters()
    hp.Fixed("gamma", 0.7)
    trial_config = FitHyperModel(config).build(hp)  # model.gamma == 0.7, the rest searched
    ```
    """

    def __init__(self, config: FitConfig, **kwargs):
        super().__init__(**kwargs)
        self.config = config

    def ranges(self) -> Dict[str, Tuple[float, float]]:
        """name -> (low, high), widened to include the config's value."""
        out = {}
        for name, setting in SEARCH_SPACE.items():
            if not setting.applies(self.config):
                continue
            low, high = setting.low, setting.high
            if name == "learning_rate":
                low, high = LEARNING_RATE_RANGES[self.config.train.optimizer]
            default = get_field(self.config, setting.field)
            if setting.sampling == "log" and default <= 0:
                raise ValueError(f"{setting.field}: {default} cannot be searched on a log scale; set it > 0")
            out[name] = (min(low, default), max(high, default))
        return out

    def build(self, hp: keras_tuner.HyperParameters) -> FitConfig:
        config = copy.deepcopy(self.config)
        for name, (low, high) in self.ranges().items():
            setting = SEARCH_SPACE[name]
            value = hp.Float(name, low, high, sampling=setting.sampling,
                             default=get_field(self.config, setting.field))
            set_field(config, setting.field, float(value))
        # Hyperband trains each bracket round for its own number of epochs.
        if "tuner/epochs" in hp.values:
            config.train.epochs = int(hp.values["tuner/epochs"])
        return config.validate()
