// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

// Every node in this assembly prepares the same host network and cleans up Nexus leftovers at start:
// two nodes at once would remove each other's sandboxes.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
