"""``python -m cnnlearn`` is the ``cnnlearn`` command."""

import sys

from cnnlearn.cli import main

sys.exit(main())
