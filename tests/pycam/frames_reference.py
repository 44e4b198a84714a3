"""The straightforward frame pipeline, kept as the reference rockit/pycam/acquisition/frames.py
must match bit for bit (tests) and beat (bench/pycam_frames.py): unpack every pixel of the
RAW10 frame with shifts, delete the columns of low bits, cv2.resize with INTER_AREA, sort
for the top-N pixels, cv2.imencode for the PNG."""
import cv2
import numpy as np

from rockit.pycam.devices import raw10


def unpack(raw, width):
    data = raw[:, :raw10.packed_width(width)].astype(np.uint16) << 2
    for byte in range(4):
        data[:, byte::5] |= (data[:, 4::5] >> (2 + 2 * byte)) & 3
    return np.delete(data, np.s_[4::5], 1)


def downsample(image):
    height, width = image.shape
    return cv2.resize(image, (width // 4, height // 4), interpolation=cv2.INTER_AREA)


def top_mean(image, rows, pixels):
    band = image[rows[0]:rows[1]].ravel()
    return float(band[np.argsort(band)[-pixels:]].mean())


def encode_png(image):
    ok, data = cv2.imencode('.png', image, [cv2.IMWRITE_PNG_COMPRESSION, 0])
    if not ok:
        raise ValueError('PNG encoding failed')
    return data.tobytes()


def process(raw, width, rows, pixels):
    image = downsample(unpack(raw, width))
    return image, top_mean(image, rows, pixels), encode_png(image)
