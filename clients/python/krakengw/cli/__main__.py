import sys

from krakengw.cli.main import main

sys.exit(main())
