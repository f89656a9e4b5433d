"""The MCP server: eight read-only tools over the analytics core, for AI agents.

`create_server()` builds the server (also what `fastmcp run mcp_server.py:create_server` loads);
`mcp_server.py` serves it over stdio or streamable HTTP.
"""

from core.mcp.server import create_server

__all__ = ["create_server"]
