"""The curves that turn apparent absorbance (AA) into an SO2 column, fitted and applied.

AA does not grow in proportion to the column: the filters pass a band of wavelengths in
which SO2 absorbs unevenly, so the strongly absorbed part saturates first and each further
ppm.m adds less AA (at Villarrica the AA per ppm.m falls about 30 % from the 304 to the
1257 ppm.m cell). Three curves of the column as a function of AA:

- linear:   column = a * AA + b
- poly2:    column = a * AA^2 + b * AA + c
- kern2015: column = a * (exp(b * AA) - 1) + c   (Kern et al. 2015, J. Volcanol.
  Geotherm. Res. 300, Eq. 6, with the offset term pyplis adds)

Each is fitted weighted by the 1-sigma uncertainty of every point and applied without its
offset, f(AA) - f(0), as pyplis applies it: plume AA is taken against clear sky, so AA 0 is
no SO2, while the cells' AA carries their windows' own (the empty cell's AA), which the
fitted curve absorbs as f(0). The fit's covariance gives the calibration's share of each
pixel's column error.
"""
import math

import numpy as np

MODELS = ('linear', 'poly2', 'kern2015')
PARAMETERS = {'linear': 2, 'poly2': 3, 'kern2015': 3}
FORMULAS = {'linear': 'a*AA + b', 'poly2': 'a*AA^2 + b*AA + c', 'kern2015': 'a*(exp(b*AA) - 1) + c'}


class ModelError(ValueError):
    """A model that is unknown or cannot be fitted to the points given."""


def check_model(name):
    if name not in MODELS:
        raise ModelError(f'unknown calibration model {name!r}: choose one of {", ".join(MODELS)}')
    return name


def evaluate(model, coeffs, aa):
    aa = np.asarray(aa, float) if not np.isscalar(aa) else float(aa)
    if model == 'linear':
        return coeffs[0] * aa + coeffs[1]
    if model == 'poly2':
        return (coeffs[0] * aa + coeffs[1]) * aa + coeffs[2]
    if model == 'kern2015':
        return coeffs[0] * np.expm1(coeffs[1] * aa) + coeffs[2]
    raise ModelError(f'unknown calibration model {model!r}')


def applied(model, coeffs, aa):
    """The column for plume AA: the curve less its value at AA 0."""
    return evaluate(model, coeffs, aa) - evaluate(model, coeffs, 0.0)


def jacobian(model, coeffs, aa):
    """d column / d coefficient, one row per AA value: shape (n, parameters)."""
    aa = np.atleast_1d(np.asarray(aa, float))
    one = np.ones_like(aa)
    if model == 'linear':
        return np.column_stack([aa, one])
    if model == 'poly2':
        return np.column_stack([aa * aa, aa, one])
    a, b = coeffs[0], coeffs[1]
    return np.column_stack([np.expm1(b * aa), a * aa * np.exp(b * aa), one])


def derivative(model, coeffs, aa):
    """d column / d AA: the local slope."""
    if model == 'linear':
        return coeffs[0] + 0 * np.asarray(aa, float)
    if model == 'poly2':
        return 2 * coeffs[0] * np.asarray(aa, float) + coeffs[1]
    return coeffs[0] * coeffs[1] * np.exp(coeffs[1] * np.asarray(aa, float))


def fit(model, aa, column, sigma=None, through_origin=False):
    """Weighted least squares: (coeffs, covariance, r2, residual_std).

    sigma: 1-sigma of each column value (absolute); None weighs all points alike and
    takes the covariance from the residual scatter instead.
    through_origin: the offset is held at 0 rather than fitted (AA 0 is no SO2 by
    construction); coeffs and covariance keep their full shape, the offset's entries 0.
    """
    check_model(model)
    aa, column = np.asarray(aa, float), np.asarray(column, float)
    n = PARAMETERS[model] - (1 if through_origin else 0)
    if aa.size < n or np.unique(aa).size < n:
        raise ModelError(f'the {model} calibration needs at least {n} different AA values, got {np.unique(aa).size}')
    absolute = sigma is not None
    sigma = np.asarray(sigma, float) if absolute else np.ones_like(aa)
    if not np.all(np.isfinite(sigma) & (sigma > 0)):
        raise ModelError('calibration point uncertainties must be positive numbers')
    if model == 'kern2015':
        coeffs, cov = _fit_kern(aa, column, sigma, absolute, through_origin)
    else:
        design = jacobian(model, None, aa)[:, :n] / sigma[:, None]
        coeffs, *_ = np.linalg.lstsq(design, column / sigma, rcond=None)
        cov = np.linalg.pinv(design.T @ design)
    if through_origin:                      # the offset, last of every model's coefficients
        coeffs = np.append(coeffs, 0.0)
        cov = np.pad(cov, ((0, 1), (0, 1)))
    residual = column - evaluate(model, coeffs, aa)
    dof = aa.size - n
    weights = 1 / sigma ** 2
    total = np.sum(weights * (column - np.average(column, weights=weights)) ** 2)
    r2 = 1 - np.sum(weights * residual ** 2) / total if total > 0 else math.nan
    residual_std = float(np.sqrt(np.sum(residual ** 2) / dof)) if dof > 0 else math.nan
    if not absolute and model != 'kern2015':        # curve_fit has scaled its own
        cov = cov * (np.sum(residual ** 2) / dof if dof > 0 else math.nan)
    return [float(c) for c in coeffs], np.asarray(cov, float), float(r2), residual_std


def _fit_kern(aa, column, sigma, absolute, through_origin=False):
    from scipy.optimize import curve_fit
    # Start from the quadratic through the points: its curvature over its slope is b.
    c2, c1, c0 = np.polyfit(aa, column, 2, w=1 / sigma) if aa.size >= 3 else (0.0, *np.polyfit(aa, column, 1))
    b = 2 * c2 / c1 if c1 and c2 / c1 > 0 else 1.0
    if through_origin:
        curve, start = (lambda x, a, b: a * np.expm1(b * x)), [c1 / b, b]
    else:
        curve, start = (lambda x, a, b, c: a * np.expm1(b * x) + c), [c1 / b, b, c0]
    try:
        coeffs, cov = curve_fit(curve, aa, column, p0=start, sigma=sigma, absolute_sigma=absolute, maxfev=20000)
    except (RuntimeError, ValueError) as e:
        raise ModelError(f'the kern2015 calibration does not fit these points ({e}); try poly2 or linear') from None
    if not np.all(np.isfinite(coeffs)):
        raise ModelError('the kern2015 calibration does not fit these points; try poly2 or linear')
    return coeffs, cov


def column_variance(model, coeffs, cov, aa, keep_offset=False):
    """The fit's variance of the applied column (f(AA) - f(0)) at each AA: J C J^T, with J
    the applied column's derivatives by the coefficients (the offset's own error cancels);
    keep_offset: of f(AA) itself."""
    cov = np.asarray(cov, float)
    if cov.size == 0 or not np.all(np.isfinite(cov)):
        return np.zeros(np.shape(aa)) if not np.isscalar(aa) else 0.0
    j = jacobian(model, coeffs, aa) - (0.0 if keep_offset else jacobian(model, coeffs, 0.0))
    variance = np.einsum('ij,jk,ik->i', j, cov, j)
    return variance.reshape(np.shape(aa)) if not np.isscalar(aa) else float(variance[0])
