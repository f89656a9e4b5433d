"""Bearer-token check for the HTTP transport: one shared secret, compared in constant time."""

from __future__ import annotations

import hmac

from fastmcp.server.auth import AccessToken, TokenVerifier

from core.config import Secret

CLIENT_ID = "mcp-client"


class SharedTokenVerifier(TokenVerifier):
    """Accepts exactly the token in MCP_AUTH_TOKEN; anything else gets HTTP 401. Never logs tokens."""

    def __init__(self, token: Secret) -> None:
        if not token:
            raise ValueError("the shared MCP token must not be empty")
        super().__init__()
        self._expected = token.reveal().encode()

    async def verify_token(self, token: str) -> AccessToken | None:
        """An access token when `token` is the shared secret, else None."""
        if hmac.compare_digest(token.encode(), self._expected):
            return AccessToken(token=token, client_id=CLIENT_ID, scopes=[])
        return None
