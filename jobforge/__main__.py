import sys

from jobforge.cli import main

sys.exit(main())
