"""The raw form of the cameras' frames: MIPI CSI-2 RAW10, as picamera2 hands it over for a
`*10_CSI2P` raw format (the OV5647 of the Pi v1 camera: 2592 x 1944, 10 bits).

`capture_array('raw')` / `request.make_array('raw')` give uint8 of shape (height, stride).
Each row packs 4 pixels in 5 bytes: bytes 0-3 hold the 8 high bits of pixels 0-3, byte 4
their 2 low bits (pixel 0 in bits 0-1, pixel 1 in bits 2-3, ...). The stride is the packed
width (width * 5 / 4 bytes) padded for the DMA engine; the padding carries nothing.
The cameras in the instrument have no colour filter, so the Bayer order in the format's
name does not matter for the SO2 measurement.

An unpacked raw format (`SGBRG10` without `_CSI2P`) gives 16-bit little-endian pixels of
0-1023 instead: `make_array('raw').view(np.uint16)[:, :width]`.
"""
import numpy as np

BITS = 10
MAX_DN = (1 << BITS) - 1
STRIDE_ALIGN = 32


def packed_width(width):
    if width % 4:
        raise ValueError(f'RAW10 packs 4 pixels per 5 bytes: width {width} is not a multiple of 4')
    return width * 5 // 4


def stride(width):
    """The simulated camera's row stride: the packed width up to a multiple of 32 bytes."""
    return -(-packed_width(width) // STRIDE_ALIGN) * STRIDE_ALIGN


def is_packed(raw_format):
    return str(raw_format).endswith('_CSI2P')


def pack(image, row_stride=None):
    """uint16 pixels of 0-1023, shape (height, width) -> packed uint8 (height, stride)."""
    height, width = image.shape
    row_stride = stride(width) if row_stride is None else row_stride
    groups = image.reshape(height, width // 4, 4)
    out = np.zeros((height, row_stride), np.uint8)
    packed = out[:, :packed_width(width)].reshape(height, width // 4, 5)
    packed[..., :4] = groups >> 2
    low = groups & 3
    packed[..., 4] = low[..., 0] | (low[..., 1] << 2) | (low[..., 2] << 4) | (low[..., 3] << 6)
    return out
