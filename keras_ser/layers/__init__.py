from keras_ser.layers.batch_norm import GlobalBatchNormalization
from keras_ser.layers.center_loss import CenterLoss
from keras_ser.layers.cosine_classifier import CosineClassifier, UnitNormalization
from keras_ser.layers.gradient_reversal import GradientReversal, ganin_coefficient

__all__ = ["CenterLoss", "CosineClassifier", "GlobalBatchNormalization", "GradientReversal", "UnitNormalization",
           "ganin_coefficient"]
