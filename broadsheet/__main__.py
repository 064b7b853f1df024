"""`python -m broadsheet` is the `broadsheet` command."""

import sys

from .cli import main

sys.exit(main())
