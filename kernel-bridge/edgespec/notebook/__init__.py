"""The notebook side: the `%%edgespec` cell magic, the cell tracing of PyTorch and Keras
models, and the trace summary the lab displays."""
