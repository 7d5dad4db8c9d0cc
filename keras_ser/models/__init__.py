from keras_ser.models.cnn_blstm import EmotionNetwork, build_network, task_layers

__all__ = ["EmotionNetwork", "build_network", "task_layers"]
