"""The admin panel's HTTP server, hardened for life inside AstrBot's process.

What this guarantees, whatever the network or the config does:

* no ``SystemExit`` and no exception leaves it (uvicorn calls ``sys.exit`` on some
  failures); ``CancelledError`` and ``KeyboardInterrupt`` keep their meaning;
* uvicorn never touches signal handlers or logging config of the host;
* the listening socket is bound here, handed to uvicorn as a ``dup()``, and parked
  for the next plugin instance on ``stop()`` (see ``listener_handover``);
* a port held by another program is retried in the background with back-off, capped
  at 4 s so the panel is back within 5 s of the port coming free (a bind attempt is
  a single cheap syscall; a longer cap would only delay the panel);
* ``stop()`` is bounded in time, whatever the clients do, and leaves no task behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import random
import socket
from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import Any

from ..constants import LOG_PREFIX
from ..plugin_log import logger
from .embedded_uvicorn import (
    EmbeddedUvicorn,
    abort_connections,
    cancel_leftover_tasks,
    remove_host_log_filters,
    settle_accepted,
    stop_accepting,
)
from .listener_handover import ListenerHandover, ListenerKey, open_listener

AppFactory = Callable[[], Any]
StopHook = Callable[[], Awaitable[None]]

# Between "stop accepting" and uvicorn closing every connection that has no request yet:
# time for a connection accepted just before to send its request (30 ms lost probes
# under load; uvicorn's own tick used to add 0-100 ms here). Waited only while such a
# connection is silent (``settle_accepted``): a save with none does not wait at all.
ACCEPT_SETTLE_SECONDS = 0.1
ACCEPT_SETTLE_POLL_SECONDS = 0.002


class ServerState(StrEnum):
    STOPPED = "stopped"
    STARTING = "starting"
    RUNNING = "running"
    WAITING_FOR_PORT = "waiting_for_port"
    STOPPING = "stopping"


def _describe_bind_error(exc: Exception, host: str, port: int) -> str:
    errno_value = getattr(exc, "errno", None)
    if errno_value == errno.EADDRINUSE:
        return (
            f"port {port} on {host} is already used by another program. "
            f"Retrying in the background; to use another port, change web_admin.port "
            f"in the plugin config (端口 {port} 已被其他程序占用，后台自动重试；"
            f"可在插件配置中修改 web_admin.port)"
        )
    if errno_value == errno.EACCES:
        return (
            f"no permission to listen on {host}:{port} (ports below 1024 need privileges). "
            f"Change web_admin.port (无权限监听该端口，请修改 web_admin.port)"
        )
    if errno_value == errno.EADDRNOTAVAIL:
        return (
            f"address {host} does not belong to this machine. Change web_admin.host "
            f"(地址 {host} 不属于本机，请修改 web_admin.host)"
        )
    return f"cannot listen on {host}:{port}: {exc}. Retrying in the background"


async def retire_stale_server(
    stash: dict[str, Any], budget: float, keep: WebAdminServer | None = None
) -> None:
    """Stop a server that an earlier instance failed to stop (half-done cleanup)."""
    previous = stash.get("active_server")
    if previous is None or previous is keep:
        return
    logger.warning(
        "%s An earlier admin server was still running (its plugin instance did not "
        "stop cleanly); stopping it now.",
        LOG_PREFIX,
    )
    try:
        async with asyncio.timeout(budget):
            await previous.stop()
    except Exception:
        logger.exception("%s Could not stop the earlier admin server", LOG_PREFIX)
    if stash.get("active_server") is previous:
        del stash["active_server"]


class WebAdminServer:
    """One uvicorn server on one address, with a supervisor task around it."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        app_factory: AppFactory,
        handover: ListenerHandover,
        stash: dict[str, Any],
        before_stop: StopHook | None = None,
        on_serving: Callable[[], None] | None = None,
        start_timeout: float = 5.0,
        stop_timeout: float = 2.5,
        retry_max_delay: float = 4.0,
    ) -> None:
        self.host = host
        self.port = port
        self._key: ListenerKey = (host, port)
        self._app_factory = app_factory
        self._handover = handover
        self._stash = stash
        self._before_stop = before_stop
        self._on_serving = on_serving
        self._start_timeout = start_timeout
        self._stop_timeout = stop_timeout
        self._retry_max_delay = retry_max_delay

        self.state = ServerState.STOPPED
        self.last_error: str | None = None
        self._lock = asyncio.Lock()
        self._task: asyncio.Task | None = None
        self._uvicorn: EmbeddedUvicorn | None = None
        self._listener: socket.socket | None = None
        self._settled = asyncio.Event()
        self._stop_requested = asyncio.Event()
        self._announced_serving = False

    # -- public API ---------------------------------------------------------------

    async def start(self) -> bool:
        """Start serving; True once connections are accepted, False if still waiting.

        Returns within ``start_timeout``. A False result is not final: the server
        keeps trying in the background until ``stop()``.
        """
        async with self._lock:
            if self._task is not None and not self._task.done():
                return self.state == ServerState.RUNNING
            await retire_stale_server(self._stash, self._stop_timeout + 1.0, keep=self)
            self._handover.discard_all_except(self._key)
            self._stop_requested.clear()
            self._settled.clear()
            self.state = ServerState.STARTING
            self._task = asyncio.create_task(
                self._supervise(), name=f"proactive-chat-admin:{self.port}"
            )
            self._stash["active_server"] = self
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._start_timeout):
                    await self._settled.wait()
            return self.state == ServerState.RUNNING

    async def stop(self) -> None:
        """Stop within ``stop_timeout``; the listener is parked for the next instance."""
        async with self._lock:
            task = self._task
            if task is None:
                return
            self._stop_requested.set()
            self.state = ServerState.STOPPING
            loop = asyncio.get_running_loop()
            deadline = loop.time() + self._stop_timeout

            if self._before_stop is not None and self._uvicorn is not None:
                try:
                    async with asyncio.timeout(min(1.0, self._stop_timeout / 2)):
                        await self._before_stop()
                except TimeoutError:
                    logger.warning("%s Closing panel clients took too long; forcing.", LOG_PREFIX)
                except Exception:
                    logger.exception("%s Error while closing panel clients", LOG_PREFIX)

            server = self._uvicorn
            if server is not None:
                # Stop accepting first: new connections wait in the kernel backlog for
                # the next instance, and the ones just accepted get their request read
                # before uvicorn's shutdown closes every connection that has none yet.
                stop_accepting(server)
                await settle_accepted(server, ACCEPT_SETTLE_SECONDS, ACCEPT_SETTLE_POLL_SECONDS)
                server.request_exit()
            # Its shutdown drains in-flight responses briefly; then nothing may linger.
            await asyncio.wait({task}, timeout=max(0.0, min(0.25, deadline - loop.time())))
            abort_connections(server)
            await asyncio.wait({task}, timeout=max(0.0, deadline - loop.time()))
            if not task.done():
                task.cancel()
                await asyncio.wait({task}, timeout=0.5)
            abort_connections(server)
            await cancel_leftover_tasks(server)

            if self._listener is not None:
                self._handover.park(self._key, self._listener)
                self._listener = None
            if self._stash.get("active_server") is self:
                del self._stash["active_server"]
            self._task = None
            self._uvicorn = None
            self.state = ServerState.STOPPED
            remove_host_log_filters()

    # -- internals ----------------------------------------------------------------

    async def _supervise(self) -> None:
        delay = 0.5
        reported: str | None = None
        while not self._stop_requested.is_set():
            if self._listener is None:
                try:
                    self._listener = self._handover.claim(self._key) or await open_listener(
                        self.host, self.port
                    )
                except (OSError, ValueError, TypeError) as exc:
                    message = _describe_bind_error(exc, self.host, self.port)
                    if message != reported:
                        logger.error("%s Admin panel: %s", LOG_PREFIX, message)
                        reported = message
                    self.last_error = message
                    self.state = ServerState.WAITING_FOR_PORT
                    self._settled.set()
                    await self._pause(delay * random.uniform(0.9, 1.1))
                    delay = min(delay * 2, self._retry_max_delay)
                    continue
                if reported is not None:
                    logger.info(
                        "%s Port %s is free again; starting the admin panel.",
                        LOG_PREFIX,
                        self.port,
                    )
                    reported = None
            delay = 0.5
            try:
                await self._serve_once(self._listener)
            except Exception:
                # Building the app failed, say: logged, and tried again after a pause.
                logger.exception("%s Admin server could not run", LOG_PREFIX)
                self.last_error = "admin server could not run (see the log)"
                self._settled.set()
            if not self._stop_requested.is_set():
                # uvicorn ended by itself: already logged; back off and serve again.
                self.state = ServerState.STARTING
                await self._pause(1.0)

    async def _pause(self, seconds: float) -> None:
        """Sleep, but wake at once when ``stop()`` is asked for."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._stop_requested.wait()

    async def _serve_once(self, listener: socket.socket) -> None:
        server = EmbeddedUvicorn(self._app_factory())
        self._uvicorn = server
        handed = listener.dup()
        serve = asyncio.create_task(self._run_uvicorn(server, handed))
        try:
            await server.startup_done.wait()
            if server.started:
                self.state = ServerState.RUNNING
                self.last_error = None
                if not self._announced_serving and self._on_serving is not None:
                    self._announced_serving = True
                    self._on_serving()
            self._settled.set()
            await asyncio.shield(serve)
        except asyncio.CancelledError:
            server.request_exit()
            serve.cancel()
            await asyncio.wait({serve}, timeout=0.5)
            raise
        finally:
            handed.close()

    async def _run_uvicorn(self, server: EmbeddedUvicorn, sock: socket.socket) -> None:
        try:
            await server.serve(sockets=[sock])
        except asyncio.CancelledError:
            raise
        except (SystemExit, Exception) as exc:
            self.last_error = f"admin server stopped unexpectedly: {exc!r}"
            logger.error(
                "%s Admin server on %s:%s stopped unexpectedly: %r",
                LOG_PREFIX,
                self.host,
                self.port,
                exc,
                exc_info=True,
            )
        finally:
            server.startup_done.set()
