"""PyTorch capture: torch.export to core ATen (export), one rule per ATen op (rules), the
walk that applies them (lowering), and the model sources of `python -m edgespec capture`."""
