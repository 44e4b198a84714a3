"""rockit device daemons: focuser, chiller, camera VMs and the SO2 camera."""
