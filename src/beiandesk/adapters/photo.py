"""OpenCV measurements of a verification photo or video; beiandesk.domain.photo judges them.

Only OpenCV's bundled Haar cascades are used (cv2.data.haarcascades, in the wheel): no model
is downloaded (no landmark model ships inside a wheel that installs cleanly beside
opencv-python-headless). The input is sniffed by content, the pixel count is read from the
JPEG/PNG/WebP header and refused above the cap before anything is decoded, JPEGs are decoded at
reduced size (IMREAD_REDUCED_COLOR_n) and detection runs on a ≤ WORK_SIDE px copy, so time and
memory stay bounded whatever the upload.

Faces: two frontal cascades vote; when they find nothing, a de-glared, an equalised (dim photos
only) and a padded copy (faces cut by the frame) are tried, then rotated copies and the profile
cascade (a turned head), and last, on a white wall, a smile inside a skin-toned head (eyes
painted over defeat the face cascades). Per face: eyes (eye + eyeglasses cascades and the dark
iris left after erasing thin strokes), glare over the lenses, a dark open-mouth cavity, roll
from the eye line, focus and brightness. Background: whiteness outside the person (estimated
from the face boxes and the non-white blobs touching them), long straight edges in it (wall
corners, door gaps) and detached non-white blobs (clutter).

Not measured: gaze and head yaw of a face that still looks frontal to the cascades, headphones
and hats (product.md rules left to the reviewer).
"""

from __future__ import annotations

import math
import os
import tempfile
import threading
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np

from beiandesk.domain import photo as rules
from beiandesk.domain.photo import PhotoMeasurements
from beiandesk.domain.problems import Problem, has_errors
from beiandesk.services.ports import VerificationResult

#: Detection image: long side in pixels (a chest-up face is then ≥ 70 px; 512 keeps Haar fast).
WORK_SIDE = 512
#: JPEGs are decoded at 1/2, 1/4 or 1/8 scale while the long side stays ≥ this many pixels.
DECODE_MIN_SIDE = 1000
#: Face crops are resampled to this square size before eyes, mouth and blur are measured.
FACE_NORM = 120
#: Smallest face searched, as a share of the shorter side of the detection image.
MIN_FACE_SEARCH = 0.06
#: A smile cascade hit this confident locates a face the face cascades missed (the hits on a
#: real smile score in the hundreds; on hair or a blurred face, under 20).
SMILE_NEIGHBOURS = 50
#: Skin tones in YCrCb (Cr, Cb ranges), all complexions under white light.
SKIN_CR, SKIN_CB = (135, 180), (80, 130)
#: Video frames are searched smaller: the principal is near the lens, and 8 frames must fit
#: in the time one photo takes.
VIDEO_WORK_SIDE = 400
#: Frames sampled from a video, evenly over its length.
VIDEO_SAMPLES = 8
#: Frame rate assumed when a container does not say.
FALLBACK_FPS = 30.0

HEIF_MESSAGE = "暂不支持 HEIC/AVIF 格式，请在手机中选择“兼容性最佳”或转为 JPEG 后重新上传。"

_CASCADES = {
    "face": "haarcascade_frontalface_default.xml",
    "face_alt2": "haarcascade_frontalface_alt2.xml",
    "profile": "haarcascade_profileface.xml",
    "eye": "haarcascade_eye.xml",
    "eye_glasses": "haarcascade_eye_tree_eyeglasses.xml",
    "smile": "haarcascade_smile.xml",
}
_local = threading.local()


def _cascade(name: str) -> cv2.CascadeClassifier:
    """Cascades are loaded lazily, once per thread (a CascadeClassifier is not shared across
    threads: detectMultiScale keeps per-call state inside the object)."""
    loaded = getattr(_local, "cascades", None)
    if loaded is None:
        loaded = _local.cascades = {}
    if name not in loaded:
        classifier = cv2.CascadeClassifier(os.path.join(cv2.data.haarcascades, _CASCADES[name]))
        if classifier.empty():
            raise RuntimeError(f"OpenCV cascade {_CASCADES[name]} missing from the cv2 wheel")
        loaded[name] = classifier
    return loaded[name]


# --- sniffing and headers -----------------------------------------------------------------------

_SOF_MARKERS = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


#: ISO-BMFF brands of still images (iPhone HEIC, AVIF): an ``ftyp`` box, but not a video.
_HEIF_BRANDS = {
    b"heic",
    b"heix",
    b"hevc",
    b"hevx",
    b"heim",
    b"heis",
    b"mif1",
    b"msf1",
    b"avif",
    b"avis",
}


def sniff(head: bytes) -> str | None:
    """ "jpeg", "png", "webp", "video" (ISO-BMFF ``ftyp``: MP4/MOV), "heif" or None, by content."""
    if head[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if head[:8] == b"\x89PNG\r\n\x1a\n":
        return "png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[4:8] == b"ftyp":
        return "heif" if head[8:12] in _HEIF_BRANDS else "video"
    return None


def image_header(data: bytes, kind: str) -> tuple[int, int, bool] | None:
    """(width, height, complete) from the header alone, or None when the header is broken."""
    if kind == "jpeg":
        return _jpeg_header(data)
    if kind == "png":
        if len(data) < 33 or data[12:16] != b"IHDR":
            return None
        width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
        return width, height, data.rfind(b"IEND") > 33
    return _webp_header(data)


def _jpeg_header(data: bytes) -> tuple[int, int, bool] | None:
    """Walk the marker segments to the first SOFn; complete when an EOI follows the scan."""
    i, size, n = 2, None, len(data)
    while i + 4 <= n:
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:  # standalone markers
            i += 2
            continue
        length = int.from_bytes(data[i + 2 : i + 4], "big")
        if length < 2:
            return None
        if marker in _SOF_MARKERS and i + 9 <= n:
            size = (
                int.from_bytes(data[i + 7 : i + 9], "big"),
                int.from_bytes(data[i + 5 : i + 7], "big"),
            )
        if marker == 0xDA:  # start of scan: entropy-coded data until EOI
            return (size[0], size[1], data.rfind(b"\xff\xd9") > i) if size else None
        i += 2 + length
    return None


def _webp_header(data: bytes) -> tuple[int, int, bool] | None:
    if len(data) < 30:
        return None
    complete = int.from_bytes(data[4:8], "little") + 8 <= len(data)
    chunk = data[12:16]
    if chunk == b"VP8 " and data[23:26] == b"\x9d\x01\x2a":
        width = int.from_bytes(data[26:28], "little") & 0x3FFF
        height = int.from_bytes(data[28:30], "little") & 0x3FFF
    elif chunk == b"VP8L" and data[20] == 0x2F:
        bits = int.from_bytes(data[21:25], "little")
        width, height = (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    elif chunk == b"VP8X":
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
    else:
        return None
    return width, height, complete


def decode(data: bytes, kind: str, width: int, height: int) -> np.ndarray | None:
    """BGR image; JPEGs at the smallest 1/n scale that keeps DECODE_MIN_SIDE (libjpeg's DCT
    scaling: a 12 MP photo decodes at 1/4 in a fraction of the time and memory)."""
    flag = cv2.IMREAD_COLOR
    if kind == "jpeg":
        for factor, reduced in (
            (8, cv2.IMREAD_REDUCED_COLOR_8),
            (4, cv2.IMREAD_REDUCED_COLOR_4),
            (2, cv2.IMREAD_REDUCED_COLOR_2),
        ):
            if max(width, height) // factor >= DECODE_MIN_SIDE:
                flag = reduced
                break
    try:
        image = cv2.imdecode(np.frombuffer(data, np.uint8), flag)
    except cv2.error:
        return None
    if image is None or image.ndim != 3 or image.shape[0] < 8 or image.shape[1] < 8:
        return None
    scale = DECODE_MIN_SIDE / max(image.shape[:2])
    if scale < 0.5:  # a big PNG/WebP (no reduced decoding): keep only a working copy
        image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return image


# --- faces ----------------------------------------------------------------------------------

Box = tuple[int, int, int, int]


def _iou(a: Box, b: Box) -> float:
    x1, y1 = max(a[0], b[0]), max(a[1], b[1])
    x2, y2 = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
    inter = max(0, x2 - x1) * max(0, y2 - y1)
    return inter / float(a[2] * a[3] + b[2] * b[3] - inter)


def _detect(
    name: str, gray: np.ndarray, neighbours: int, min_side: int = 0
) -> list[tuple[Box, int]]:
    """(box, neighbours) of one cascade; neighbours (overlapping hits) measure its confidence."""
    side = max(20, min_side, int(MIN_FACE_SEARCH * min(gray.shape)))
    if min(gray.shape) < side:
        return []
    boxes, counts = _cascade(name).detectMultiScale2(gray, 1.1, neighbours, minSize=(side, side))
    return [(tuple(int(v) for v in b), int(n)) for b, n in zip(boxes, counts)]  # type: ignore[misc]


#: A box only one frontal cascade finds is still a face with this many neighbours (faces
#: score 6–50; the rare false hits on clothes, cats or text score 2–3).
STRONG_NEIGHBOURS = 6


def _confirmed(gray: np.ndarray, box: Box) -> bool:
    """The default cascade looks again in a window round a box alt2 found (cheap)."""
    x, y, w, h = box
    x0, y0 = max(0, x - w // 2), max(0, y - h // 2)
    roi = gray[y0 : y + h + h // 2, x0 : x + w + w // 2]
    hits = _detect("face", roi, 2, min_side=int(0.7 * w))
    return any(_iou((bx + x0, by + y0, bw, bh), box) > 0.3 for (bx, by, bw, bh), _ in hits)


def frontal_faces(gray: np.ndarray) -> list[tuple[Box, int]]:
    """Frontal faces as (box, votes), largest first. Two cascades vote: alt2 searches the image
    and the default cascade re-checks each box in a small window; only when that leaves doubt
    (a box unconfirmed, or none at all) does the default search the whole image too. A box only
    one cascade finds counts when that one is confident. Plain (unequalised) grey: equalising a
    mostly-white photo stretches the face's mid-tones and loses faces."""
    faces: list[tuple[Box, int]] = []
    pending: list[tuple[Box, int]] = []
    for box, count in _detect("face_alt2", gray, 2):
        if _confirmed(gray, box):
            faces.append((box, 2))
        else:
            pending.append((box, count))
    if pending or not faces:
        others = _detect("face", gray, 2)
        for box, count in pending:
            if any(_iou(box, other) > 0.3 for other, _ in others):
                faces.append((box, 2))
            elif count >= STRONG_NEIGHBOURS:
                faces.append((box, 1))
        for box, count in others:
            if count >= STRONG_NEIGHBOURS and all(_iou(box, f) <= 0.3 for f, _ in faces + pending):
                faces.append((box, 1))
    return sorted(faces, key=lambda f: -f[0][2] * f[0][3])


def _deglare(gray: np.ndarray) -> np.ndarray:
    """Small enclosed near-white blobs (reflections on lenses) darkened, so a face whose eyes
    are hidden by glare is still found; the glare itself is measured on the original."""
    bright = (gray >= 235).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(bright, connectivity=8)
    limit = 0.002 * gray.size
    small = [i for i in range(1, count) if stats[i, cv2.CC_STAT_AREA] <= limit]
    out = gray.copy()
    out[np.isin(labels, small)] = 60
    return out


def _rotate(gray: np.ndarray, angle: float) -> np.ndarray:
    h, w = gray.shape
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    return cv2.warpAffine(gray, matrix, (w, h), borderMode=cv2.BORDER_REPLICATE)


def _tilted(gray: np.ndarray, upright_width: int) -> float | None:
    """The roll at which a frontal face with both eyes appears, when it is clearly bigger than
    the best upright one (a tilted head gives at most a partial upright box)."""
    for angle in (25.0, -25.0, 45.0, -45.0, 90.0, -90.0):
        if abs(angle) == 90:  # a sideways photo: turn it exactly, canvas and all
            rotated = cv2.rotate(
                gray, cv2.ROTATE_90_COUNTERCLOCKWISE if angle > 0 else cv2.ROTATE_90_CLOCKWISE
            )
        else:
            rotated = _rotate(gray, angle)
        for box, _ in frontal_faces(rotated):
            if box[2] >= 1.15 * upright_width and len(_eyes(_face_crop(rotated, box))) == 2:
                return angle
    return None


def _upright_faces(gray: np.ndarray) -> list[tuple[Box, int]]:
    """Frontal faces on the plain image; failing that on a de-glared copy, an equalised copy
    when the photo is dim (equalising a bright one only invents faces), and a copy padded past
    the frame with the background's tone (a face cut by the edge: its box then crosses it)."""
    dim = np.percentile(gray, 90) < rules.DIM_BRIGHT_P90
    for variant in (
        lambda: gray,
        lambda: _deglare(gray),
        lambda: cv2.equalizeHist(gray) if dim else None,
    ):
        image = variant()
        faces = frontal_faces(image) if image is not None else []
        if faces:
            return faces
    h, w = gray.shape
    pad = int(0.25 * max(h, w))
    edge = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    padded = cv2.copyMakeBorder(
        gray, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=int(np.median(edge))
    )
    return [((x - pad, y - pad, bw, bh), v) for (x, y, bw, bh), v in frontal_faces(padded)]


def find_faces(
    gray: np.ndarray, thorough: bool = True
) -> tuple[list[tuple[Box, int]], float | None]:
    """(frontal faces, roll) on the detection image. An upright face without two visible eyes
    may be a tilted head (the box then covers only part of it): a clearly bigger face
    with eyes on a rotated copy wins, as does one found only in profile; either gives no
    frontal face and the roll (90 for a profile). Not ``thorough`` (video frames, where the
    sequence decides): plain and de-glared search only."""
    if not thorough:
        return frontal_faces(gray) or frontal_faces(_deglare(gray)), None
    faces = _upright_faces(gray)
    if faces and len(_eyes(_face_crop(gray, faces[0][0]))) == 2:
        return faces, None
    angle = _tilted(gray, faces[0][0][2] if faces else 0)
    if angle is not None:
        return [], angle
    if faces:
        return faces, None
    for image in (gray, cv2.flip(gray, 1)):
        if _detect("profile", image, 6):
            return [], 90.0
    return [], None


def skin_face(bgr: np.ndarray, gray: np.ndarray) -> Box | None:
    """Last resort on a white wall, when the face cascades found nothing (eyes hidden or
    painted over defeat them): in the topmost head-sized skin-toned blob of the person, a
    confident smile cascade hit places the face box (the mouth sits at 0.8 of a Haar face box
    and spans 0.6 of its width). No smile, no face: a blurred face or the back of a head (hair
    can be skin-toned) stays faceless."""
    h, w = gray.shape
    white = _white(bgr, gray)
    rows, cols = int(0.3 * h), max(1, int(0.15 * w))
    if (
        min(white[:rows, :cols].mean(), white[:rows, -cols:].mean())
        < rules.MIN_BACKGROUND_WHITE_SHARE
    ):
        return None
    ycrcb = cv2.cvtColor(bgr, cv2.COLOR_BGR2YCrCb)
    skin = (
        (ycrcb[..., 0] > 60)
        & (ycrcb[..., 1] >= SKIN_CR[0])
        & (ycrcb[..., 1] <= SKIN_CR[1])
        & (ycrcb[..., 2] >= SKIN_CB[0])
        & (ycrcb[..., 2] <= SKIN_CB[1])
        & ~white
    )
    skin = cv2.morphologyEx(skin.astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    count, _, stats, _ = cv2.connectedComponentsWithStats(skin, connectivity=8)
    heads = []
    for i in range(1, count):
        x, y, bw, bh, area = (int(v) for v in stats[i])
        if bw >= MIN_FACE_SEARCH * min(h, w) and 0.8 <= bh / bw <= 2.0 and area >= 0.5 * bw * bh:
            heads.append((y, x, bw, bh))
    if not heads:
        return None
    y, x, bw, bh = min(heads)
    top = y + bh // 3
    lower = gray[top : y + bh + bw // 4, x : x + bw]
    if min(lower.shape) < 24:
        return None
    boxes, counts = _cascade("smile").detectMultiScale2(
        lower, 1.1, SMILE_NEIGHBOURS, minSize=(bw // 5, bw // 10)
    )
    if len(boxes) == 0:
        return None
    sx, sy, sw, sh = (int(v) for v in boxes[int(np.argmax(counts))])
    size = int(sw / 0.6)
    cx, cy = x + sx + sw / 2, top + sy + sh / 2
    return int(cx - size / 2), int(cy - 0.8 * size), size, size


def _face_crop(gray: np.ndarray, box: Box, below: float = 0.0) -> np.ndarray:
    """The face box resampled to FACE_NORM², optionally extended ``below`` face heights down."""
    x, y, w, h = box
    extra = int(below * h)
    x0, y0 = max(0, x), max(0, y)
    x1, y1 = min(gray.shape[1], x + w), min(gray.shape[0], y + h + extra)
    if x1 - x0 < 8 or y1 - y0 < 8:
        return np.zeros((FACE_NORM, FACE_NORM), np.uint8)
    crop = gray[y0:y1, x0:x1]
    size = (FACE_NORM, round(FACE_NORM * (y1 - y0) / max(1, x1 - x0)))
    interp = cv2.INTER_AREA if crop.shape[1] > FACE_NORM else cv2.INTER_LINEAR
    return cv2.resize(crop, size, interpolation=interp)


def _eyes(face: np.ndarray) -> dict[int, Box]:
    """Eyes in the upper part of a normalised face crop, at most one per side (0 left, 1 right)."""
    upper = cv2.equalizeHist(face[: int(0.6 * FACE_NORM)])
    side: dict[int, Box] = {}
    for name in ("eye", "eye_glasses"):
        if len(side) == 2:
            break
        found = _cascade(name).detectMultiScale(
            upper,
            1.1,
            3,
            minSize=(FACE_NORM // 10, FACE_NORM // 10),
            maxSize=(FACE_NORM // 2, FACE_NORM // 2),
        )
        for x, y, w, h in found:
            cx, cy = x + w / 2, y + h / 2
            if 0.2 * FACE_NORM <= cy <= 0.55 * FACE_NORM:
                side.setdefault(0 if cx < FACE_NORM / 2 else 1, (int(x), int(y), int(w), int(h)))
    return side


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


# --- background and framing ---------------------------------------------------------------------


#: Person pixels this many face widths outside the person boxes still count as the person.
SPILL = 0.5


def _person_boxes(shape: tuple[int, ...], faces: list[Box]) -> tuple[np.ndarray, np.ndarray]:
    """Where the person may be, from the face boxes: (head with hair: ±0.45 face widths, 0.75
    face heights above; body: from the chin down, ±2.4 face widths for shoulders and arms)."""
    head, body = np.zeros(shape[:2], np.uint8), np.zeros(shape[:2], np.uint8)
    for x, y, w, h in faces:
        cx = x + w / 2
        cv2.rectangle(
            head,
            (int(x - 0.45 * w), int(y - 0.75 * h)),
            (int(x + 1.45 * w), int(y + 1.35 * h)),
            255,
            -1,
        )
        cv2.rectangle(body, (int(cx - 2.4 * w), int(y + h)), (int(cx + 2.4 * w), shape[0]), 255, -1)
    return head > 0, body > 0


def _white(bgr: np.ndarray, gray: np.ndarray) -> np.ndarray:
    chroma = bgr.max(axis=2).astype(np.int16) - bgr.min(axis=2)
    return (gray >= rules.WHITE_MIN_LUMA) & (chroma <= rules.WHITE_MAX_CHROMA)


def _person_mask(
    nonwhite: np.ndarray, head: np.ndarray, body: np.ndarray, chin: int
) -> tuple[np.ndarray, float]:
    """(person, largest clutter share). The person is every non-white blob reaching into the
    head box, and below the chin every blob reaching into the body box (a door gap that runs
    behind the shoulders stays background above them). Blobs touching neither are clutter."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(nonwhite, connectivity=8)
    on_head = np.unique(labels[head & (nonwhite > 0)])
    on_body = np.unique(labels[body & (nonwhite > 0)])
    person = np.isin(labels, on_head[on_head > 0])
    person[chin:] |= np.isin(labels[chin:], on_body[on_body > 0])
    attached = set(on_head.tolist()) | set(on_body.tolist())
    clutter = max(
        (stats[i, cv2.CC_STAT_AREA] for i in range(1, count) if i not in attached), default=0
    )
    return person, float(clutter) / nonwhite.size


def background(white: np.ndarray, gray: np.ndarray, faces: list[Box]) -> dict[str, float | None]:
    """Whiteness of what lies outside the person, straight edges in it (wall corners, door
    gaps) and non-white objects apart from the person (clutter). Detection-image scale."""
    h = gray.shape[0]
    head, body = _person_boxes(gray.shape, faces)
    sample = ~(head | body)
    out: dict[str, float | None] = {"background_share": float(sample.mean())}
    if not sample.any():
        return out
    nonwhite = cv2.morphologyEx(
        (~white).astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8)
    )
    chin = max(0, min(y + fh for _, y, _, fh in faces))
    person, out["background_clutter"] = _person_mask(nonwhite, head, body, chin)
    # Hair or shoulders spilling a little past the boxes are the person, not the wall; a
    # coloured wall further out still counts against the white.
    spill = max(3, int(SPILL * max(f[2] for f in faces)))
    reach = np.ones((2 * spill + 1, 2 * spill + 1), np.uint8)
    near_boxes = cv2.dilate((head | body).astype(np.uint8), reach) > 0
    wall = sample & ~(person & near_boxes)
    out["background_white_share"] = float(white[wall].mean()) if wall.any() else 0.0
    near_person = cv2.dilate(person.astype(np.uint8), np.ones((7, 7), np.uint8)) > 0
    keep = sample & ~near_person
    keep[:3], keep[-3:], keep[:, :3], keep[:, -3:] = False, False, False, False
    edges = cv2.Canny(cv2.GaussianBlur(gray, (5, 5), 0), 20, 50)
    edges[~keep] = 0
    lines = cv2.HoughLinesP(edges, 1, np.pi / 180, 40, minLineLength=int(0.15 * h), maxLineGap=6)
    longest = 0.0
    for x1, y1, x2, y2 in lines[:, 0] if lines is not None else []:
        longest = max(longest, math.hypot(x2 - x1, y2 - y1))
    out["background_line"] = longest / h
    return out


def head_edge_contact(white: np.ndarray, box: Box) -> float:
    """Share of the frame edge beside the head (top edge over the head, side edges at head
    height) covered by non-white pixels: hair running off the frame on a white background."""
    h, w = white.shape
    x, y, bw, bh = box
    nonwhite = ~white
    band = max(2, h // 200)
    shares = []
    cols = slice(max(0, int(x - 0.25 * bw)), min(w, int(x + 1.25 * bw)))
    shares.append(nonwhite[:band, cols].mean() if cols.stop > cols.start else 0.0)
    rows = slice(max(0, int(y - 0.4 * bh)), min(h, int(y + bh)))
    if rows.stop > rows.start:
        if x - 0.5 * bw < 0:
            shares.append(nonwhite[rows, :band].mean())
        if x + 1.5 * bw > w:
            shares.append(nonwhite[rows, -band:].mean())
    return float(max(shares))


# --- one image ----------------------------------------------------------------------------------


@dataclass
class Located:
    """One image after face finding: what the rest of the measurements start from."""

    image: np.ndarray  # decoded BGR (JPEGs already reduced)
    work: np.ndarray  # detection copy, long side ≤ WORK_SIDE
    gray: np.ndarray
    scale: float  # work / image
    faces: list[tuple[Box, int]]
    roll: float | None


def locate(image: np.ndarray, side: int = WORK_SIDE, thorough: bool = True) -> Located:
    scale = min(1.0, side / max(image.shape[:2]))
    work = (
        cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        if scale < 1
        else image
    )
    gray = cv2.cvtColor(work, cv2.COLOR_BGR2GRAY)
    faces, roll = find_faces(gray, thorough)
    if thorough and not faces and roll is None:
        box = skin_face(work, gray)
        faces = [(box, 0)] if box is not None else []
    return Located(image, work, gray, scale, faces, roll)


def measure(
    image: np.ndarray,
    width: int,
    height: int,
    *,
    located: Located | None = None,
    details: bool = True,
) -> PhotoMeasurements:
    """Measurements of one decoded BGR image whose original size is width × height. Without
    ``details`` only the face geometry, brightness and focus (enough to rank video frames)."""
    loc = located or locate(image)
    gray = loc.gray
    base: dict = {"width": width, "height": height, "bright_p90": float(np.percentile(gray, 90))}
    if not loc.faces:
        if loc.roll is None:
            base.update(_faceless(loc.work, gray))
        return PhotoMeasurements(**base, turned_face=loc.roll is not None, roll_deg=loc.roll)
    main = loc.faces[0][0]
    others = [
        b
        for b, votes in loc.faces[1:]
        if votes > 1 and b[2] >= rules.SECOND_FACE_MIN_SIZE * main[2]
    ]
    wh, ww = gray.shape
    x, y, w, h = main
    original = max(width, height) / max(image.shape[:2])  # JPEG decode reduction
    base.update(
        face_count=1 + len(others),
        face_x=x / ww,
        face_y=y / wh,
        face_w=w / ww,
        face_h=h / wh,
        face_px=h / loc.scale * original,
    )
    box = tuple(round(v / loc.scale) for v in main)
    full_gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    if not details:
        base["sharpness"] = _sharpness(full_gray, box)  # type: ignore[arg-type]
        return PhotoMeasurements(**base)
    white = _white(loc.work, gray)
    base.update(
        head_edge_contact=head_edge_contact(white, main), **background(white, gray, [main, *others])
    )
    if not others:
        base.update(face_details(full_gray, image, box))  # type: ignore[arg-type]
    return PhotoMeasurements(**base)


def _faceless(bgr: np.ndarray, gray: np.ndarray) -> dict[str, float]:
    """With no face found: skin along the top edge (a face cut through by the frame) and the
    whiteness of the upper corners (where a chest-up photo shows only the wall)."""
    h, w = gray.shape
    ycrcb = cv2.cvtColor(bgr[: max(2, h // 50)], cv2.COLOR_BGR2YCrCb)
    y, cr, cb = ycrcb[..., 0], ycrcb[..., 1], ycrcb[..., 2]
    skin = (
        (y > 60) & (cr >= SKIN_CR[0]) & (cr <= SKIN_CR[1]) & (cb >= SKIN_CB[0]) & (cb <= SKIN_CB[1])
    )
    white = _white(bgr, gray)
    rows, cols = int(0.3 * h), max(1, int(0.2 * w))
    corners = np.concatenate([white[:rows, :cols].ravel(), white[:rows, -cols:].ravel()])
    return {
        "top_edge_skin": float(skin.mean()),
        "background_white_share": float(corners.mean()) if corners.size else 0.0,
    }


def _shrink(frame: np.ndarray) -> np.ndarray:
    scale = DECODE_MIN_SIDE / max(frame.shape[:2])
    return (
        cv2.resize(frame, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        if scale < 1
        else frame
    )


def _result(
    problems: list[Problem], media: str, measurements: dict | None = None
) -> VerificationResult:
    return VerificationResult(
        passed=not has_errors(problems),
        problems=problems,
        media=media,
        measurements=measurements or {},
    )


class OpenCVPhotoInspector:
    """PhotoInspector (services/ports.py): sniff, cap, decode, measure, judge."""

    def __init__(self, max_bytes: int = 50 * 1024 * 1024) -> None:
        self.max_bytes = max_bytes

    def inspect(self, data: bytes, filename: str | None = None) -> VerificationResult:
        """Judge uploaded bytes; the content decides what they are, never ``filename``."""
        problems = rules.judge_size(len(data), self.max_bytes)
        if problems:
            return _result(problems, "photo")
        kind = sniff(data[:16])
        if kind == "video":
            handle, name = tempfile.mkstemp(suffix=".mp4", prefix="beiandesk-video-")
            try:
                with os.fdopen(handle, "wb") as out:
                    out.write(data)
                return self._video(Path(name))
            finally:
                os.unlink(name)
        if kind == "heif":
            return _result([rules.unreadable("not_media", HEIF_MESSAGE)], "photo")
        return self._photo(data, kind)

    def inspect_file(self, path: Path) -> VerificationResult:
        """Judge a file without reading more than needed: the size cap is checked on the file
        system and a video is read by OpenCV from its path. OSError propagates."""
        size = path.stat().st_size
        problems = rules.judge_size(size, self.max_bytes)
        if problems:
            return _result(problems, "photo")
        with path.open("rb") as handle:
            head = handle.read(16)
        if sniff(head) == "video":
            return self._video(path)
        return self.inspect(path.read_bytes(), path.name)

    def _photo(self, data: bytes, kind: str | None) -> VerificationResult:
        header = image_header(data, kind) if kind else None
        if header is None:
            return _result([rules.unreadable("not_media" if kind is None else "corrupt")], "photo")
        width, height, complete = header
        problems = rules.judge_pixels(width, height, lossless=kind != "jpeg")
        if problems:
            return _result(problems, "photo")
        if not complete:
            return _result(
                [rules.unreadable("truncated", "文件不完整（可能上传中断），请重新上传。")], "photo"
            )
        image = decode(data, kind, width, height)  # type: ignore[arg-type]
        if image is None:
            return _result([rules.unreadable("corrupt")], "photo")
        m = measure(image, width, height)
        return _result(rules.judge_photo(m), "photo", asdict(m))

    def _video(self, path: Path) -> VerificationResult:
        """Sample VIDEO_SAMPLES frames evenly (sequential grab, retrieve only the samples: one
        pass of decoding, no seeking), measure each, let the domain judge the sequence."""
        capture = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
        try:
            if not capture.isOpened():
                return _result([rules.unreadable("corrupt")], "video")
            width = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH))
            height = int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
            problems = rules.judge_video_frame(width, height)
            if problems:
                return _result(problems, "video")
            fps = capture.get(cv2.CAP_PROP_FPS)
            fps = fps if 1.0 <= fps <= 240.0 else FALLBACK_FPS
            limit = int(rules.MAX_VIDEO_SECONDS * fps) + 1
            count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
            if count > limit:
                return _result(
                    rules.judge_video([], count / fps), "video", {"duration_s": count / fps}
                )
            if count > 0:
                targets = set(np.linspace(0, count - 1, VIDEO_SAMPLES).round().astype(int).tolist())
            else:  # length unknown: one frame a second, up to the cap
                targets = set(range(0, limit + 1, max(1, int(fps))))
            frames, read = self._read(capture, targets, limit + 1, width, height)
        finally:
            capture.release()
        duration = read / fps
        problems = rules.judge_video(frames, duration)
        summary = {
            "duration_s": duration,
            "frames_sampled": len(frames),
            "frames_with_face": sum(1 for f in frames if f.face_count > 0),
        }
        return _result(problems, "video", summary)

    @staticmethod
    def _read(
        capture: cv2.VideoCapture, targets: set[int], limit: int, width: int, height: int
    ) -> tuple[list[PhotoMeasurements], int]:
        """One decoding pass: every sampled frame is located and ranked cheaply; only the
        BEST_FRAMES sharpest single-face frames the domain will judge get the full measures."""
        frames: list[PhotoMeasurements] = []
        located: list[Located] = []
        index = 0
        while index < limit and capture.grab():
            if index in targets:
                ok, frame = capture.retrieve()
                if ok and frame is not None and frame.ndim == 3:
                    loc = locate(_shrink(frame), VIDEO_WORK_SIDE, thorough=False)
                    located.append(loc)
                    frames.append(measure(loc.image, width, height, located=loc, details=False))
            index += 1
        ranked = sorted(
            (i for i, f in enumerate(frames) if f.face_count == 1),
            key=lambda i: -(frames[i].sharpness or 0.0),
        )
        for i in ranked[: rules.BEST_FRAMES]:
            frames[i] = measure(located[i].image, width, height, located=located[i])
        if frames and not any(f.face_count for f in frames):  # judged alone: search it fully
            middle = len(frames) // 2
            frames[middle] = measure(located[middle].image, width, height)
        return frames, index
