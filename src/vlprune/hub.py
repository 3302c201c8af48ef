"""Models named by Hugging Face hub id, when the hub may be out of reach.

Without a network, transformers retries every request for 24-54 seconds before it gives up
(or before it falls back on its cache). :func:`hub_models` is put around the loading of
models named by hub id: it leaves everything as it is when each name is a local folder or
the hub answers; when the hub cannot be reached (a short connection probe) it loads cached
copies without trying the network, and fails at once, with one line saying how to pass a
local folder, for a model that is not cached. ``HF_HUB_OFFLINE=1`` skips the probe.
"""

from __future__ import annotations

import contextlib
import logging
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

from vlprune.errors import ConfigError

log = logging.getLogger("vlprune")

#: How long the connection probe waits for the hub, in seconds.
PROBE_TIMEOUT = 3.0
#: How long a probe's answer is trusted, in seconds (the network may come back).
PROBE_TTL = 60.0

# A hub id: "name" or "owner/name" (letters, digits, "-", "_", ".").
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[A-Za-z0-9][\w.-]*)?$")
_probes: dict[tuple[str, int], tuple[float, bool]] = {}


def is_hub_id(name: str) -> bool:
    """True for a name that is not a local path and reads as a hub id (``owner/name``).

    Example:
        >>> is_hub_id("openai/clip-vit-base-patch32"), is_hub_id("./models/clip"), is_hub_id("/abs/x")
        (True, False, False)
    """
    return isinstance(name, str) and not Path(name).expanduser().exists() and bool(_HUB_ID.match(name))


def _is_missing_path(name: str) -> bool:
    """A name written as a path (absolute, ``./``, ``~``, or more than one ``/``) that does
    not exist: a hub id cannot look like that."""
    if not isinstance(name, str) or Path(name).expanduser().exists():
        return False
    return Path(name).is_absolute() or name.startswith((".", "~")) or name.count("/") > 1


def hub_endpoint() -> tuple[str, int]:
    """(host, port) the probe connects to: the hub's (``HF_ENDPOINT``), or the HTTPS proxy's
    when one is configured for it."""
    import urllib.request

    from huggingface_hub import constants

    url = urlsplit(constants.ENDPOINT)
    host = url.hostname or "huggingface.co"
    port = url.port or (443 if url.scheme == "https" else 80)
    proxy = urllib.request.getproxies().get(url.scheme or "https")
    if proxy and not urllib.request.proxy_bypass(host):
        purl = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
        if purl.hostname:
            return purl.hostname, purl.port or 80
    return host, port


def hub_reachable(timeout: float = PROBE_TIMEOUT) -> bool:
    """Whether a TCP connection to the hub (or its proxy) opens within ``timeout`` seconds;
    the answer is kept for :data:`PROBE_TTL` seconds."""
    address = hub_endpoint()
    now = time.monotonic()
    cached = _probes.get(address)
    if cached is not None and now - cached[0] < PROBE_TTL:
        return cached[1]
    result: list[bool] = []

    def connect() -> None:
        # Name resolution has no timeout of its own, hence the thread.
        try:
            with socket.create_connection(address, timeout=timeout):
                result.append(True)
        except OSError:
            result.append(False)

    thread = threading.Thread(target=connect, daemon=True, name="vlprune-hub-probe")
    thread.start()
    thread.join(timeout + 0.5)
    reachable = bool(result and result[0])
    _probes[address] = (now, reachable)
    return reachable


def is_cached(repo_id: str) -> bool:
    """Whether the hub cache holds ``repo_id``'s config.json (the file every model loads first)."""
    from huggingface_hub import try_to_load_from_cache

    try:
        found = try_to_load_from_cache(repo_id, "config.json")
    except Exception:  # an id the hub library rejects: not cached
        return False
    return isinstance(found, str)


def require_models(*models: tuple[str | None, str, str]) -> list[str]:
    """Check that ``models``, each ``(name, what, flag)``, can be had: ``name`` a local folder
    or hub id (None: skipped), ``what`` the model in messages (``CLIP model``), ``flag`` how
    to give a local folder instead (``--model PATH``).

    Returns the hub ids to load from the cache without a network attempt: none when every
    name is a local folder or the hub answers; else (the hub cannot be reached, or
    ``HF_HUB_OFFLINE`` is set) the cached ones, while one that is not cached is a
    :class:`ConfigError` naming it, how to pass a local folder, and how to download it.

    Example:
        >>> require_models((".", "CLIP model", "--model PATH"), (None, "LLM", "--llm PATH"))
        []
    """
    for name, what, flag in models:
        if name and _is_missing_path(name):
            raise ConfigError(f"cannot load {what} {name!r}: there is no such folder ({flag} takes a local "
                              "folder or a hub id such as owner/name)")
    hub_ids = [(name, what, flag) for name, what, flag in models if name and is_hub_id(name)]
    if not hub_ids:
        return []
    from huggingface_hub import constants

    offline = constants.HF_HUB_OFFLINE
    if not offline and hub_reachable():
        return []
    host = hub_endpoint()[0]
    for name, what, flag in hub_ids:
        if not is_cached(name):
            why = "HF_HUB_OFFLINE is set" if offline else f"the Hugging Face hub ({host}) cannot be reached"
            raise ConfigError(f"cannot load {what} {name!r}: {why} and it is not in the local hub cache "
                              f"({constants.HF_HUB_CACHE}); pass a local folder ({flag}), or download it "
                              f"where there is a network (hf download {name})")
    return [name for name, _, _ in hub_ids]


@contextlib.contextmanager
def hub_models(*models: tuple[str | None, str, str]) -> Iterator[None]:
    """Around the loading of ``models`` (as for :func:`require_models`, which is called
    first): when the hub cannot be reached, the block runs in huggingface_hub's offline
    mode, so cached files load without the requests (and their retries) that would check
    them; otherwise nothing changes.

    Example:
        >>> with hub_models((".", "CLIP model", "--model PATH")):
        ...     pass
    """
    cached = require_models(*models)
    if not cached:
        yield
        return
    log.info("using the cached %s (the Hugging Face hub cannot be reached, or HF_HUB_OFFLINE is set)",
             ", ".join(cached))
    with offline_mode():
        yield


@contextlib.contextmanager
def offline_mode() -> Iterator[None]:
    """huggingface_hub's offline mode (and the datasets library's copy of it) for the block:
    cached files only, no requests. The settings are put back afterwards."""
    import sys

    from huggingface_hub import constants

    datasets_config = sys.modules.get("datasets.config")
    saved = constants.HF_HUB_OFFLINE, getattr(datasets_config, "HF_HUB_OFFLINE", None)
    constants.HF_HUB_OFFLINE = True
    if datasets_config is not None:
        datasets_config.HF_HUB_OFFLINE = True
    try:
        yield
    finally:
        constants.HF_HUB_OFFLINE = saved[0]
        if datasets_config is not None:
            datasets_config.HF_HUB_OFFLINE = saved[1]
