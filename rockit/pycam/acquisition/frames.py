"""From a camera's raw frame to the stored image: unpack, bin to a quarter of the size in
each direction (2592 x 1944 -> 648 x 486), measure saturation, encode a 16-bit PNG.

The result is bit for bit what unpacking every pixel, cv2.resize(INTER_AREA) and a full
sort give (tests/pycam/frames_reference.py; tests assert it), at a fraction of the cost, which
matters on a Pi that has two cameras and a spectrometer to serve in every slot:

- Binning works on the packed bytes. The 5 bytes of a RAW10 group are exactly the 4
  pixels one binned column averages, so a 4 x 4 block's sum is 4 x (sum of its 16 high
  bytes) + (sum of its 16 two-bit fields): the rows are summed first as bytes, and the
  two-bit fields are summed in place, two to a nibble (mask 0x33), without unpacking.
  INTER_AREA for an integer factor of 4 is that sum / 16 rounded half to even.
- Saturation is the mean of the N brightest pixels within a band of rows, exact from a
  1024-bin histogram instead of a sort.
- The PNG is stored uncompressed, as the instrument's own files are (about 630 kB for
  648 x 486), and written directly: the zlib stream of stored blocks costs one pass.
"""
import struct
import zlib

import cv2
import numpy as np

from ..devices import raw10
from ..instrument import BINNING

BIN = BINNING
_FIELD_PAIRS = np.uint8(0x33)


class PackedBinner:
    """Packed RAW10 (height, stride) uint8 -> (height/4, width/4) uint16, as INTER_AREA.

    Its work buffers are made once and reused: a frame's worth of fresh memory every
    capture would cost more in page faults than the arithmetic does."""

    def __init__(self, width, height):
        if height % BIN or width % BIN:
            raise ValueError(f'{width} x {height} does not bin by {BIN}')
        self.width, self.height = width, height
        self.row_bytes = raw10.packed_width(width)
        self.out_h, self.out_w = height // BIN, width // BIN
        self._column_sums = np.empty((self.out_h, self.row_bytes), np.uint16)
        self._even = np.empty((height, self.out_w), np.uint8)
        self._even_sum = np.empty((self.out_h, self.out_w), np.uint8)
        self._even16 = np.empty((self.out_h, self.out_w), np.uint16)
        self._odd16 = np.empty((self.out_h, self.out_w), np.uint16)
        self._part = np.empty((self.out_h, self.out_w), np.uint16)

    def __call__(self, raw):
        """A new binned image (the caller may keep it)."""
        width = self.row_bytes
        block = raw[:self.height].reshape(self.out_h, BIN, raw.shape[1])
        total = np.empty((self.out_h, self.out_w), np.uint16)
        # Sum 4 rows byte by byte: the high bytes, and each low byte as a plain number.
        sums = self._column_sums
        np.add(block[:, 0, :width], block[:, 1, :width], out=sums, dtype=np.uint16)
        sums += block[:, 2, :width]
        sums += block[:, 3, :width]
        groups = sums.reshape(self.out_h, self.out_w, 5)
        np.add(groups[..., 0], groups[..., 1], out=total)
        total += groups[..., 2]
        total += groups[..., 3]
        total <<= 2
        # Low bytes: fields 0 and 2 (mask 0x33) summed over 4 rows stay within their
        # nibbles (at most 12 each); fields 1 and 3 follow from the plain sum of the bytes.
        even = np.bitwise_and(raw[:self.height, 4:width:5], _FIELD_PAIRS, out=self._even)
        even = even.reshape(self.out_h, BIN, self.out_w)
        even_sum = np.add(even[:, 0], even[:, 1], out=self._even_sum)
        even_sum += even[:, 2]
        even_sum += even[:, 3]
        even16, odd16, part = self._even16, self._odd16, self._part
        np.copyto(even16, even_sum)
        np.subtract(groups[..., 4], even16, out=odd16)
        odd16 >>= 2
        for fields in (even16, odd16):
            total += np.bitwise_and(fields, 15, out=part)
            total += np.right_shift(fields, 4, out=part)
        # round(total / 16) with ties to even: add 7, plus 1 when the quotient is odd.
        np.right_shift(total, 4, out=part)
        part &= 1
        part += 7
        total += part
        total >>= 4
        return total


def bin_packed(raw, width, height):
    """Packed RAW10 -> binned by 4 (a PackedBinner for one frame)."""
    return PackedBinner(width, height)(raw)


def bin_unpacked(raw16):
    """Unpacked 16-bit pixels (height, width) -> binned by 4, as INTER_AREA."""
    height, width = raw16.shape
    return cv2.resize(raw16, (width // BIN, height // BIN), interpolation=cv2.INTER_AREA)


def bin_raw(raw, width, height, packed):
    if packed:
        return bin_packed(raw, width, height)
    return bin_unpacked(raw.view(np.uint16)[:height, :width])


def top_mean(image, rows, pixels):
    """Mean of the `pixels` brightest values of image[rows[0]:rows[1]] (0-1023 counts)."""
    band = np.ascontiguousarray(image[rows[0]:rows[1]])
    count = min(int(pixels), band.size)
    if count <= 0:
        return 0.0
    histogram = cv2.calcHist([band], [0], None, [raw10.MAX_DN + 1], [0, raw10.MAX_DN + 1]).ravel()
    from_top = histogram[::-1].astype(np.int64)
    values = np.arange(raw10.MAX_DN, -1, -1, dtype=np.int64)
    before = np.cumsum(from_top) - from_top          # pixels brighter than each value
    taken = np.clip(count - before, 0, from_top)
    return int(np.dot(taken, values)) / count


def encode_png(image, significant_bits=raw10.BITS):
    """A 16-bit greyscale PNG of image, uncompressed, with an sBIT chunk for its 10 bits."""
    height, width = image.shape
    rows = np.empty((height, 1 + 2 * width), np.uint8)
    rows[:, 0] = 0                                   # filter type None on every row
    rows[:, 1:].view('>u2')[...] = image
    header = struct.pack('>IIBBBBB', width, height, 16, 0, 0, 0, 0)
    return b''.join([b'\x89PNG\r\n\x1a\n', _chunk(b'IHDR', header),
                     _chunk(b'sBIT', bytes([significant_bits])),
                     _chunk(b'IDAT', zlib.compress(rows.data, 0)), _chunk(b'IEND', b'')])


def _chunk(kind, data):
    return struct.pack('>I', len(data)) + kind + data + struct.pack('>I', zlib.crc32(data, zlib.crc32(kind)))


class FramePipeline:
    """One camera's raw frames -> (binned image, saturation counts, PNG bytes)."""

    def __init__(self, width, height, packed):
        self.width, self.height, self.packed = width, height, packed
        self._binner = PackedBinner(width, height) if packed else None

    def bin(self, raw):
        if self.packed:
            return self._binner(raw)
        return bin_unpacked(raw.view(np.uint16)[:self.height, :self.width])

    def process(self, raw, rows, pixels):
        image = self.bin(raw)
        return image, top_mean(image, rows, pixels), encode_png(image)
