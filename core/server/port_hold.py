"""The panel's port, listening before ``initialize()`` returns.

``initialize()`` leaves the plugin's start running in a task (main.py), and the panel's
server starts at its end. After a save that kept the address, the previous instance's
listener is parked for it (listener_handover.py) and keeps the port. After a save that
changed the address, or at the first start, there is none: ``hold_port`` binds the new
address at once and parks it for the server, so a request sent right after the save
waits in the backlog instead of being refused, and an old address refuses at once.
A port that is taken is left to the server, which says so and retries.
"""

from __future__ import annotations

from .listener_handover import ListenerHandover, open_listener
from .process_stash import process_stash

HOLD_SECONDS = 15.0  # the start claims it long before; if it fails, the port is freed


async def hold_port(host: str, port: int, enabled: bool) -> bool:
    """Keep ``host:port`` listening for the server the start brings; True when it is
    held (parked now, or parked already by the instance before)."""
    if not enabled:
        return False  # the start closes what is parked and says the port is off
    handover = ListenerHandover(process_stash(), linger=HOLD_SECONDS)
    key = (host, port)
    handover.discard_all_except(key)  # a changed address: the old one refuses at once
    if key in handover.parked_keys():
        return True
    try:
        listener = await open_listener(host, port)
    except OSError:
        return False  # taken: the server reports it and retries when it starts
    handover.park(key, listener)
    return True
