"""Landmark-based measurements of one face: finding it with dlib (two passes, the second for
small faces), eye and mouth aspect, head pose, focus of the inner face relative to its size,
and the whiteness beside and above the head (the backdrop a coloured wall or a flag shows)."""

from __future__ import annotations

import cv2
import numpy as np

from beiandesk.adapters.photo import landmarks as lm
from beiandesk.adapters.photo.cascades import Box
from beiandesk.domain import photo as rules

#: dlib's HOG detector runs on a copy with this long side: its smallest face (≈ 80 px) is then
#: 12 % of the long side, as small as a chest-up face gets; smaller faces get a second pass.
DETECT_SIDE = 640
#: Second pass on this long side (the decoded image): faces down to ≈ 8 % of the long side;
#: smaller ones are left to the Haar small-face pass (inspector), which is cheaper than
#: upsampling for dlib.
SMALL_SIDE = 1000
#: A detection this confident is a face (dlib's SVM margin; real faces score 0.2–2.5, the
#: weak hits on backdrops and clothes −0.3–0).
MIN_SCORE = 0.0
#: Glare is near-white: at least this luma (and 30 above the skin).
GLARE_MIN_LUMA = 230.0
#: A second face counts at this score, or from MIN_SCORE when a Haar cascade confirms it (a
#: weak hit on a patterned backdrop or clothing is neither).
SECOND_FACE_SCORE = 0.3
#: The inner face is resampled to this width before its focus is measured (relative to size).
FOCUS_WIDTH = 64
#: Crown of the head above the top of the brows, in brow-to-chin heights (anthropometric
#: head height ≈ 1.45–1.6 brow-to-chin lengths, hair not counted).
CROWN_ABOVE_BROWS = 0.5
#: Hair beside the face: the head ellipse is this many jaw widths wide.
HEAD_WIDTH = 1.7


def find(image: np.ndarray) -> tuple[list[tuple[Box, float]], float]:
    """Faces (boxes in ``image`` pixels, scores) and the scale used; empty when none."""
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
    # second pass: the decoded image at SMALL_SIDE, or a small image upsampled once (cheap)
    second = (SMALL_SIDE, 0) if max(gray.shape) > DETECT_SIDE else (DETECT_SIDE, 1)
    for side, upsample in ((DETECT_SIDE, 0), second):
        scale = min(1.0, side / max(gray.shape))
        small = (
            cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
            if scale < 1
            else gray
        )
        found = [(b, s) for b, s in lm.detect(small, upsample) if s >= MIN_SCORE - 0.3]
        if any(s >= MIN_SCORE for _, s in found):
            boxes = [(tuple(round(v / scale) for v in b), s) for b, s in found]
            return boxes, scale  # type: ignore[return-value]
    return [], 1.0


def _focus(gray: np.ndarray, points: np.ndarray) -> float:
    """Focus of the inner face relative to its size: resampled to FOCUS_WIDTH px wide, the mean
    squared second derivative across x and across y (the weaker of the two: motion blur smears
    one direction), ×1000 over the squared grey range (5th–95th percentile), so exposure and
    contrast do not read as blur."""
    x, y, w, h = lm.inner_face(points)
    x0, y0 = max(0, x), max(0, y)
    crop = gray[y0 : y + h, x0 : x + w]
    if min(crop.shape) < 8:
        return 0.0
    height = max(8, round(FOCUS_WIDTH * crop.shape[0] / crop.shape[1]))
    interp = cv2.INTER_AREA if crop.shape[1] > FOCUS_WIDTH else cv2.INTER_CUBIC
    small = cv2.resize(crop, (FOCUS_WIDTH, height), interpolation=interp).astype(np.float32)
    spread = float(np.percentile(small, 95) - np.percentile(small, 5))
    across_x = cv2.Sobel(small, cv2.CV_32F, 2, 0, ksize=3)[2:-2, 2:-2]
    across_y = cv2.Sobel(small, cv2.CV_32F, 0, 2, ksize=3)[2:-2, 2:-2]
    energy = min(float((across_x**2).mean()), float((across_y**2).mean()))
    return 1000.0 * energy / max(spread, 10.0) ** 2


def _eyes(
    gray: np.ndarray, bgr: np.ndarray, points: np.ndarray
) -> tuple[float | None, float | None]:
    """(darkest-eye ratio, glare). For each eye, the 10th-percentile grey inside its landmark
    outline over the cheek's median grey (an open eye shows iris, pupil and lashes, far darker
    than skin; a lid or a patch of skin does not): the smaller of the two eyes. Glare: the
    largest near-white, colourless blob in a lens-sized window round either eye, as a share of
    that window."""
    cheeks = np.concatenate(
        [
            _patch(gray, points[[31, 2]].mean(axis=0), 0.6 * _eye_width(points, lm.RIGHT_EYE)),
            _patch(gray, points[[35, 14]].mean(axis=0), 0.6 * _eye_width(points, lm.LEFT_EYE)),
        ]
    )
    if cheeks.size == 0:
        return None, None
    skin = float(np.median(cheeks))
    chroma = (bgr.max(axis=2).astype(np.int16) - bgr.min(axis=2)).astype(np.int16)
    ratios, glare = [], 0.0
    for eye in (lm.RIGHT_EYE, lm.LEFT_EYE):
        outline = points[eye].round().astype(np.int32)
        mask = np.zeros(gray.shape, np.uint8)
        cv2.fillPoly(mask, [outline], 255)
        inside = gray[mask > 0]
        if inside.size >= 6:
            ratios.append(float(np.percentile(inside, 10)) / max(skin, 1.0))
        width = _eye_width(points, eye)
        cx, cy = points[eye].mean(axis=0)
        x0, x1 = int(max(0, cx - 0.7 * width)), int(min(gray.shape[1], cx + 0.7 * width))
        y0, y1 = int(max(0, cy - 0.5 * width)), int(min(gray.shape[0], cy + 0.5 * width))
        lens, lens_chroma = gray[y0:y1, x0:x1], chroma[y0:y1, x0:x1]
        if lens.size == 0:
            continue
        bright = (lens >= max(GLARE_MIN_LUMA, skin + 30.0)) & (
            lens_chroma <= rules.WHITE_MAX_CHROMA
        )
        count, _, stats, _ = cv2.connectedComponentsWithStats(
            bright.astype(np.uint8), connectivity=8
        )
        largest = max((int(stats[i, cv2.CC_STAT_AREA]) for i in range(1, count)), default=0)
        glare = max(glare, largest / lens.size)
    return (min(ratios) if ratios else None), glare


def _eye_width(points: np.ndarray, eye: list[int]) -> float:
    return float(np.hypot(*(points[eye[0]] - points[eye[3]])))


def _patch(gray: np.ndarray, centre: np.ndarray, half: float) -> np.ndarray:
    cx, cy, r = int(centre[0]), int(centre[1]), max(1, int(half))
    return gray[max(0, cy - r) : cy + r, max(0, cx - r) : cx + r].ravel()


def _side(white: np.ndarray, gray: np.ndarray, points: np.ndarray) -> dict[str, float]:
    """The backdrop beside and above the head, from the top of the frame down to just below
    the chin, outside an ellipse round the head (HEAD_WIDTH jaw widths wide, from above the
    crown to the chin) and outside the neck/shoulder band below the jaw: its white share, the
    largest non-white blob in it not touching the person (clutter) and its longest straight
    edge (a door gap or wall corner running down behind the shoulder, which the whole-frame
    measures count as part of the person), as shares of the frame."""
    h, w = white.shape
    x, y, bw, bh = lm.face_box(points)
    cx = x + bw / 2
    crown = y - CROWN_ABOVE_BROWS * bh
    bottom = int(min(h, y + bh + 0.25 * bh))
    if bottom <= 0:
        return {}
    person = np.zeros((h, w), np.uint8)
    centre = (int(cx), int((crown + y + bh) / 2))
    axes = (int(HEAD_WIDTH * bw / 2), int((y + bh - crown) / 2 + 0.25 * bh))
    cv2.ellipse(person, centre, axes, 0, 0, 360, 255, -1)
    chin = int(y + bh - 0.1 * bh)
    cv2.rectangle(person, (int(cx - 2.4 * bw), chin), (int(cx + 2.4 * bw), h), 255, -1)
    sample = person == 0
    sample[bottom:] = False
    if sample.mean() < rules.MIN_BACKGROUND_SAMPLE:
        return {}
    out = {"side_white_share": float(white[sample].mean())}
    # Non-white blobs over the whole frame: one that reaches the face box or the shoulder band
    # is the person (hair spilling past the ellipse is connected to the face through itself);
    # one that does not, but shows in the sample, is something else on the wall. Connectivity
    # runs through the person's own pixels, not through the ellipse: a cup standing clear of
    # the hair counts even where the ellipse (the room left for hair) reaches it.
    nonwhite = cv2.morphologyEx(
        (~white).astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8)
    )
    count, labels, stats, _ = cv2.connectedComponentsWithStats(nonwhite, connectivity=8)
    body = np.zeros((h, w), bool)
    body[max(0, int(y)) : max(0, int(y + bh)), max(0, int(x)) : max(0, int(x + bw))] = True
    body[max(0, chin) :, max(0, int(cx - 2.4 * bw)) : max(0, int(cx + 2.4 * bw))] = True
    attached = set(np.unique(labels[body & (nonwhite > 0)]).tolist())
    areas = np.bincount(labels[sample & (nonwhite > 0)], minlength=count)
    out["side_clutter"] = max(
        (int(areas[i]) for i in range(1, count) if i not in attached), default=0
    ) / float(h * w)
    inner = cv2.erode(sample.astype(np.uint8), np.ones((7, 7), np.uint8)) > 0
    inner[:3], inner[:, :3], inner[:, -3:] = False, False, False
    edges = cv2.Canny(cv2.GaussianBlur(gray, (5, 5), 0), 20, 50)
    edges[~inner] = 0
    lines = cv2.HoughLinesP(edges, 1, np.pi / 180, 40, minLineLength=int(0.15 * h), maxLineGap=6)
    longest = 0.0
    for x1, y1, x2, y2 in lines[:, 0] if lines is not None else []:
        longest = max(longest, float(np.hypot(x2 - x1, y2 - y1)))
    out["side_line"] = longest / h
    return out


def details(
    gray: np.ndarray,
    bgr: np.ndarray,
    points: np.ndarray,
    white: np.ndarray | None = None,
    work_gray: np.ndarray | None = None,
) -> dict[str, float | None]:
    """Landmark measures of one face on the decoded grey image (points in its pixels);
    ``white`` and ``work_gray`` (the white mask and grey of the detection copy) give the
    backdrop beside the head."""
    yaw, pitch, roll = lm.pose(points, gray.shape[:2])
    dark, glare = _eyes(gray, bgr, points)
    out: dict[str, float | None] = {
        "eye_aspect": max(lm.eye_aspect(points, lm.RIGHT_EYE), lm.eye_aspect(points, lm.LEFT_EYE)),
        "mouth_aspect": lm.mouth_aspect(points),
        "yaw_deg": yaw,
        "pitch_deg": pitch,
        "roll_deg": roll,
        "face_focus": _focus(gray, points),
        "eye_dark_ratio": dark,
        "eye_glare": glare,
    }
    if white is not None and work_gray is not None:
        scale = white.shape[0] / gray.shape[0]
        out.update(_side(white, work_gray, points * scale))
    return out


#: Hair reaching the top edge on any plain backdrop: the backdrop is sampled in the frame's top
#: rows just beside the head (outside the head ellipse, HEAD_WIDTH jaw widths wide, this many
#: jaw widths further out), where it is lit as the part above the head is (a vignetted or
#: graded backdrop is darker towards the corners: on the set's dark wooden wall, L 17 in the
#: corner, 53 beside the head).
HAIR_REFERENCE_WIDTH = 0.4
#: A pixel is unlike the backdrop at this CIELAB distance (8-bit Lab) from that side's median,
#: or HAIR_SPREAD_FACTOR times the side's own 90th-percentile spread when that is larger.
#: Hair against the wall beside it differs by 30–50 (the set's long dark hair: L 9–14 under a
#: wall at L 53); JPEG noise and wood grain within a wall by under 10.
HAIR_MIN_DISTANCE = 18.0
HAIR_SPREAD_FACTOR = 2.0
#: Above this spread the top rows beside the head are not one plain backdrop (a flag, a room):
#: that side is not compared with.
HAIR_MAX_SPREAD = 25.0
#: The band from the top edge down to the brows over the middle of the head must be mostly
#: head (hair, forehead): at least this share of its rows unlike the backdrop. A head with room
#: above it has backdrop there (the first rows); hair crossing the wall's own tone on its way
#: from dark to the lit forehead breaks a strict run for a few rows.
HAIR_MIN_ROWS = 0.6


def hair_to_top(work: np.ndarray, points: np.ndarray) -> float | None:
    """Share of the frame's top rows over the middle of the head (half a jaw width wide) that
    are unlike the backdrop beside the head, on every side where that was sampled and is
    plain; 0 unless what is unlike is the head: it spans no wider than the head ellipse along
    the top edge (a flag or a second wall tone reaching past it is backdrop) and continues down
    to the brows (HAIR_MIN_ROWS). ``points`` in ``work`` pixels. Near 1: hair running through the
    top edge, the crown cut off; a head with room above it: 0. None when no side of the head
    could be sampled plain."""
    h, w = work.shape[:2]
    x, y, bw, bh = lm.face_box(points)
    if y <= 4:
        return None
    cx = x + bw / 2
    half, ref_w = HEAD_WIDTH * bw / 2, HAIR_REFERENCE_WIDTH * bw
    band = max(2, int(0.1 * y))
    lab = cv2.cvtColor(work[: int(y)], cv2.COLOR_BGR2LAB).astype(np.float32)
    unlike = np.ones(lab.shape[:2], bool)
    sides = 0
    for a, b in ((cx - half - ref_w, cx - half), (cx + half, cx + half + ref_w)):
        a, b = max(0, int(a)), max(0, min(w, int(b)))
        if b - a < ref_w / 2:  # the frame cuts this side's sample short: not sampled
            continue
        ref = lab[:band, a:b].reshape(-1, 3)
        median = np.median(ref, axis=0)
        spread = float(np.percentile(np.linalg.norm(ref - median, axis=1), 90))
        if spread > HAIR_MAX_SPREAD:
            continue
        limit = max(HAIR_MIN_DISTANCE, HAIR_SPREAD_FACTOR * spread)
        unlike &= np.linalg.norm(lab - median, axis=2) > limit
        sides += 1
    if not sides:
        return None
    c0, c1 = max(0, int(cx - 0.25 * bw)), min(w, int(cx + 0.25 * bw))
    if c1 <= c0:
        return None
    top = unlike[:band].mean(axis=0) >= 0.5  # columns of the top band unlike the backdrop
    centre = min(w - 1, max(0, int(cx)))
    if not top[centre]:
        return 0.0
    left = centre - int(np.argmin(top[centre::-1])) if not top[: centre + 1].all() else -1
    right = centre + int(np.argmin(top[centre:])) if not top[centre:].all() else w
    if left < cx - half or right > cx + half:  # wider than the head: backdrop, not hair
        return 0.0
    if (unlike[:, c0:c1].mean(axis=1) >= 0.5).mean() < HAIR_MIN_ROWS:
        return 0.0
    return float(unlike[:band, c0:c1].mean())
