"""Serpent as Pyro4 decodes it, with compressed messages inflated only up to the size limit.

Pyro4 checks MAX_MESSAGE_SIZE against a message's bytes on the wire, then inflates a message
flagged compressed with zlib.decompress, unbounded: 50 kB from anyone who reaches a daemon's
port (or from whatever answers at a daemon's address, to a client) became 50 MB of serpent
text and a daemon of over 600 MB. Here a compressed message may inflate to MAX_MESSAGE_SIZE
and no further, the bound an uncompressed one has; rockit itself never compresses.
"""
import zlib

from Pyro4 import errors, util
from Pyro4.configuration import config


class BoundedSerpentSerializer(util.SerpentSerializer):
    """Pyro4's serpent serializer, refusing a compressed payload that inflates too far."""

    def deserializeData(self, data, compressed=False):
        return self.loads(inflate(data) if compressed else data)

    def deserializeCall(self, data, compressed=False):
        return self.loadsCall(inflate(data) if compressed else data)


def inflate(data):
    """data decompressed, or MessageTooLargeError once it passes MAX_MESSAGE_SIZE."""
    limit = config.MAX_MESSAGE_SIZE or 0
    inflater = zlib.decompressobj()
    try:
        inflated = inflater.decompress(data, limit + 1 if limit > 0 else 0)
    except zlib.error as e:
        raise errors.ProtocolError(f'compressed message: {e}') from None
    if limit > 0 and len(inflated) > limit:
        raise errors.MessageTooLargeError(f'compressed message inflates beyond {limit} bytes: refused')
    if not inflater.eof or inflater.unused_data:
        raise errors.ProtocolError('compressed message: not one whole zlib stream')
    return inflated


def install():
    """Make every serpent message in this process (daemon or client) decode through
    BoundedSerpentSerializer."""
    serializer = BoundedSerpentSerializer()
    util._serializers['serpent'] = serializer
    util._serializers_by_id[serializer.serializer_id] = serializer
