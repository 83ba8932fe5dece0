"""katman's built-in backends: one sub-package per framework, each implementing
``katman.backend.Backend`` and importing only its own framework."""
