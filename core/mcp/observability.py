"""One log line per tool call: name, outcome and duration (Python logging, never client logging)."""

from __future__ import annotations

import logging
import time
from typing import Any

from fastmcp.server.middleware import CallNext, Middleware, MiddlewareContext

logger = logging.getLogger("core.mcp.calls")


class CallLogger(Middleware):
    """Logs every `tools/call` and `resources/read` with how it ended and how long it took."""

    async def on_call_tool(self, context: MiddlewareContext, call_next: CallNext) -> Any:
        return await self._timed(f"tool {context.message.name}", context, call_next)

    async def on_read_resource(self, context: MiddlewareContext, call_next: CallNext) -> Any:
        return await self._timed(f"resource {context.message.uri}", context, call_next)

    async def _timed(self, what: str, context: MiddlewareContext, call_next: CallNext) -> Any:
        started = time.perf_counter()
        try:
            result = await call_next(context)
        except Exception as exc:
            logger.info("%s failed (%s) in %.1f ms", what, type(exc).__name__, _ms(started))
            raise
        logger.info("%s answered in %.1f ms", what, _ms(started))
        return result


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000
