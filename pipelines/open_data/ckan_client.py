"""A CKAN API client for the publisher: ckanapi's RemoteCKAN with a request timeout on every call, retries with
exponential backoff on what may pass (timeouts, connection errors, HTTP 5xx), and one clear `PortalError` for
what will not (4xx: not authorized, validation error). The API key is sent in headers only: it never appears in
a message, a log line or an exception raised here."""
from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ckanapi
import requests

API_KEY_ENV = "IKMS_CKAN_API_KEY"
DEFAULT_TIMEOUT = 60.0  # seconds per request (connect and read): ckanapi waits forever unless told
DEFAULT_ATTEMPTS = 5
DEFAULT_BACKOFF = 1.0  # seconds before the 2nd attempt; doubled each time (1, 2, 4, 8 s)
_STATUS = re.compile(r",\s*(\d{3}),")


class PortalError(RuntimeError):
    """The portal refused a request (4xx) or stayed unreachable: the message says which and why."""

    def __init__(self, message: str, *, retryable: bool = False):
        super().__init__(message)
        self.retryable = retryable


def http_status(exc: Exception) -> int | None:
    """The HTTP status of a ckanapi error it did not map to an exception class (args = repr([url, status, body]))."""
    m = _STATUS.search(str(exc.args[0]) if exc.args else "")
    return int(m.group(1)) if m else None


def is_retryable(exc: Exception) -> bool:
    if isinstance(exc, (requests.exceptions.Timeout, requests.exceptions.ConnectionError)):
        return True
    if isinstance(exc, (ckanapi.NotAuthorized, ckanapi.ValidationError, ckanapi.NotFound)):
        return False
    if isinstance(exc, ckanapi.CKANAPIError):
        status = http_status(exc)
        return status is None or status >= 500  # an unreadable answer (e.g. a proxy's HTML 502) counts as 5xx
    return False


def describe(exc: Exception) -> str:
    """A short, key-free description of a failed call."""
    if isinstance(exc, ckanapi.NotAuthorized):
        return f"not authorized ({_error_message(exc)})"
    if isinstance(exc, ckanapi.ValidationError):
        err = exc.args[0] if exc.args else {}
        fields = {k: v for k, v in err.items() if not k.startswith("__")} if isinstance(err, dict) else err
        return f"validation error: {fields}"
    if isinstance(exc, requests.exceptions.Timeout):
        return "timed out"
    if isinstance(exc, requests.exceptions.ConnectionError):
        return "connection failed (portal unreachable)"
    if isinstance(exc, ckanapi.CKANAPIError):
        status = http_status(exc)
        return f"HTTP {status}" if status else f"unexpected answer: {str(exc)[:200]}"
    return f"{type(exc).__name__}: {exc}"


def _error_message(exc: Exception) -> str:
    err = exc.args[0] if exc.args else ""
    return err.get("message", "") if isinstance(err, dict) else str(err)


class PortalClient:
    """call(action, data, upload=path): one CKAN action with timeout and retries. `reconcile`, when given, runs
    before every retry of a write: a request that timed out may still have been carried out by the portal, so it
    looks at the portal's state and returns the result when the write already happened (no duplicates)."""

    def __init__(self, url: str, api_key: str | None, *, timeout: float = DEFAULT_TIMEOUT,
                 attempts: int = DEFAULT_ATTEMPTS, backoff: float = DEFAULT_BACKOFF,
                 sleep: Callable[[float], None] = time.sleep, user_agent: str = "ikms-publisher/1"):
        self.url = url.rstrip("/")
        self._api = ckanapi.RemoteCKAN(self.url, apikey=api_key or None, user_agent=user_agent)
        self.timeout, self.attempts, self.backoff, self._sleep = timeout, attempts, backoff, sleep
        self.calls: list[str] = []  # actions sent, in order (for the summary and tests)

    def close(self) -> None:
        if self._api.session:
            self._api.session.close()

    def call(self, action: str, data: dict | None = None, *, upload: Path | None = None,
             reconcile: Callable[[], Any] | None = None) -> Any:
        delay = self.backoff
        for attempt in range(1, self.attempts + 1):
            if attempt > 1 and reconcile is not None:
                try:
                    done = reconcile()
                except Exception as exc:  # the portal is still away: wait and try again
                    if not is_retryable(exc):
                        raise PortalError(f"{action}: {describe(exc)}") from None
                    done = None
                if done is not None:
                    return done
            try:
                self.calls.append(action)
                if upload is not None:
                    with open(upload, "rb") as f:  # reopened per attempt: a retry sends the whole file again
                        return self._api.call_action(action, data, files={"upload": (upload.name, f)},
                                                     requests_kwargs={"timeout": self.timeout})
                return self._api.call_action(action, data or {}, requests_kwargs={"timeout": self.timeout})
            except Exception as exc:
                if isinstance(exc, ckanapi.NotFound):
                    raise
                if not is_retryable(exc):
                    raise PortalError(f"{action}: {describe(exc)}") from None
                if attempt == self.attempts:
                    raise PortalError(f"{action}: {describe(exc)} after {attempt} attempts",
                                      retryable=True) from None
                self._sleep(delay)
                delay *= 2
        raise AssertionError("unreachable")

    def show(self, action: str, **data) -> dict | None:
        """A *_show read: the object, or None when the portal does not have it."""
        try:
            return self.call(action, data)
        except ckanapi.NotFound:
            return None
