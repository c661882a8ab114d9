"""`python -m model.distill`: the same as `apprentice distill` (the chat app runs it as a child process)."""

import sys

from model.distill import main

sys.exit(main())
