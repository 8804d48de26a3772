"""Face finding on the detection image: two frontal cascades vote, with fall-backs for glare,
dim photos, faces cut by the frame, tilted and turned heads and, last, a smile inside a
skin-toned head on a white wall. Also the normalised face crop and the eye cascades."""

from __future__ import annotations

import cv2
import numpy as np

from beiandesk.adapters.photo.background import _white
from beiandesk.adapters.photo.cascades import Box, _cascade
from beiandesk.domain import photo as rules

#: Face crops are resampled to this square size before eyes, mouth and blur are measured.
FACE_NORM = 120
#: Smallest face searched, as a share of the shorter side of the detection image.
MIN_FACE_SEARCH = 0.06
#: Smallest face the Haar fall-backs search for once dlib has searched the photo and found
#: nothing (blurred, tilted, turned, de-glared, dim or frame-cut faces), as a share of the
#: shorter side. A chest-up face is 18–35 % of the frame height; below 12 % it is
#: face_too_small (rules.MIN_FACE_HEIGHT_SHARE), which the small-face pass looks for. A cascade's
#: cost grows with (frame / smallest face)²: 0.1 instead of 0.06 is ≈ 1/3 of the time (a busy
#: 512 px copy: ≈ 60 → 20 ms a cascade).
FALLBACK_FACE_SEARCH = 0.1
#: …and steps between the sizes searched by this factor (1.2, not 1.1: ≈ 0.6 of the time; the
#: faces these searches are for are large, a step of 20 % still lands within a cascade's
#: tolerance of each).
FALLBACK_SCALE_STEP = 1.2
#: The profile cascade (a head turned to the side: not_facing_camera rather than no_face), the
#: slowest, looks for heads from this share of the shorter side once dlib found nothing: a
#: chest-up face is at least 18 % of the frame height and the head seen from the side, brow to
#: chin and more, is no smaller (its cost: ≈ 12 ms a pass on a busy 512 px copy).
FALLBACK_PROFILE_SEARCH = 0.2
#: A smile cascade hit this confident locates a face the face cascades missed (the hits on a
#: real smile score in the hundreds; on hair or a blurred face, under 20).
SMILE_NEIGHBOURS = 50
#: Skin tones in YCrCb (Cr, Cb ranges), all complexions under white light.
SKIN_CR, SKIN_CB = (135, 180), (80, 130)

# --- faces ----------------------------------------------------------------------------------


def _iou(a: Box, b: Box) -> float:
    x1, y1 = max(a[0], b[0]), max(a[1], b[1])
    x2, y2 = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
    inter = max(0, x2 - x1) * max(0, y2 - y1)
    return inter / float(a[2] * a[3] + b[2] * b[3] - inter)


def _detect(
    name: str,
    gray: np.ndarray,
    neighbours: int,
    min_side: int = 0,
    share: float = MIN_FACE_SEARCH,
    step: float = 1.1,
) -> list[tuple[Box, int]]:
    """(box, neighbours) of one cascade; neighbours (overlapping hits) measure its confidence.
    Faces from ``share`` of the shorter side (or ``min_side`` px) up, sizes ``step`` apart."""
    side = max(20, min_side, int(share * min(gray.shape)))
    if min(gray.shape) < side:
        return []
    boxes, counts = _cascade(name).detectMultiScale2(gray, step, neighbours, minSize=(side, side))
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


def frontal_faces(
    gray: np.ndarray, share: float = MIN_FACE_SEARCH, step: float = 1.1, whole: bool = True
) -> list[tuple[Box, int]]:
    """Frontal faces as (box, votes), largest first. Two cascades vote: alt2 searches the image
    and the default cascade re-checks each box in a small window; only when that leaves doubt
    (a box unconfirmed, or none at all) does the default search the whole image too. A box only
    one cascade finds counts when that one is confident. Plain (unequalised) grey: equalising a
    mostly-white photo stretches the face's mid-tones and loses faces. Not ``whole``: the
    default cascade only re-checks alt2's boxes (a fall-back search after dlib)."""
    faces: list[tuple[Box, int]] = []
    pending: list[tuple[Box, int]] = []
    for box, count in _detect("face_alt2", gray, 2, share=share, step=step):
        if _confirmed(gray, box):
            faces.append((box, 2))
        else:
            pending.append((box, count))
    if pending or not faces:
        others = _detect("face", gray, 2, share=share, step=step) if whole else []
        for box, count in pending:
            if any(_iou(box, other) > 0.3 for other, _ in others):
                faces.append((box, 2))
            elif count >= STRONG_NEIGHBOURS:
                faces.append((box, 1))
        for box, count in others:
            if count >= STRONG_NEIGHBOURS and all(_iou(box, f) <= 0.3 for f, _ in faces + pending):
                faces.append((box, 1))
    return sorted(faces, key=lambda f: -f[0][2] * f[0][3])


def _deglare(gray: np.ndarray, only_if_glare: bool = False) -> np.ndarray | None:
    """Small enclosed near-white blobs (reflections on lenses) darkened, so a face whose eyes
    are hidden by glare is still found; the glare itself is measured on the original. With
    ``only_if_glare``, None when there is no such blob (the copy would be the image again)."""
    bright = (gray >= 235).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(bright, connectivity=8)
    limit = 0.002 * gray.size
    small = [i for i in range(1, count) if stats[i, cv2.CC_STAT_AREA] <= limit]
    if only_if_glare and not small:
        return None
    out = gray.copy()
    out[np.isin(labels, small)] = 60
    return out


def _rotate(gray: np.ndarray, angle: float) -> np.ndarray:
    h, w = gray.shape
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    return cv2.warpAffine(gray, matrix, (w, h), borderMode=cv2.BORDER_REPLICATE)


#: dlib's detector on a rotated copy counts a tilted face from this SVM margin: heads tilted
#: 30° or lying sideways score 1.1–1.5 on the copy turned back upright; a blurred upright
#: face that dlib just missed scores 0.16–0.31 on a copy turned ±25° (the set's blurred cases).
#: dlib's frontal detector itself finds heads rolled up to ≈ 15–20° (the set's 32° tilt is
#: found upright), so the copies turned ±30° reach heads rolled ≈ 15–50°, and ±90° a photo
#: taken sideways: four copies, not the six the cascades need.
TILTED_MIN_SCORE = 0.5


def _tilted(gray: np.ndarray, upright_width: int) -> float | None:
    """The roll at which a frontal face appears on a rotated copy. With dlib (which found no
    upright face, or this search would not run): its detector on each rotated copy, ≈ 10 ms
    each. Without it: a frontal face with both eyes (two cascades and the eye cascades, ≈ 0.1 s
    each), clearly bigger than the best upright one (a tilted head gives at most a partial
    upright box)."""
    from beiandesk.adapters.photo import landmarks as lm

    angles = (
        (30.0, -30.0, 90.0, -90.0) if lm.available() else (25.0, -25.0, 45.0, -45.0, 90.0, -90.0)
    )
    for angle in angles:
        if abs(angle) == 90:  # a sideways photo: turn it exactly, canvas and all
            rotated = cv2.rotate(
                gray, cv2.ROTATE_90_COUNTERCLOCKWISE if angle > 0 else cv2.ROTATE_90_CLOCKWISE
            )
        else:
            rotated = _rotate(gray, angle)
        if lm.available():
            if any(score >= TILTED_MIN_SCORE for _, score in lm.detect(rotated)):
                return angle
            continue
        for box, _ in frontal_faces(rotated):
            if box[2] >= 1.15 * upright_width and len(_eyes(_face_crop(rotated, box))) == 2:
                return angle
    return None


def _upright_faces(gray: np.ndarray, share: float = MIN_FACE_SEARCH) -> list[tuple[Box, int]]:
    """Frontal faces on the plain image; failing that on a de-glared copy, an equalised copy
    when the photo is dim (equalising a bright one only invents faces), and a copy padded past
    the frame with the background's tone (a face cut by the edge: its box then crosses it).
    As a fall-back after dlib (``share`` FALLBACK_FACE_SEARCH): one search on one copy that is
    all three at once (the padding holds no face, de-glaring touches only small near-white
    blobs, equalising only a dim photo), a third of the searches on a faceless photo."""
    dim = np.percentile(gray, 90) < rules.DIM_BRIGHT_P90
    if share >= FALLBACK_FACE_SEARCH:
        image = _deglare(gray, only_if_glare=True)
        image = gray if image is None else image
        return _padded_faces(cv2.equalizeHist(image) if dim else image, share)
    for variant in (
        lambda: gray,
        lambda: _deglare(gray, only_if_glare=True),
        lambda: cv2.equalizeHist(gray) if dim else None,
    ):
        image = variant()
        faces = frontal_faces(image, share) if image is not None else []
        if faces:
            return faces
    return _padded_faces(gray, share, relative_to_padded=True)


def _padded_faces(
    gray: np.ndarray, share: float, relative_to_padded: bool = False
) -> list[tuple[Box, int]]:
    """Frontal faces on a copy padded by a quarter of the long side with the frame edge's median
    tone (a face cut by the frame is found whole, its box crossing the edge); the smallest face
    is ``share`` of the shorter side of the frame (or, ``relative_to_padded``, of the copy)."""
    h, w = gray.shape
    pad = int(0.25 * max(h, w))
    edge = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    padded = cv2.copyMakeBorder(
        gray, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=int(np.median(edge))
    )
    if not relative_to_padded:
        share = share * min(h, w) / min(padded.shape)
    if relative_to_padded:
        found = frontal_faces(padded, share)
    else:
        found = frontal_faces(padded, share, FALLBACK_SCALE_STEP, whole=False)
    return [((x - pad, y - pad, bw, bh), v) for (x, y, bw, bh), v in found]


def find_faces(
    gray: np.ndarray, thorough: bool = True, share: float = MIN_FACE_SEARCH
) -> tuple[list[tuple[Box, int]], float | None]:
    """(frontal faces, roll) on the detection image. An upright face without two visible eyes
    may be a tilted head (the box then covers only part of it): a clearly bigger face
    with eyes on a rotated copy wins, as does one found only in profile; either gives no
    frontal face and the roll (90 for a profile). Not ``thorough`` (video frames, where the
    sequence decides): plain and de-glared search only. ``share``: the smallest face searched
    for, as a share of the shorter side (FALLBACK_FACE_SEARCH after dlib found nothing)."""
    if not thorough:
        faces = frontal_faces(gray)
        deglared = None if faces else _deglare(gray, only_if_glare=True)
        return (faces or (frontal_faces(deglared) if deglared is not None else [])), None
    faces = _upright_faces(gray, share)
    if faces and len(_eyes(_face_crop(gray, faces[0][0]))) == 2:
        return faces, None
    angle = _tilted(gray, faces[0][0][2] if faces else 0)
    if angle is not None:
        return [], angle
    if faces:
        return faces, None
    for image in (gray, cv2.flip(gray, 1)):
        fallback = share >= FALLBACK_FACE_SEARCH
        if _detect(
            "profile",
            image,
            6,
            share=FALLBACK_PROFILE_SEARCH if fallback else share,
            step=FALLBACK_SCALE_STEP if fallback else 1.1,
        ):
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
