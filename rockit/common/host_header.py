"""The name an HTTP Host header gives, for the servers that answer only under their own
names (against DNS rebinding): rockit-web and the Alpaca server."""
import re

_PORT = re.compile(r'(:[0-9]*)?')


def host_name(header):
    """The name or address in a Host header: lower case, without its port, an IPv6
    literal's brackets or a final dot; '' for a header that is no host (and port), such as
    `[::1]evil.example`, which names an address but is not one."""
    host = header.strip().lower()
    if host.startswith('['):
        literal, bracket, rest = host[1:].partition(']')
        return literal if bracket and _PORT.fullmatch(rest) else ''
    if host.count(':') == 1:
        host, port = host.split(':')
        if not _PORT.fullmatch(':' + port):
            return ''
    return host.rstrip('.')
