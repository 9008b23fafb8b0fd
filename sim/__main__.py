"""`python -m sim` is `factoryshift`."""

import sys

from sim.cli import main

sys.exit(main())
