"""Telling systemd how a Type=notify service is doing (sd_notify), with no dependency."""
import os
import socket


def notify(message):
    """Send message (b'READY=1', b'STOPPING=1') to systemd; a no-op outside systemd."""
    path = os.environ.get('NOTIFY_SOCKET')
    if not path:
        return
    if path.startswith('@'):
        path = '\0' + path[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.sendto(message, path)
    except OSError:
        pass
