"""Two questions rockit daemons ask about where a call comes from or where they run."""
import socket


def pyro_client_matches(ip_whitelist):
    """Is the client of the current Pyro call at one of these IPs?"""
    from .pyro import client_ip
    return client_ip() in ip_whitelist


def current_ip():
    return socket.gethostbyname(socket.gethostname())


def key_for_current_ip(object_ips):
    """The key of {key: [ips]} whose list holds this machine's IP, or None."""
    ip = current_ip()
    for key, ips in object_ips.items():
        if ip in ips:
            return key
    return None
