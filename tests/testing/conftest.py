"""The conformance kit is tested the way vendors use it: pytest runs (pytester, in-process) with its options."""

from __future__ import annotations

# Each in-process run re-imports what it imports (pytester restores sys.modules after it): what every run imports
# is imported here once, before pytester takes its snapshot.
import hypothesis  # noqa: F401  (the inner runs' hypothesis plugin imports it)
import lockerhub_simlocker.conformance  # noqa: F401
import uvicorn.lifespan.off  # uvicorn imports these three when a server starts
import uvicorn.loops.auto
import uvicorn.protocols.http.auto  # noqa: F401

import lockerhub.simulator
import lockerhub.testing.kit  # noqa: F401

pytest_plugins = ["pytester"]
