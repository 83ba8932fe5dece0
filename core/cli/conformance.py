"""``katman conformance``: run the conformance suite against one backend and summarize it."""

from __future__ import annotations

import argparse
import importlib.util
import os

from katman.errors import KatmanError

HELP = "Run the conformance suite against a backend (any registered one) and report per op."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--backend", required=True, help="a registered backend name")
    parser.add_argument("--profile", choices=("ci", "deep"), default="ci",
                        help="hypothesis profile: ci (bounded, derandomized) or deep")  # fmt: skip
    parser.add_argument("-k", dest="keyword", help="only ops matching this pytest expression")
    parser.add_argument("-x", "--exitfirst", action="store_true", help="stop at the first failure")


def run(args: argparse.Namespace) -> int:
    missing = [m for m in ("pytest", "hypothesis") if importlib.util.find_spec(m) is None]
    if missing:
        raise KatmanError(
            f"katman conformance needs {' and '.join(missing)}: pip install 'katman[test]'."
        )
    # Selection happens on first use, so setting the variable here decides the backend.
    os.environ["KATMAN_BACKEND"] = args.backend
    os.environ["HYPOTHESIS_PROFILE"] = args.profile
    from katman.backend import selection

    selection.resolve()  # an unknown or uninstalled backend is a one-line error
    import pytest

    from katman.conformance.plugin import SUITE

    options = [str(SUITE), "-q", "-p", "no:cacheprovider", "-o", "addopts=", "-o",
               "filterwarnings=", "--no-header", "-rN"]  # fmt: skip
    if args.keyword:
        options += ["-k", args.keyword]
    if args.exitfirst:
        options.append("-x")
    return int(pytest.main(options))
