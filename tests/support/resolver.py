"""The callback guard's resolver in tests (CALLBACK_RESOLVER, set for every test by the root
conftest): answers from a table, so no test asks or depends on an outside DNS server.

IP literals (in every numeric form the system's resolver parses) resolve to themselves, `localhost` to loopback (as /etc/hosts has it), the names
in NAMES to their addresses; any other name is unknown, as a name no DNS server has would be.
Every name asked for is recorded in ASKED.
"""

from __future__ import annotations

import socket

PATH = "tests.support.resolver.table_resolve"
# A public documentation-range-free address (example.com's) for names that must look public.
NAMES = {
    "localhost": ["127.0.0.1", "::1"],
    "hooks.example.org": ["93.184.215.14"],
    "rebinding.example.org": ["93.184.215.14"],
}
ASKED: list[str] = []


def table_resolve(host: str, port: int) -> list[str]:
    ASKED.append(host)
    try:  # numeric forms the system accepts (2130706433, 0x7f.0.0.1): parsed here, no lookup
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICHOST)
        return sorted({info[4][0] for info in infos})
    except (OSError, UnicodeError):
        pass
    try:
        return list(NAMES[host.rstrip(".").lower()])
    except KeyError:
        raise socket.gaierror(socket.EAI_NONAME, "not in the test resolver's table") from None


REBINDING_PATH = "tests.support.resolver.rebinding_first_answer"


def rebinding_first_answer(host: str, port: int) -> list[str]:
    """A rebinding DNS server's first answer: every name looks public when it is checked."""
    ASKED.append(host)
    return ["93.184.215.14"]
