"""Turning the analytics core's refusals into tool errors an agent can act on.

Bad periods, unknown codes and periods outside the store reach the model as `isError` results with the
core's message (which names the bad input and the accepted forms). An unreachable store becomes a
"retry later" error. Anything else is a bug: it propagates and the server masks its details.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from fastmcp.exceptions import FastMCPError, ToolError
from sqlalchemy.exc import OperationalError

from core.db import StoreUnavailable
from core.fallback import NotSyncedError
from core.filters import FilterError
from core.periods import PeriodError

logger = logging.getLogger(__name__)

STORE_DOWN_MESSAGE = "The analytics store cannot be reached right now; retry in a minute."


@contextmanager
def tool_errors(error: type[FastMCPError] = ToolError) -> Iterator[None]:
    """Re-raise the core's user-facing errors as `error` (ToolError, or ResourceError for resources);
    log store outages and report them without details."""
    try:
        yield
    except (PeriodError, FilterError, NotSyncedError) as exc:
        raise error(str(exc)) from None
    except (StoreUnavailable, OperationalError) as exc:
        reason = (str(getattr(exc, "orig", None) or exc).splitlines() or [type(exc).__name__])[0]
        logger.error("store unavailable: %s", reason)
        raise error(STORE_DOWN_MESSAGE) from None
