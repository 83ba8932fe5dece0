"""Where the jax backend knowingly differs from the NumPy reference, with the reason.

Keys are an op name (every check) or ``"op:values"`` / ``"op:gradients"``. The conformance
suite expects these to fail and reports an entry that passes as stale.
"""

DEVIATIONS: dict[str, str] = {
    "while_loop:gradients": "jax.lax.while_loop has no reverse-mode derivative (a JAX limit; "
    "fori_loop with static bounds and scan are differentiable)",
}
