"""The JAX backend. Importing this package does not import jax; ``backend.py`` does."""
