"""``python -m bot.sandbox --port 8081 [--enforce-limits]``: run the sandbox on its own."""

import sys

from bot.sandbox.app import main

sys.exit(main(sys.argv[1:]))
