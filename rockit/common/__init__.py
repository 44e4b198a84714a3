"""The shared base of every rockit daemon: registry, Pyro, config, logging, CLI, serial links.

Nothing device-specific lives here.
"""
