"""The ``openpuck`` command line.

Each subcommand lives in its own module of this package, which defines
``HELP`` (one line), ``add_arguments(parser)`` and ``run(args) -> int``.
Errors the user can fix are raised as :class:`CliError` (or any
:class:`openpuck.errors.OpenPuckError`) and printed as one line, never a
traceback.
"""
from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from ..errors import OpenPuckError

# Order is the order of `openpuck --help`.
COMMANDS = ("demo", "programme", "history", "report", "sim", "stream", "record", "replay", "export",
            "plot", "detect", "encode", "decode", "scan", "pair", "unpair", "log", "sync", "clinic")

EPILOG = """\
examples:
  openpuck demo                               a virtual puck counting reps, no hardware
  openpuck encode rec.csv -o rec.bin          the bytes a puck would send for a recording
  openpuck decode rec.bin --csv out.csv       decode a byte stream, print its counters
  openpuck detect rec.csv --exercise grip_squeeze --json
  openpuck history --patient anna             a patient's reps per day, sessions, personal bests
  openpuck report --patient anna -o anna.html the therapist's report, with plots (--pdf too)
  openpuck log pull /dev/ttyACM0              the sets the puck counted while no host listened
  openpuck sync                               send the history to the clinic, fetch the programme

`openpuck COMMAND --help` tells more about each command.
"""


class CliError(OpenPuckError):
    """A problem with the user's input, printed as one line."""


class Terminated(BaseException):
    """SIGTERM (what CI and test harnesses send): unwinds like Ctrl-C, so
    every ``finally`` runs (a virtual puck stops, a recording is closed)."""


def _on_sigterm(signum, frame) -> None:  # noqa: ANN001 - a signal handler
    raise Terminated()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="openpuck",
        description="OpenPuck: talk to rehabilitation pucks (real or virtual), "
                    "decode their streams and count reps.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    from .._version import __version__
    parser.add_argument("--version", action="version", version=f"openpuck {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            mod = importlib.import_module(f".{name}", __name__)
        except ModuleNotFoundError as e:
            if e.name == f"{__name__}.{name}":
                continue  # not built yet
            raise
        p = sub.add_parser(name, help=mod.HELP, description=getattr(mod, "DESCRIPTION", mod.HELP),
                           epilog=getattr(mod, "EPILOG", None),
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        mod.add_arguments(p)
        p.set_defaults(_run=mod.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help()
        return 2
    import signal
    try:
        signal.signal(signal.SIGTERM, _on_sigterm)
    except ValueError:   # not the main thread (an embedding program): leave its handlers alone
        pass
    try:
        return int(args._run(args) or 0)
    except BrokenPipeError:
        # the reader went away (`openpuck history | head`): nothing to report; point
        # stdout at /dev/null so that Python's flush at exit does not fail again
        import os
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (OpenPuckError, OSError) as e:
        msg = str(e)
        if isinstance(e, OSError) and e.filename:
            msg = f"{e.filename}: {e.strerror}"
        print(f"openpuck {args.command}: error: {msg}", file=sys.stderr)
        for note in getattr(e, "__notes__", ()):   # what went wrong after it, while cleaning up
            print(f"openpuck {args.command}: {note}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"openpuck {args.command}: interrupted", file=sys.stderr)
        return 130
    except Terminated:
        print(f"openpuck {args.command}: terminated", file=sys.stderr)
        return 143


if __name__ == "__main__":
    sys.exit(main())
