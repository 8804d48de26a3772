"""The provider's resource inventory over HTTP (``services.ports.ResourceInventory``).

The JSON contract a provider implements (README §Resource inventory):

* ``GET {INVENTORY_URL}/instances/{instance_id}`` → 200 with one instance object, 404 when the
  provider has no such instance;
* ``GET {INVENTORY_URL}/instances?public_ip=IP`` → 200 ``{"items": [instance, …]}`` (empty when
  none holds that address).

An instance object: ``{"instance_id", "kind": "cvm"|"lighthouse"|"serverless"|"cloudbase",
"region", "public_ip", "billing": "prepaid"|"postpaid", "purchased_at": "YYYY-MM-DD",
"expires_at": "YYYY-MM-DD"|null, "owner"?}``. With ``INVENTORY_TOKEN`` every request carries
``Authorization: Bearer <token>``. Anything else (refused, time-out, 5xx, not JSON) is
``InventoryUnavailable``: the pre-check then says it could not compare. Answers are cached for
``ttl_s`` seconds, because the pre-check runs on every edit.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any
from urllib.parse import quote

import httpx

from beiandesk.services.ports import InstanceFacts, InventoryUnavailable

log = logging.getLogger("beiandesk.inventory")

DEFAULT_TIMEOUT_S = 5.0
DEFAULT_TTL_S = 60.0


class HttpInventory:
    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        ttl_s: float = DEFAULT_TTL_S,
        client: httpx.Client | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.ttl_s = ttl_s
        self._client = client or httpx.Client(timeout=timeout_s, trust_env=False)
        self._cache: dict[str, tuple[float, InstanceFacts | None]] = {}
        self._lock = threading.Lock()

    def close(self) -> None:
        self._client.close()

    def by_instance_id(self, instance_id: str) -> InstanceFacts | None:
        return self._cached(
            f"id:{instance_id}", lambda: self._one(f"/instances/{quote(instance_id, safe='')}")
        )

    def by_public_ip(self, public_ip: str) -> InstanceFacts | None:
        def ask() -> InstanceFacts | None:
            data = self._get("/instances", params={"public_ip": public_ip})
            items = data.get("items") if isinstance(data, dict) else None
            if not isinstance(items, list):
                raise InventoryUnavailable("inventory answer has no items list")
            return _facts(items[0]) if items else None

        return self._cached(f"ip:{public_ip}", ask)

    def _cached(self, key: str, ask: Any) -> InstanceFacts | None:
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(key)
            if hit and hit[0] > now:
                return hit[1]
        value = ask()
        with self._lock:
            self._cache[key] = (now + self.ttl_s, value)
        return value

    def _one(self, path: str) -> InstanceFacts | None:
        data = self._get(path)
        return None if data is None else _facts(data)

    def _get(self, path: str, params: dict[str, str] | None = None) -> Any:
        headers = {"Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        try:
            r = self._client.get(self.base_url + path, params=params, headers=headers)
        except httpx.HTTPError as exc:
            raise InventoryUnavailable(f"{type(exc).__name__}") from exc
        if r.status_code == 404:
            return None
        if r.status_code != 200:
            raise InventoryUnavailable(f"HTTP {r.status_code}")
        try:
            return r.json()
        except ValueError as exc:
            raise InventoryUnavailable("answer is not JSON") from exc


def _facts(data: Any) -> InstanceFacts:
    if not isinstance(data, dict) or not data.get("instance_id"):
        raise InventoryUnavailable("instance object without instance_id")

    def s(name: str) -> str:
        value = data.get(name)
        return str(value).strip() if value is not None else ""

    return InstanceFacts(
        instance_id=s("instance_id"),
        kind=s("kind"),
        region=s("region"),
        public_ip=s("public_ip"),
        billing=s("billing"),
        purchased_at=s("purchased_at") or None,
        expires_at=s("expires_at") or None,
        owner=s("owner") or None,
    )
