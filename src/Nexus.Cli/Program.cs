// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

return 0;
