import sys

from twinsim.cli import main

sys.exit(main())
