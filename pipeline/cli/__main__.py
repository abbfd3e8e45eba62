"""`python -m pipeline.cli`: the `listings` command without its installed script."""

import sys

from pipeline.cli.main import main

sys.exit(main())
