import sys

from nas_core.cli import main

if __name__ == "__main__":  # guarded: zero-shot worker processes re-import this module
    sys.exit(main())
