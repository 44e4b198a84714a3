"""ASCOM Alpaca (API v1) for any rockit daemon that owns devices: the device base and its
errors (device.py), the HTTP server (server.py) and UDP discovery (discovery.py). A
daemon's own module maps its devices onto these (rockit.focuser.multichannel.alpaca)."""
