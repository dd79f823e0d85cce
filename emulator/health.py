"""Is an emulator answering at a URL? One cheap GET on a moto-api route.

``GET /moto-api/`` (moto's dashboard page) answers 200 on every moto server
without touching any AWS backend, so it works as a liveness probe. Proxies
from the environment are bypassed: the emulator is always local.
"""

from __future__ import annotations

import http.client
import urllib.error
import urllib.request

HEALTH_PATH = "/moto-api/"

_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def is_healthy(url: str, timeout: float = 2.0) -> bool:
    """True when ``url`` (e.g. ``http://127.0.0.1:4566``) answers the probe with 200.

    ``timeout`` (seconds, default 2.0) bounds the connection and the read.
    Any connection error, timeout or non-200 answer means not healthy.
    """
    try:
        with _opener.open(url.rstrip("/") + HEALTH_PATH, timeout=timeout) as response:
            status: int = response.status
            return status == 200
    except (OSError, http.client.HTTPException):  # URLError/HTTPError/timeouts are OSErrors
        return False
