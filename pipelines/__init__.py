"""TFRecord writing (`pipelines.prepare`) and tf.data reading (`pipelines.dataset`)."""
