"""What a request to the preview may name: the Host names it answers to, and a path it can read.

On 127.0.0.1 the preview answers only to the local machine's names. Told to listen on the network, it also
answers to what other machines call this one (its host name, `NAME.local`, each interface's address), so a
phone on the same network can open it, while a page of any other site that rebinds its own name to this
machine (DNS rebinding) is still refused.
"""

from __future__ import annotations

import contextlib
import ipaddress
import re
import socket
import struct
import sys
from pathlib import Path

LOCAL_HOSTS = ("127.0.0.1", "localhost", "[::1]")
LOOPBACK = ("127.0.0.1", "localhost", "::1")  # as given to --host
EVERY_INTERFACE = ("0.0.0.0", "::", "")
HOST = re.compile(r"(\[[0-9a-f:.]+\]|[a-z0-9_.-]+?)\.?(?::(\d{1,5}))?")  # a Host header: name[:port]
SIOCGIFADDR = 0x8915  # Linux's ioctl for an interface's IPv4 address


def request_path(raw: str) -> str | None:
    """A request's path from WSGI's PATH_INFO (its bytes, already unescaped once, as latin-1), as text;
    None when it is not UTF-8 or holds a control character (a CR LF would end up in a header)."""
    try:
        path = raw.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return None
    return None if any(ord(c) < 32 or ord(c) == 127 for c in path) else path


def refusal(host: str, names: tuple[str, ...]) -> int:
    """400 for a Host header that is not `name[:port]`, 403 for one naming a host not in `names`, else 0."""
    found = HOST.fullmatch(host.lower())
    if found is None or (found[2] is not None and not 0 < int(found[2]) < 65536):
        return 400
    return 0 if found[1] in names else 403


def host_names(host: str) -> tuple[str, ...]:
    """The names a Host header may give for a server listening on `host`: the local machine's, and, when it
    listens on the network, what other machines call this one (its host name and addresses)."""
    if host in LOOPBACK:
        return LOCAL_HOSTS
    given = () if host in EVERY_INTERFACE else (host,)
    return tuple(dict.fromkeys((*LOCAL_HOSTS, *(as_host(name) for name in (*given, *own_names())))))


def own_names() -> list[str]:
    """This machine's host name (and `NAME.local`, as mDNS calls it) and its addresses but loopback ones."""
    host = socket.gethostname().lower()
    names = {host, f"{host}.local"} if host and "." not in host else {host}
    addresses = set(_interface_addresses())
    for family, far in ((socket.AF_INET, "192.0.2.1"), (socket.AF_INET6, "2001:db8::1")):  # the way out
        with contextlib.suppress(OSError), socket.socket(family, socket.SOCK_DGRAM) as probe:
            probe.connect((far, 9))  # (UDP: nothing is sent)
            addresses.add(probe.getsockname()[0])
    with contextlib.suppress(OSError):
        addresses.update(str(info[4][0]) for info in socket.getaddrinfo(host, None))
    own = {ipaddress.ip_address(address.split("%")[0]) for address in addresses if address}
    return sorted(names - {"localhost", ""}) + [str(a) for a in sorted(own, key=lambda a: (a.version, a))
                                                  if not (a.is_loopback or a.is_unspecified or
                                                          (a.version == 6 and a.is_link_local))]


def as_host(name: str) -> str:
    """A name or address as a Host header gives it: lower case, an IPv6 address in brackets."""
    with contextlib.suppress(ValueError):
        address = ipaddress.ip_address(name.strip("[]"))
        return f"[{address}]" if address.version == 6 else str(address)
    return name.lower().rstrip(".")


def _interface_addresses() -> list[str]:
    """Every network interface's address, from the kernel (Linux; elsewhere the way out is enough)."""
    found: list[str] = []
    if not sys.platform.startswith("linux"):
        return found
    import fcntl

    with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        for _, name in socket.if_nameindex():
            with contextlib.suppress(OSError):  # (an interface without an IPv4 address)
                answer = fcntl.ioctl(probe.fileno(), SIOCGIFADDR, struct.pack("256s", name.encode()[:15]))
                found.append(socket.inet_ntoa(answer[20:24]))
    with contextlib.suppress(OSError, ValueError):
        rows = Path("/proc/net/if_inet6").read_text().splitlines()
        found += [str(ipaddress.IPv6Address(int(row.split()[0], 16))) for row in rows if row.strip()]
    return found
