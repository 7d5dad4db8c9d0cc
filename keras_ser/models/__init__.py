from keras_ser.models.cnn_blstm import EmotionNetwork, build_network

__all__ = ["EmotionNetwork", "build_network"]
