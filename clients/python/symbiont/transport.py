"""HTTP with the standard library: JSON requests, bearer key, error bodies to exceptions."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Dict, Mapping, Optional

from .errors import SymbiontApiError, SymbiontNetworkError, api_error_for


class Transport:
    """Sends requests to one server."""

    def __init__(self, base_url: str, api_key: Optional[str], timeout: float) -> None:
        parsed = urllib.parse.urlparse(base_url or "")
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ValueError(f"base_url must be an http(s) URL, got {base_url!r}")
        self._base_url = base_url.rstrip("/")
        self._api_key = api_key or None
        self._timeout = timeout

    def request(self, method: str, path: str, query: Optional[Mapping[str, Any]] = None, body: Any = None) -> Any:
        """Sends one request and returns the parsed JSON answer, or raises an API or network error."""
        url = self._base_url + path
        params = {name: _query_value(value) for name, value in (query or {}).items() if value is not None}
        if params:
            url += "?" + urllib.parse.urlencode(params)
        headers: Dict[str, str] = {"Accept": "application/json"}
        if self._api_key is not None:
            headers["Authorization"] = f"Bearer {self._api_key}"
        data = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(body).encode("utf-8")
        request = urllib.request.Request(url, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:
                status, text = response.status, response.read().decode("utf-8")
        except urllib.error.HTTPError as error:
            status, text = error.code, error.read().decode("utf-8", errors="replace")
            error.close()
            raise _error_from(status, text, method, path) from None
        except (urllib.error.URLError, socket.timeout, ConnectionError) as error:
            reason = getattr(error, "reason", error)
            raise SymbiontNetworkError(f"{method} {path} failed: {reason}") from error
        try:
            return json.loads(text)
        except ValueError:
            raise SymbiontApiError(status, "BAD_RESPONSE", f"{method} {path} did not answer JSON") from None


def _query_value(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ",".join(str(item) for item in value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _error_from(status: int, text: str, method: str, path: str) -> SymbiontApiError:
    """Reads the API's error body; answers that are not JSON still give a typed error."""
    try:
        error = json.loads(text).get("error") or {}
    except (ValueError, AttributeError):
        error = {}
    code = error.get("code") if isinstance(error.get("code"), str) else f"HTTP_{status}"
    message = error.get("message") if isinstance(error.get("message"), str) else f"{method} {path} answered {status}"
    field = error.get("field") if isinstance(error.get("field"), str) else None
    return api_error_for(status, code, message, field)
