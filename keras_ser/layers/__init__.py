from keras_ser.layers.batch_norm import BatchNormalization
from keras_ser.layers.center_loss import CenterLoss, ProxyCenterLoss
from keras_ser.layers.cosine_classifier import CosineClassifier, UnitNormalization
from keras_ser.layers.gradient_reversal import GradientReversal, ganin_coefficient

__all__ = ["BatchNormalization", "CenterLoss", "CosineClassifier", "GradientReversal", "ProxyCenterLoss",
           "UnitNormalization",
           "ganin_coefficient"]
