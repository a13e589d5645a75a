"""Tokens of the bot's user-assigned managed identity, through msal's managed identity
client: in Azure (Container Apps, App Service) the platform's local identity endpoint hands
them out, so the bot holds no secret for Graph or PostgreSQL. msal caches each token until
it nearly expires."""

from __future__ import annotations

import asyncio
import functools

import msal
import requests

# The audience of Entra tokens for Azure Database for PostgreSQL.
POSTGRES_RESOURCE = "https://ossrdbms-aad.database.windows.net"


class ManagedIdentityError(RuntimeError):
    """The identity endpoint gave no token; the message says why, in one sentence."""


@functools.cache
def _client(client_id: str) -> msal.ManagedIdentityClient:
    return msal.ManagedIdentityClient(msal.UserAssignedManagedIdentity(client_id=client_id),
                                      http_client=requests.Session())


def acquire(client_id: str, resource: str) -> dict[str, object]:
    """msal's answer: {"access_token": ...} or {"error": ..., "error_description": ...}."""
    result: dict[str, object] = _client(client_id).acquire_token_for_client(resource=resource)
    return result


def token(client_id: str, resource: str) -> str:
    result = acquire(client_id, resource)
    if "access_token" not in result:
        raise ManagedIdentityError(
            f"The managed identity {client_id} got no token for {resource}: "
            f"{result.get('error')}: {str(result.get('error_description', ''))[:300]}")
    return str(result["access_token"])


def postgres_password(client_id: str) -> object:
    """asyncpg's password callable: a fresh (or cached) Entra token for each new connection,
    fetched off the event loop."""
    async def password() -> str:
        return await asyncio.to_thread(token, client_id, POSTGRES_RESOURCE)
    return password
