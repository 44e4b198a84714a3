"""focusd: the multi-channel stepper focus controller."""
