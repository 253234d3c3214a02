"""The arguments of `irish-tune demo` (the app itself is `modeling_irish.demo_app`, imported
only when the command runs)."""

from __future__ import annotations

import argparse

from .arg_types import whole_number

__all__ = ["DEFAULT_PORT", "add_demo_args", "port_arg"]

#: Gradio's own default port.
DEFAULT_PORT = 7860


def port_arg(text: str) -> int:
    """``--port``: a TCP port, 1 to 65535.

    >>> port_arg("7861")
    7861
    >>> port_arg("70000")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: a port is 1 to 65535, got 70000
    """
    value = whole_number(text)
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"a port is 1 to 65535, got {value}")
    return value


def add_demo_args(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``irish-tune demo``. There is no ``--share``: the app is served on
    127.0.0.1 only, never through a public Gradio link."""
    parser.add_argument(
        "--model",
        required=True,
        help="folder of a trained MeasureNote model (the Generate tab samples from it)",
    )
    parser.add_argument(
        "--index",
        default=None,
        help="name-that-tune index folder (irish-tune index) for the Name that tune tab, ranked "
        "by the edit distance; without it the tab says how to build one",
    )
    parser.add_argument(
        "--port",
        type=port_arg,
        default=DEFAULT_PORT,
        help="port on 127.0.0.1 to serve the app on (the app is local only: no share link)",
    )
