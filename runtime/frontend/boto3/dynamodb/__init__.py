# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
