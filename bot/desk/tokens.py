"""Who a page request comes from: the Teams SSO token in its Authorization header.

In Teams the page asks for a token (`authentication.getAuthToken`); it is checked here against
the tenant's signing keys (fetched from the OpenID metadata), the app's audience (its id or
the `webApplicationInfo` resource), the tenant's own issuer and its expiry. Which tenants are
served is the turns' rule, checked with the person (bot.turns.access.context_of).

With no app id (`marac dev`, the tests) a dev-only sign-in page issues local tokens for the
demo people instead (DevTokens); they are never accepted once an app id is set."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any, Protocol

import jwt
import requests

from storage.crypto import keyring

AAD_METADATA = "https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration"
DEV_ISSUER = DEV_AUDIENCE = "marac-dev-sign-in"
DEV_PURPOSE = "desk dev token"
REQUIRED = ["exp", "iat", "iss", "aud", "tid", "oid"]


class TokenRefused(Exception):
    """No token, or one that is not valid for this app: the request gets 401 and nothing."""


class KeysUnavailable(Exception):
    """The signing keys could not be fetched: the request gets 503, the token is not judged."""


@dataclass(frozen=True)
class Signer:
    tenant_id: str
    aad_object_id: str
    name: str


class TokenCheck(Protocol):
    async def signer(self, token: str) -> Signer: ...


def issuers_of(tenant_id: str) -> frozenset[str]:
    """Azure AD's v2 and v1 issuers for a tenant: a token must come from its own tenant."""
    return frozenset({f"https://login.microsoftonline.com/{tenant_id}/v2.0",
                      f"https://sts.windows.net/{tenant_id}/"})


def _signer(claims: dict[str, Any]) -> Signer:
    tenant, oid = claims.get("tid"), claims.get("oid")
    if not isinstance(tenant, str) or not isinstance(oid, str) or not tenant or not oid:
        raise TokenRefused("The token names no tenant or person.")
    return Signer(tenant, oid, str(claims.get("name") or ""))


class AadTokens:
    """Azure AD's tokens for the app, checked against the keys its OpenID metadata lists."""

    def __init__(self, audiences: frozenset[str], metadata_url: str = AAD_METADATA) -> None:
        self.audiences = audiences
        self.metadata_url = metadata_url
        self._keys: jwt.PyJWKClient | None = None

    async def signer(self, token: str) -> Signer:
        try:
            keys = await self._key_client()
            key = await asyncio.to_thread(keys.get_signing_key_from_jwt, token)
            claims = jwt.decode(token, key.key, algorithms=["RS256"],
                                audience=list(self.audiences), options={"require": REQUIRED})
        except (requests.RequestException, jwt.PyJWKClientConnectionError) as error:
            raise KeysUnavailable(str(error)) from error
        except (jwt.PyJWTError, KeyError, ValueError) as error:
            raise TokenRefused(str(error)) from error
        signer = _signer(claims)
        if claims["iss"] not in issuers_of(signer.tenant_id):
            raise TokenRefused("The token was not issued by its own tenant.")
        return signer

    async def _key_client(self) -> jwt.PyJWKClient:
        if self._keys is None:
            metadata = await asyncio.to_thread(_json, self.metadata_url)
            self._keys = jwt.PyJWKClient(metadata["jwks_uri"], cache_keys=True, lifespan=3600)
        return self._keys


def _json(url: str) -> Any:
    answer = requests.get(url, timeout=10)
    answer.raise_for_status()
    return answer.json()


class DevTokens:
    """Local tokens from the dev-only sign-in page, signed with the store's index key."""

    lifetime = 3600

    @staticmethod
    def _secret() -> bytes:
        return keyring().signature(DEV_PURPOSE, "secret").encode()

    def issue(self, tenant_id: str, aad_object_id: str, name: str) -> str:
        now = int(time.time())
        claims = {"iss": DEV_ISSUER, "aud": DEV_AUDIENCE, "tid": tenant_id,
                  "oid": aad_object_id, "name": name, "iat": now, "exp": now + self.lifetime}
        return jwt.encode(claims, self._secret(), algorithm="HS256")

    async def signer(self, token: str) -> Signer:
        try:
            claims = jwt.decode(token, self._secret(), algorithms=["HS256"],
                                audience=DEV_AUDIENCE, issuer=DEV_ISSUER,
                                options={"require": REQUIRED})
        except jwt.PyJWTError as error:
            raise TokenRefused(str(error)) from error
        return _signer(claims)


class Tokens:
    """Each accepted kind of token, tried in turn; the first that accepts it names the signer."""

    def __init__(self, checks: list[TokenCheck]) -> None:
        self.checks = checks

    async def signer(self, authorization: str) -> Signer:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise TokenRefused("No bearer token.")
        refused = TokenRefused("No token check is configured.")
        for check in self.checks:
            try:
                return await check.signer(token.strip())
            except TokenRefused as error:
                refused = error
        raise refused
