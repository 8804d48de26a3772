"""Per-face measurements: eyes (open or closed), glare over the lenses, an open mouth, roll from
the eye line, focus (blur) and face brightness."""

from __future__ import annotations

import math

import cv2
import numpy as np

from beiandesk.adapters.photo.cascades import Box
from beiandesk.adapters.photo.faces import FACE_NORM, _eyes, _face_crop
from beiandesk.domain import photo as rules

# --- face details -------------------------------------------------------------------------------

#: Face crops are resampled to this size for the blur measure (downsampling nearly always, so a
#: small photo and its 12 MP upscale score alike).
SHARP_NORM = 96
#: …and stretched to this standard deviation of grey, so a dim face is not taken for a soft one.
SHARP_CONTRAST = 40.0
#: Expected eye centres in a Haar face box (share of width/height), used when a cascade misses.
_EYE_CENTRES = {0: (0.30, 0.38), 1: (0.70, 0.38)}
#: Glare is near-white: at least this luma (and 30 above the skin).
GLARE_MIN_LUMA = 230.0
#: Mouth cavity: darker than this fraction of the cheeks' grey…
MOUTH_DARK = 0.45
#: …and filling at least this share of its bounding box (an ellipse fills 0.785).
MOUTH_FILL = 0.45
#: Dark strokes thinner than this share of the face (lash lines, spectacle frames) are not eyes.
EYE_OPENING = 0.035


def _window(image: np.ndarray, cx: float, cy: float, half_w: float, half_h: float) -> np.ndarray:
    n = FACE_NORM
    y0, y1 = int(max(0, (cy - half_h) * n)), int(min(image.shape[0], (cy + half_h) * n))
    x0, x1 = int(max(0, (cx - half_w) * n)), int(min(image.shape[1], (cx + half_w) * n))
    return image[y0:y1, x0:x1]


def _eye_extent(window: np.ndarray) -> float:
    """Height of the iris/pupil over the face height: the dark part of the eye window (darker
    than halfway from its darkest pixels to its median) after an opening that erases lines
    thinner than EYE_OPENING — a closed lid leaves only its lash line."""
    if window.size == 0:
        return 0.0
    low, mid = np.percentile(window, 2), np.median(window)
    dark = (window < (low + mid) / 2).astype(np.uint8)
    dark = cv2.morphologyEx(dark, cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8))  # catch-light
    size = max(2, round(EYE_OPENING * FACE_NORM))
    dark = cv2.morphologyEx(dark, cv2.MORPH_OPEN, np.ones((size, size), np.uint8))
    return _largest_blob(dark, inside=True)[1] / FACE_NORM


def _largest_blob(mask: np.ndarray, inside: bool = False) -> tuple[int, int]:
    """(area, height) of the largest 8-connected blob; ``inside`` ignores blobs touching the
    border (a spectacle frame, a lid corner)."""
    count, _, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    rows, cols = mask.shape
    best = (0, 0)
    for i in range(1, count):
        x, y, w, h, area = (int(v) for v in stats[i])
        if inside and (x == 0 or y == 0 or x + w >= cols or y + h >= rows):
            continue
        best = max(best, (area, h))
    return best


def _cavity(dark: np.ndarray) -> int:
    """Height of the tallest open-mouth-like blob: clear of the window's edges, solid (an open
    mouth is a filled oval; the shadow under the chin or a smile's corners are thin crescents)
    and in the upper part of the window where the mouth is."""
    count, _, stats, _ = cv2.connectedComponentsWithStats(dark.astype(np.uint8), connectivity=8)
    rows, cols = dark.shape
    tallest = 0
    for i in range(1, count):
        x, y, w, h, area = (int(v) for v in stats[i])
        if x == 0 or y == 0 or x + w >= cols or y + h >= rows:
            continue
        if area >= MOUTH_FILL * w * h and y + h / 2 <= 0.7 * rows:
            tallest = max(tallest, h)
    return tallest


def _eye_measures(
    face: np.ndarray, chroma: np.ndarray, skin: float, centres: dict[int, tuple[float, float]]
) -> tuple[float, float]:
    """(iris extent of the more open eye, largest glare blob share over either lens)."""
    extent = glare = 0.0
    for side, default in _EYE_CENTRES.items():
        cx, cy = centres.get(side, default)
        extent = max(extent, _eye_extent(_window(face, cx, cy, 0.11, 0.08)))
        lens, lens_chroma = _window(face, cx, cy, 0.14, 0.1), _window(chroma, cx, cy, 0.14, 0.1)
        bright = (lens >= max(GLARE_MIN_LUMA, skin + 30.0)) & (
            lens_chroma <= rules.WHITE_MAX_CHROMA
        )
        glare = max(glare, _largest_blob(bright)[0] / max(1, lens.size))
    return extent, glare


def _sharpness(gray: np.ndarray, box: Box) -> float:
    """Focus of the face: the variance of the second derivative across x and across y (the
    Laplacian split in two), the smaller of the two — motion blur smears one direction only.
    On the face at ≤ SHARP_NORM px (never upsampled: that would blur it), stretched to a fixed
    contrast (exposure must not read as blur)."""
    x, y, w, h = box
    crop = gray[max(0, y) : y + h, max(0, x) : x + w]
    side = max(8, min(SHARP_NORM, crop.shape[0], crop.shape[1]))
    small = cv2.resize(crop, (side, side), interpolation=cv2.INTER_AREA).astype(np.float32)
    small *= SHARP_CONTRAST / max(1.0, float(small.std()))
    across_x = cv2.Sobel(small, cv2.CV_32F, 2, 0, ksize=3).var()
    across_y = cv2.Sobel(small, cv2.CV_32F, 0, 2, ksize=3).var()
    # A smaller face packs the same features into fewer pixels: its second derivatives grow
    # about as 1/size², so bring it to the SHARP_NORM scale.
    return float(min(across_x, across_y)) * (side / SHARP_NORM) ** 2


def face_details(gray: np.ndarray, bgr: np.ndarray, box: Box) -> dict[str, float | int | None]:
    """Eyes, glare, mouth, roll, focus and face brightness on one face (decoded-image box)."""
    n = FACE_NORM
    x, y, w, h = box
    x0, y0 = max(0, x), max(0, y)
    region = bgr[y0 : y + h, x0 : x + w]
    chroma = _face_crop(
        (region.max(axis=2) - region.min(axis=2)).astype(np.uint8), (x - x0, y - y0, w, h)
    )
    face = _face_crop(gray, box)
    skin = float(
        np.median(
            np.concatenate(
                [
                    _window(face, 0.25, 0.59, 0.1, 0.09).ravel(),
                    _window(face, 0.75, 0.59, 0.1, 0.09).ravel(),
                ]
            )
        )
    )
    eyes = _eyes(face)
    centres = {s: ((b[0] + b[2] / 2) / n, (b[1] + b[3] / 2) / n) for s, b in eyes.items()}
    extent, glare = _eye_measures(face, chroma, skin, centres)
    mouth = _window(_face_crop(gray, box, below=0.25), 0.5, 0.91, 0.22, 0.29)
    cavity = _cavity(mouth < MOUTH_DARK * skin) / n
    roll = None
    if len(centres) == 2:
        (lx, ly), (rx, ry) = centres[0], centres[1]
        if 0.25 <= rx - lx <= 0.65:
            roll = math.degrees(math.atan2(ry - ly, rx - lx))
    return {
        "eyes_found": len(eyes),
        "eye_extent": extent,
        "eye_glare": glare,
        "mouth_open": cavity,
        "roll_deg": roll,
        "sharpness": _sharpness(gray, box),
        "face_luma": float(np.median(_window(face, 0.5, 0.55, 0.3, 0.35))),
    }
