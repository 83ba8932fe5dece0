"""The TensorFlow backend. Importing this package does not import tensorflow;
``backend.py`` does."""
