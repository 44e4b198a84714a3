"""camvirtd: starts and stops the virtual machines that run the camera daemons."""
