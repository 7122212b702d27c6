"""What the demo's containers print, so `l` on a pod in `warroom demo` shows a believable log:
a start-up banner for every pod, then the payments API's panic before each crash and the
worker's heap growing before it is OOMKilled."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any


def started(standin: Any, namespace: str, name: str, container: str, image: str, at: datetime | None = None) -> None:
    at = at or datetime.now(timezone.utc)
    standin.write_log(namespace, name, f"level=info msg=\"starting {container}\" image={image}",
                      "level=info msg=\"config loaded\" env=prod region=eu-west-1",
                      "level=info msg=\"listening\" addr=:8080", container=container, at=at)


def before_crash(standin: Any, namespace: str, name: str, container: str = "app") -> None:
    now = datetime.now(timezone.utc)
    lines = [f"level=info msg=\"POST /v1/charges 200\" took={80 + i * 13}ms" for i in range(6)]
    lines += [
        "level=warn msg=\"card-token cache miss rate high\" rate=0.91",
        "level=error msg=\"POST /v1/charges 503\" err=\"token vault: context deadline exceeded\"",
        "panic: runtime error: invalid memory address or nil pointer dereference",
        "[signal SIGSEGV: segmentation violation code=0x1 addr=0x18 pc=0x9c4f12]",
        "goroutine 4182 [running]:",
        "payments/internal/tokens.(*Cache).Get(0x0, {0xc000a1e0c0, 0x24})",
        "\t/src/internal/tokens/cache.go:88 +0x32",
    ]
    standin.write_log(namespace, name, *lines, container=container, at=now - timedelta(seconds=1))


def before_oom(standin: Any, namespace: str, name: str, container: str = "worker") -> None:
    now = datetime.now(timezone.utc)
    lines = [f"level=info msg=\"batch settled\" heap_mb={512 + i * 96}" for i in range(8)]
    lines += ["level=warn msg=\"heap above soft limit\" heap_mb=1290 limit_mb=1024",
              "level=error msg=\"token cache evictions disabled\" size=4.1M"]
    standin.write_log(namespace, name, *lines, container=container, at=now - timedelta(seconds=1))
