"""rockit-web: one web page for every daemon, for people; dashboards stay Pyro clients."""
