# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""Entry point: ``python3 -m nexus_runtime``."""

import sys

from nexus_runtime.bootstrap import main

if __name__ == "__main__":
    sys.exit(main())
