# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""The Nexus in-sandbox runtime: runs an AWS Lambda style Python handler.

Started as ``python3 -m nexus_runtime`` with PYTHONPATH=/opt/nexus/runtime. Invocations come
from the Lambda Runtime API over HTTP (NEXUS_IO=baseline) or from the Nexus channel
(NEXUS_IO=nexus). Standard library only; nothing heavy is imported before the handler asks.
"""

__version__ = "1.0"
