"""Where the tensorflow backend knowingly differs from the NumPy reference, with the reason.

Keys are an op name (every check) or ``"op:values"`` / ``"op:gradients"``. The conformance
suite expects these to fail and reports an entry that passes as stale.
"""

DEVIATIONS: dict[str, str] = {}
