"""RetailCRM analytics MCP server.

    python mcp_server.py                                   # stdio (for a local agent)
    python mcp_server.py --http [--host 127.0.0.1] [--port 8000]   # streamable HTTP, needs MCP_AUTH_TOKEN

`fastmcp run mcp_server.py:create_server` works too (it ignores the block below).
"""

import sys

from core.mcp import create_server
from core.mcp.cli import main

__all__ = ["create_server"]

if __name__ == "__main__":
    sys.exit(main())
