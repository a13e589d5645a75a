"""A local managed identity endpoint speaking the protocol of Azure App Service and Container
Apps (IDENTITY_ENDPOINT and IDENTITY_HEADER, api-version 2019-08-01), so that msal's real
managed identity client fetches the bot's tokens from it."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from aiohttp import web

HEADER_SECRET = "local-identity-header"


@dataclass
class IdentityEndpoint:
    client_id: str
    issued: list[str] = field(default_factory=list)  # the resources tokens were asked for

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/msi/token", self._token)
        return app

    async def _token(self, request: web.Request) -> web.Response:
        query = request.query
        if request.headers.get("X-IDENTITY-HEADER") != HEADER_SECRET:
            return web.json_response({"statusCode": 401, "message": "No identity header."},
                                     status=401)
        if query.get("api-version") != "2019-08-01" or query.get("client_id") != self.client_id:
            return web.json_response({"statusCode": 400, "message": "Unknown identity."},
                                     status=400)
        resource = query.get("resource", "")
        self.issued.append(resource)
        return web.json_response({
            "access_token": f"mi-token-{len(self.issued)}",
            "expires_on": str(int(time.time()) + 3600),  # msal counts expiry from its own clock
            "resource": resource, "token_type": "Bearer", "client_id": self.client_id})
