"""Package attributes loaded on first use, so that importing a package (which every CLI
does on its way to its cli module) costs nothing for the names it does not read."""
import importlib


def attributes(package, names):
    """(__getattr__, __dir__) for a package: names maps each attribute to (module, name),
    the module relative to the package; a name of None means the module itself."""
    def __getattr__(attribute):
        if attribute not in names:
            raise AttributeError(f'module {package!r} has no attribute {attribute!r}')
        module, name = names[attribute]
        loaded = importlib.import_module(module, package)
        value = loaded if name is None else getattr(loaded, name)
        setattr(importlib.import_module(package), attribute, value)
        return value

    def __dir__():
        return sorted(set(vars(importlib.import_module(package))) | set(names))

    return __getattr__, __dir__
