"""Previews of the newest raw frames, for aiming and focusing from a browser: 8-bit PNGs
on the sensor's own full scale (so a dark or bright exposure looks it), saturated pixels
painted red, with the fraction of them. Small enough to travel as bytes over Pyro."""
import cv2
import numpy as np

from .devices import raw10

SATURATED_COLOUR = (0, 0, 255)      # BGR: red
MAX_PREVIEW_BYTES = 400 * 1024      # a PNG beyond this is halved until it fits


def frame_preview(image):
    """(PNG bytes, saturated fraction) of a stored 10-bit frame."""
    saturated = image >= raw10.MAX_DN
    grey = np.clip(image.astype(np.float32) * (255.0 / raw10.MAX_DN), 0, 255).astype(np.uint8)
    colour = cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR)
    colour[saturated] = SATURATED_COLOUR
    while True:
        ok, png = cv2.imencode('.png', colour)
        if not ok:
            raise ValueError('the preview could not be encoded as PNG')
        if len(png) <= MAX_PREVIEW_BYTES or colour.shape[1] < 64:
            return png.tobytes(), float(saturated.mean()) if saturated.size else 0.0
        colour = colour[::2, ::2]


def band_preview(path):
    """{'name', 'png', 'saturated'} of a frame file, or None where it cannot be read."""
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if image is None:
        return None
    png, saturated = frame_preview(image)
    return {'name': path.name, 'png': png, 'saturated': saturated}
