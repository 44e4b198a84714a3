"""How fast the plume moves through the integration line: optical flow and cross-correlation
(flow), and the plume speed made of them (speed)."""
