#!/usr/bin/env python3
"""Thin entry point: `python build.py ...` is the `broadsheet ...` command."""

import signal
import sys

if __name__ == "__main__":
    # Ctrl-C while Python is still loading Broadsheet is noted and obeyed after loading: raised mid-import
    # it would print a traceback (or an "exception ignored" one), and nothing had begun anyway.
    interrupted: list[int] = []
    signal.signal(signal.SIGINT, lambda *_: interrupted.append(1))
    from broadsheet.cli import main

    signal.signal(signal.SIGINT, signal.default_int_handler)
    if interrupted:
        sys.exit(130)
    sys.exit(main())
