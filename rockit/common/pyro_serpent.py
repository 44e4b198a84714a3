"""Serpent as rockit's Pyro processes decode it, daemons and clients alike, within two bounds
Pyro4's own serializer lacks:

- A message flagged compressed inflates to MAX_MESSAGE_SIZE and no further, the bound an
  uncompressed one has (rockit itself never compresses). Pyro4 checks the size on the wire,
  then inflates with an unbounded zlib.decompress: 50 kB from anyone who reaches a daemon's
  port (or from whatever answers at a daemon's address, to a client) became 50 MB of
  serpent text and a daemon of over 600 MB.
- A daemon decodes a call of at most CALL_LIMIT bytes. Serpent's reader builds a syntax
  tree of the whole text first, about 500 bytes of memory for each byte of a list of
  small numbers: one 1 MB message under MAX_MESSAGE_SIZE made a daemon of 500 MB, and
  MAX_MESSAGE_SIZE cannot be lowered, since it bounds the answers a process reads too.
- Only Exceptions are made from a message, never the BaseExceptions that end a thread or a
  program (SystemExit, KeyboardInterrupt, GeneratorExit): a client raises the exception an
  answer carries, and a SystemExit from whatever answers at a daemon's address silently
  ended the thread watching it (chillerd's interlock watchers, rockit-web's pollers), which
  went on reporting its last answer.
"""
import zlib

from Pyro4 import errors, util
from Pyro4.configuration import config


INFLATE_LIMIT = 1024 * 1024   # bytes, in a process (a client) that sets no MAX_MESSAGE_SIZE
CALL_LIMIT = 64 * 1024        # bytes of a call: the largest, a camera's status to camvirtd, is a few kB


class BoundedSerpentSerializer(util.SerpentSerializer):
    """Pyro4's serpent serializer, refusing a compressed payload that inflates too far and
    an exception that is not an Exception."""

    @classmethod
    def dict_to_class(cls, data):
        made = super().dict_to_class(data)
        if isinstance(made, BaseException) and not isinstance(made, Exception):
            raise errors.SerializeError(f'refused to make a {type(made).__name__} from a message: not an Exception')
        return made

    def deserializeData(self, data, compressed=False):
        return self.loads(inflate(data) if compressed else data)

    def deserializeCall(self, data, compressed=False):
        data = inflate(data) if compressed else data
        if len(data) > CALL_LIMIT:
            # a SerializeError is answered (a MessageTooLargeError would only hang up)
            raise errors.SerializeError(f'a call of {len(data)} bytes: refused (at most {CALL_LIMIT})')
        return self.loadsCall(data)


def inflate(data):
    """data decompressed, or MessageTooLargeError once it passes MAX_MESSAGE_SIZE (or
    INFLATE_LIMIT, where that is 0: unbounded)."""
    limit = config.MAX_MESSAGE_SIZE or INFLATE_LIMIT
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
