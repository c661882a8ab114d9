"""`python -m assistant` runs the `apprentice` command."""

import sys

from assistant.cli import main

sys.exit(main())
