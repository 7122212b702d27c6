"""PostgreSQL URLs and connection errors in words: spotting a URL, hiding its password,
and turning a connect failure into one line with a fix.

Split out of ``tui.incident.store_pg``; no psycopg import here.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

_PASSWORD_KV = re.compile(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE)


def is_postgres_url(url: str) -> bool:
    return url.startswith(("postgresql://", "postgres://")) or "dbname=" in url or "host=" in url


def safe_url(url: str) -> str:
    """The URL with any password replaced by ``***`` (both URL and key=value forms)."""
    if "://" not in url:
        return _PASSWORD_KV.sub(r"\1***", url)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "postgresql://***"
    if parts.password is not None:
        host = parts.hostname or ""
        if ":" in host:
            host = f"[{host}]"
        parts = parts._replace(netloc=f"{parts.username or ''}:***@{host}" + (f":{port}" if port else ""))
    query = re.sub(r"(^|&)(password=)[^&]*", r"\1\2***", parts.query, flags=re.IGNORECASE)
    return urlunsplit(parts._replace(query=query))


def _password_of(url: str) -> str | None:
    try:
        parts = urlsplit(url)
        if parts.password:
            from urllib.parse import unquote

            return unquote(parts.password)
    except ValueError:
        pass
    match = _PASSWORD_KV.search(url)
    return match.group(2).strip("'") if match else None


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _connect_fix(message: str) -> str:
    low = message.lower()
    if "password authentication failed" in low or "no password supplied" in low:
        return "check the user and password (URL, PGPASSWORD or ~/.pgpass)"
    if "does not exist" in low and "database" in low:
        return "create the database (createdb NAME), then run 'warroom db init --database URL'"
    if "no encryption" in low or "ssl" in low or "tls" in low:
        return "the server requires TLS: add ?sslmode=require (or verify-full with sslrootcert=FILE) to the URL"
    if any(what in low for what in ("connection refused", "could not connect", "timeout", "timed out", "reset by peer",
                                    "is the server running", "no route to host", "network is unreachable",
                                    "could not translate host name", "server closed the connection",
                                    "starting up", "shutting down", "recovery mode", "terminating connection",
                                    # a restart's later stages, and a server briefly full: all pass, so queue
                                    "not yet accepting connections", "the database system is", "in recovery",
                                    "too many clients", "closed the connection unexpectedly")):
        return "is the server running and reachable? check the host and port in the URL"
    return "check the URL (postgresql://USER@HOST:PORT/DB) and that the server is reachable"
