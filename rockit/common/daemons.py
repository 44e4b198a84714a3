"""`daemons.<name>`: the registry's daemons as other rockit software reaches them.

Each name resolves when it is read, so `/etc/rockit/*.json` and `$ROCKIT_REGISTRY` steer
these as they steer our own daemons. Pyro4 is imported only to connect or serve.
"""
from . import registry


class PyroDaemon:
    """One daemon's address: `name` is its Pyro object id, as the rest of rockit expects."""

    def __init__(self, name, host, port, default_timeout=registry.DEFAULT_TIMEOUT, default_retries=0):
        self.name = name
        self.host = host
        self.port = port
        self.default_timeout = default_timeout
        self.default_retries = default_retries
        self.uri = f'PYRO:{name}@{host}:{port}'

    @classmethod
    def from_address(cls, address):
        return cls(address.object_id, address.host, address.port, address.timeout)

    def address(self):
        return registry.DaemonAddress(self.name, self.name, self.host, self.port, self.default_timeout)

    def connect(self, timeout=None, retries=None):
        """A Pyro4 proxy (serpent only, both ways): timeout None means the registry's (5 s
        unless set), 0 means none."""
        from .pyro_client import open_proxy
        proxy = open_proxy(self.uri, self.default_timeout if timeout is None else timeout)
        retries = self.default_retries if retries is None else retries
        if retries > 0:
            proxy._pyroMaxRetries = retries
        return proxy

    def launch(self, obj):
        """Serve obj here until SIGTERM or SIGINT (on the main thread), leaving the
        process's Pyro4 settings as they are."""
        from . import pyro
        print(f'info: serving {self.uri}', flush=True)
        pyro.serve(obj, self.address(), own_process=False)
        print(f'info: stopped {self.uri}', flush=True)

    def __repr__(self):
        return f'PyroDaemon({self.uri})'


# One PyroDaemon per registry entry: `daemons.x` is the same object on every access (other
# rockit code compares and keys on them), and a new one only when the entry changes.
_known = {}


def __getattr__(name):
    if name.startswith('__'):
        raise AttributeError(name)
    try:
        address = registry.daemon(name)
    except registry.RegistryError as e:
        raise AttributeError(str(e)) from None
    key = (name, address)
    if key not in _known:
        _known[key] = PyroDaemon.from_address(address)
    return _known[key]


def __dir__():
    return sorted(set(globals()) | set(registry.load().daemon_names()))
