"""Built-in op definitions: names, NumPy references, docs. Kernels live in the backends."""
