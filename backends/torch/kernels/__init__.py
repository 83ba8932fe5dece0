"""PyTorch kernels, one module per op family; each has ``kernels(backend) -> {name: fn}``."""

FAMILIES = (
    "math",
    "elementwise",
    "reduction",
    "shape",
    "creation",
    "linalg",
    "nn",
    "core",
    "random",
    "fused",
)
