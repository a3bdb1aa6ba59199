"""Keras capture: the model converted to TFLite in this process, then captured as a .tflite."""
