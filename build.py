#!/usr/bin/env python3
"""Thin entry point: `python build.py ...` is the `broadsheet ...` command."""

import sys

if __name__ == "__main__":
    try:
        from broadsheet.cli import main
    except KeyboardInterrupt:  # Ctrl-C while Python is still starting: nothing was begun
        sys.exit(130)
    sys.exit(main())
