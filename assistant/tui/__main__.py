"""python -m assistant.tui: open the chat app."""

import sys

from assistant.tui.app import main

sys.exit(main())
