#!/usr/bin/env python3
"""Thin entry point: `python build.py ...` is the `broadsheet ...` command."""

import sys

from broadsheet.cli import main

if __name__ == "__main__":
    sys.exit(main())
