"""`IP.<Machine>`: the registry's machines as other rockit software reads them."""
from . import registry


class _Machines(type):
    def __getattr__(cls, name):
        if name.startswith('__'):
            raise AttributeError(name)
        try:
            return registry.machine_ip(name)
        except registry.RegistryError as e:
            raise AttributeError(str(e)) from None

    def __dir__(cls):
        return sorted(set(super().__dir__()) | set(registry.load().machine_names()))


class IP(metaclass=_Machines):
    """IP.CLASPTCS -> '10.2.6.181', read from the registry when asked."""
