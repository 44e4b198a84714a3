"""How long a device loop waits before it tries to connect again.

Each failed or lost connection waits twice as long as the one before, from `shortest` up
to `longest`: a device that is back (a loose cable replugged) is found within `longest`
plus one attempt, however its outages came, and never sooner than `shortest` after a
failure, so no device can make the loop spin. Only a good poll starts the waits over: a
device that connects and then fails every other command has not proven it works, so its
reconnections keep backing off.
"""


class ReconnectPolicy:
    def __init__(self, shortest=1.0, longest=5.0):
        self.shortest, self.longest = shortest, longest
        self._next_delay = shortest

    def good_poll(self):
        """The device answered a poll: it works, and the next loss is retried soonest."""
        self._next_delay = self.shortest

    def failed(self):
        """A connection failed or was lost: seconds to wait before the next attempt."""
        delay = self._next_delay
        self._next_delay = min(delay * 2, self.longest)
        return delay
