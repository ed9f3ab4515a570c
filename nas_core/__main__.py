import sys

from nas_core.cli import main

sys.exit(main())
