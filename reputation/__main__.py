"""`python -m reputation` runs the command line."""

import sys

from reputation.cli import main

sys.exit(main())
