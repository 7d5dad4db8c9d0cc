"""keras_ser: domain-invariant cross-corpus speech emotion recognition (TensorFlow/Keras).

Data flow: corpora (adapters) -> features (decode, 16 kHz, 32 x 129 log spectrogram
segments) -> pipelines (TFRecords, tf.data) -> models (CNN-BLSTM, gradient reversal,
center loss) -> training (distributed loop) -> evaluation (UA) -> export.
"""

__version__ = "0.1.0"
