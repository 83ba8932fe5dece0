"""The ``katman`` command. Each sub-command is a module with ``HELP``, ``add_arguments`` and
``run``; this module only parses arguments and turns katman's errors into one-line messages.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import warnings
from collections.abc import Sequence

from katman._version import __version__
from katman.errors import KatmanError

COMMANDS = {
    "info": "katman.cli.info",
    "plugins": "katman.cli.plugins",
    "conformance": "katman.cli.conformance",
    "ops": "katman.cli.ops",
    "quickstart": "katman.cli.quickstart",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="katman",
        description="katman: a plugin-based deep learning SDK with Keras's API.",
    )
    parser.add_argument("--version", action="version", version=f"katman {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, module_name in COMMANDS.items():
        module = importlib.import_module(module_name)
        command = commands.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(command)
        command.set_defaults(run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    args = build_parser().parse_args(argv)
    try:
        with warnings.catch_warnings():
            # Failed plugins are part of what the commands print; no need to warn twice.
            from katman.registry import PluginLoadWarning

            warnings.simplefilter("ignore", PluginLoadWarning)
            return int(args.run(args) or 0)
    except KatmanError as err:
        print(f"katman: error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("katman: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader (``katman plugins | head``) went away; that is not an error of ours.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
