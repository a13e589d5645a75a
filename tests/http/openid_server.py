"""A local Bot Framework OpenID configuration and signing key, served over real HTTP from a
thread (botbuilder fetches it with blocking `requests`, so it cannot share the test's loop)."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

CHANNEL_ISSUER = "https://api.botframework.com"


class SigningAuthority:
    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        jwk = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        self.jwks = {"keys": [{**jwk, "kid": "marac-test-key", "use": "sig",
                               "endorsements": ["msteams"]}]}
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def metadata_url(self) -> str:
        return f"{self.url}/.well-known/openidconfiguration"

    def token(self, *, audience: str, service_url: str, key: Any = None,
              issuer: str = CHANNEL_ISSUER, expires_in: int | None = 3600) -> str:
        """`expires_in` None: a token with no `exp` claim at all."""
        now = int(time.time())
        claims = {"iss": issuer, "aud": audience, "serviceurl": service_url,
                  "nbf": now - 60, "iat": now - 60}
        if expires_in is not None:
            claims["exp"] = now + expires_in
        return jwt.encode(claims, key or self.key, algorithm="RS256",
                          headers={"kid": "marac-test-key"})

    def sign(self, claims: dict[str, Any], key: Any = None) -> str:
        """Any claims, signed with this authority's key (or another, to be refused)."""
        return jwt.encode(claims, key or self.key, algorithm="RS256",
                          headers={"kid": "marac-test-key"})

    def close(self) -> None:
        self._server.shutdown()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        authority = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                body = (authority.jwks if self.path.endswith("/keys")
                        else {"issuer": CHANNEL_ISSUER, "jwks_uri": f"{authority.url}/keys"})
                payload = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                pass

        return Handler
