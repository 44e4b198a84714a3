"""Auto exposure from a list of exposures (shutter speeds for the cameras, integration
times for the spectrometer), as the instrument has always done it: after each capture, the
mean of its N brightest pixels (within the rows or wavelength window that matter) is
compared with the saturation window, and when it falls outside the next exposure is the
longest in the list predicted to stay at or below the window's top.

Counts above the dark level scale with exposure, so the prediction is linear, except for
a clipped frame (the top pixels at full scale), whose real level is unknown: then the
exposure at least halves. The longest choice that is not predicted to saturate is stable,
so a list too coarse for the window settles instead of oscillating.
"""
CLIPPED = 0.995   # a top-N mean this close to full scale means the pixels are saturated


def next_exposure(choices, current, level, minimum, maximum, dark_level=0.0):
    """The exposure for the next capture.

    choices: ascending exposures; current: the exposure level was measured with; level,
    minimum, maximum, dark_level: fractions of full scale.
    """
    if minimum <= level <= maximum:
        return current
    if level >= CLIPPED:
        shorter = [c for c in choices if c <= current / 2]
        return shorter[-1] if shorter else choices[0]
    signal = max(level - dark_level, 0.0)
    fitting = [c for c in choices if dark_level + signal * c / current <= maximum]
    return fitting[-1] if fitting else choices[0]
