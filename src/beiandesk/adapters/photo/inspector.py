"""OpenCVPhotoInspector: sniff, cap, decode, locate the face, measure, and let
beiandesk.domain.photo judge; videos are sampled into frames judged as a sequence."""

from __future__ import annotations

import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np

from beiandesk.adapters.photo.background import _white, background, head_edge_contact
from beiandesk.adapters.photo.cascades import Box, _cascade
from beiandesk.adapters.photo.faces import (
    FALLBACK_FACE_SEARCH,
    MIN_FACE_SEARCH,
    SKIN_CB,
    SKIN_CR,
    _confirmed,
    find_faces,
    skin_face,
)
from beiandesk.adapters.photo import landmarks as lm
from beiandesk.adapters.photo import people
from beiandesk.adapters.photo.measures import _sharpness, face_details
from beiandesk.adapters.photo.media import (
    HEIF_MESSAGE,
    TRUNCATED_GREY_ROWS,
    _shrink,
    decode,
    grey_tail,
    image_header,
    sniff,
)
from beiandesk.domain import photo as rules
from beiandesk.domain.photo import PhotoMeasurements
from beiandesk.domain.problems import Problem, has_errors
from beiandesk.services.ports import VerificationResult

#: Detection image: long side in pixels (a chest-up face is then ≥ 70 px; 512 keeps Haar fast).
WORK_SIDE = 512
#: Video frames are searched smaller: the principal is near the lens, and 8 frames must fit
#: in the time one photo takes.
VIDEO_WORK_SIDE = 400
#: Frames sampled from a video, evenly over its length.
VIDEO_SAMPLES = 8
#: Frame rate assumed when a container does not say.
FALLBACK_FPS = 30.0

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
    points: np.ndarray | None = None  # 68 landmarks of the main face, decoded-image pixels


def locate(image: np.ndarray, side: int = WORK_SIDE, thorough: bool = True) -> Located:
    scale = min(1.0, side / max(image.shape[:2]))
    work = (
        cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        if scale < 1
        else image
    )
    gray = cv2.cvtColor(work, cv2.COLOR_BGR2GRAY)
    if lm.available():
        found = _landmarked(image, scale, gray)
        if found is not None:
            faces = found[0]
            if thorough and len(faces) == 1:
                faces = faces + [(box, 2) for box in profile_faces(gray, faces[0][0])]
            return Located(image, work, gray, scale, faces, None, found[1])
    # dlib searched and found nothing: the Haar fall-backs look for chest-up-sized faces only
    share = FALLBACK_FACE_SEARCH if lm.available() and thorough else MIN_FACE_SEARCH
    faces, roll = find_faces(gray, thorough, share)
    # the smile inside a skin-toned head is the cascades' last resort for hidden or painted-over
    # eyes, which dlib's detector does not need (it finds those faces: the set's eyes_covered)
    if thorough and not faces and roll is None and not lm.available():
        box = skin_face(work, gray)
        faces = [(box, 0)] if box is not None else []
    return Located(image, work, gray, scale, faces, roll)


def _landmarked(
    image: np.ndarray, scale: float, work_gray: np.ndarray
) -> tuple[list[tuple[Box, int]], np.ndarray] | None:
    """dlib faces (work-image boxes, votes: 2 for a confident one) with the main face's
    landmarks; the main face's box is the landmarks' (jaw width, brows to chin)."""
    found, _ = people.find(image)
    strong = [(b, s) for b, s in found if s >= people.MIN_SCORE]
    if not strong:
        return None
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    main_box = max(strong, key=lambda f: f[0][2])[0]
    points = lm.shape(gray, main_box)
    boxes = [(tuple(round(v * scale) for v in lm.face_box(points)), 2)]
    for box, score in found:
        if box == main_box:
            continue
        work_box = tuple(round(v * scale) for v in box)
        sure = score >= people.SECOND_FACE_SCORE or (
            score >= people.MIN_SCORE and _confirmed(work_gray, work_box)  # type: ignore[arg-type]
        )
        boxes.append((work_box, 2 if sure else 1))
    return boxes, points  # type: ignore[return-value]


#: Second-person search in profile: the Haar profile cascade (both ways round) on a copy of the
#: detection image scaled by PROFILE_SCALE, for heads from SECOND_FACE_MIN_SIZE of the main face
#: up; this many neighbours (3: on the 150 photos of the set, no hit away from the main head on
#: a one-person photo; a head turned ≈ 45–90°, which dlib's frontal detector and the frontal
#: cascades miss, scores 4+). ≈ 30 ms on one core.
PROFILE_SCALE = 0.5
PROFILE_NEIGHBOURS = 3
#: A profile hit whose centre lies within this many main-face widths (sideways) of the main
#: face's centre is the main head itself (its ear and cheek), not a second person.
PROFILE_OWN_HEAD = 0.9


def profile_faces(gray: np.ndarray, main: Box) -> list[Box]:
    """Heads in profile (boxes in ``gray`` pixels) beside the main face ``main``: a second
    person looking away is still a second person (``multiple_faces``)."""
    small = cv2.resize(gray, None, fx=PROFILE_SCALE, fy=PROFILE_SCALE, interpolation=cv2.INTER_AREA)
    width = main[2] * PROFILE_SCALE
    side = max(20, int(rules.SECOND_FACE_MIN_SIZE * width))
    if min(small.shape) < side:
        return []
    centre = (main[0] + main[2] / 2) * PROFILE_SCALE
    found: list[Box] = []
    for flipped in (False, True):
        image = cv2.flip(small, 1) if flipped else small
        boxes, _ = _cascade("profile").detectMultiScale2(
            image, 1.1, PROFILE_NEIGHBOURS, minSize=(side, side), maxSize=(3 * int(width),) * 2
        )
        for bx, by, bw, bh in (tuple(int(v) for v in b) for b in boxes):
            if flipped:
                bx = small.shape[1] - bx - bw
            if abs(bx + bw / 2 - centre) < PROFILE_OWN_HEAD * width:
                continue
            box = tuple(round(v / PROFILE_SCALE) for v in (bx, by, bw, bh))
            if all(_overlap(box, other) < 0.3 for other in found):  # type: ignore[arg-type]
                found.append(box)  # type: ignore[arg-type]
    return found


#: Small-face pass (after every other search found nothing): Haar cascades on a grey copy
#: with this long side at most, looking for faces from SMALL_FACE_MIN px up — a 60 px face in
#: a 4000 px photo is 30 px there.
SMALL_FACE_SIDE = 2000
SMALL_FACE_MIN = 20
#: A grey copy smaller than SMALL_FACE_SIDE is enlarged at most this much for that pass.
SMALL_FACE_ENLARGE = 1.35
#: The small-face pass looks for faces up to this share of the shorter side: larger ones were
#: searched for by dlib and, from 10 % of the shorter side (FALLBACK_FACE_SEARCH), by the Haar
#: fall-backs already; the pass overlaps them by one step.
SMALL_FACE_MAX = 0.11
#: …over at most this many SMALL_FACE_MIN-sized squares of the frame: a cascade's work grows
#: with the area searched over the smallest face's. The part of a white-walled photo that is
#: not wall (a person standing far back) fits at full SMALL_FACE_SIDE resolution (a 60 px
#: face in a 12 MP photo: ≈ 460 squares; the set's people far back in 1500 × 2000: ≤ 300); a
#: busy frame with no face anywhere is searched at the resolution that fits (the whole of a
#: 2000 × 1500 copy is 7500 squares, ≈ 0.55 s on one core; this budget ≈ 55 ms), so there only
#: the larger small faces are found (from ≈ 90 px in a 2000 px frame: a person far back in a
#: busy room may be turned away as no_face instead of face_too_small).
SMALL_FACE_BUDGET = 480
#: …stepping between face sizes by this factor (1.15 → 1.2: a quarter less work on a textured
#: frame; the set's people far back, and each of four people at 35–75 % of the cut-out's size
#: in a 12 MP frame, are found as before).
SMALL_FACE_STEP = 1.2


def _small_face(gray: np.ndarray) -> Box | None:
    """The largest face both frontal cascades agree on (alt2 searches, the default cascade
    re-checks a window round each hit), from SMALL_FACE_MIN px up to SMALL_FACE_MAX of the
    shorter side (faces any larger were searched for already)."""
    limit = max(SMALL_FACE_MIN + 1, int(SMALL_FACE_MAX * min(gray.shape)))
    x0, y0, x1, y1 = _not_wall(gray, limit)
    if min(x1 - x0, y1 - y0) < SMALL_FACE_MIN:
        return None
    region = gray[y0:y1, x0:x1]
    # within SMALL_FACE_BUDGET: a larger region is searched on a smaller copy
    k = min(1.0, (SMALL_FACE_BUDGET * SMALL_FACE_MIN**2 / region.size) ** 0.5)
    if k < 1.0:
        region = cv2.resize(region, None, fx=k, fy=k, interpolation=cv2.INTER_AREA)
    small_limit = max(SMALL_FACE_MIN + 1, int(k * limit))
    if min(region.shape) < SMALL_FACE_MIN:
        return None
    boxes, _ = _cascade("face_alt2").detectMultiScale2(
        region,
        SMALL_FACE_STEP,
        3,
        minSize=(SMALL_FACE_MIN, SMALL_FACE_MIN),
        maxSize=(small_limit, small_limit),
    )
    agreed = []
    for box in boxes:
        x, y, w, h = (round(int(v) / k) for v in box)
        x, y = x + x0, y + y0
        x0, y0 = max(0, x - w // 2), max(0, y - h // 2)
        window = gray[y0 : y + h + h // 2, x0 : x + w + w // 2]
        hits, _ = _cascade("face").detectMultiScale2(
            window, 1.1, 2, minSize=(int(0.7 * w), int(0.7 * h)), maxSize=(2 * w, 2 * h)
        )
        if any(_overlap((x, y, w, h), (hx + x0, hy + y0, hw, hh)) > 0.3 for hx, hy, hw, hh in hits):
            agreed.append((x, y, w, h))
    return max(agreed, key=lambda b: b[2]) if agreed else None


def _budget_side(gray: np.ndarray, width: int, height: int) -> float:
    """The long side at which the small-face pass will search (SMALL_FACE_SIDE, or less when the
    part of the frame that is not wall exceeds SMALL_FACE_BUDGET there), judged on ``gray``
    (the decoded photo) before a larger copy is decoded: no use decoding more than is searched."""
    side = max(gray.shape)
    target = min(SMALL_FACE_SIDE, max(width, height))
    x0, y0, x1, y1 = _not_wall(gray, int(SMALL_FACE_MAX * min(gray.shape)))
    area = (x1 - x0) * (y1 - y0) * (target / side) ** 2
    if area <= 0:
        return 0.0
    return target * min(1.0, (SMALL_FACE_BUDGET * SMALL_FACE_MIN**2 / area) ** 0.5)


def _not_wall(gray: np.ndarray, margin: int) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1): the part of the frame that is not plain wall — the bounding box of the
    pixels darker than white (rules.WHITE_MIN_LUMA), grown by ``margin``. A face is never in
    the plain white around a person, so the small-face search (the costliest) skips it; on a
    busy photo this is the whole frame."""
    step = 4  # judged on a quarter-size copy: a face ≥ SMALL_FACE_MIN px is ≥ 5 px there
    small = gray[::step, ::step]
    rows = np.flatnonzero((small < rules.WHITE_MIN_LUMA).any(axis=1))
    cols = np.flatnonzero((small < rules.WHITE_MIN_LUMA).any(axis=0))
    h, w = gray.shape
    if rows.size == 0:
        return 0, 0, 0, 0
    return (
        max(0, cols[0] * step - margin),
        max(0, rows[0] * step - margin),
        min(w, (cols[-1] + 1) * step + margin),
        min(h, (rows[-1] + 1) * step + margin),
    )


def _overlap(a: Box, b: Box) -> float:
    x1, y1 = max(a[0], b[0]), max(a[1], b[1])
    x2, y2 = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
    inter = max(0, x2 - x1) * max(0, y2 - y1)
    return inter / float(a[2] * a[3] + b[2] * b[3] - inter)


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
    # brightness as the brightest channel (HSV value): a blue or red backdrop is lit, not dim
    value = loc.work.max(axis=2) if loc.work.ndim == 3 else gray
    base: dict = {"width": width, "height": height, "bright_p90": float(np.percentile(value, 90))}
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
    if loc.points is not None:
        base["hair_to_top"] = people.hair_to_top(loc.work, loc.points * loc.scale)
    if not others:
        base.update(face_details(full_gray, image, box))  # type: ignore[arg-type]
        if loc.points is not None:
            base.update(people.details(full_gray, image, loc.points, white, gray))
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
        if kind == "jpeg" and grey_tail(image) >= TRUNCATED_GREY_ROWS:
            return _result(
                [rules.unreadable("truncated", "文件不完整（可能上传中断），请重新上传。")], "photo"
            )
        m = measure(image, width, height)
        if m.face_count == 0 and not m.turned_face:
            m = self._small(data, kind, image, width, height) or m
        return _result(rules.judge_photo(m), "photo", asdict(m))

    @staticmethod
    def _small(
        data: bytes, kind: str | None, image: np.ndarray, width: int, height: int
    ) -> PhotoMeasurements | None:
        """Nothing found at the working size: look for a small face at up to SMALL_FACE_SIDE
        (a JPEG decoded again, in grey, at a larger 1/n scale). A face found there is measured
        (so it is ``face_too_small``, not ``no_face``)."""
        gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        if max(width, height) > max(image.shape[:2]) and _budget_side(gray, width, height) > max(
            gray.shape
        ):  # decoded smaller, and the budget allows a larger search: decode again, grey
            flag = cv2.IMREAD_GRAYSCALE  # PNG/WebP: full size (≤ 30 MP, one byte a pixel)
            if kind == "jpeg":
                for factor, reduced in (
                    (8, cv2.IMREAD_REDUCED_GRAYSCALE_8),
                    (4, cv2.IMREAD_REDUCED_GRAYSCALE_4),
                    (2, cv2.IMREAD_REDUCED_GRAYSCALE_2),
                ):
                    if max(width, height) // factor >= min(SMALL_FACE_SIDE, max(width, height)):
                        flag = reduced
                        break
            try:
                bigger = cv2.imdecode(np.frombuffer(data, np.uint8), flag)
            except cv2.error:
                bigger = None
            if bigger is not None and bigger.shape[0] > gray.shape[0]:
                gray = bigger
        # searched at SMALL_FACE_SIDE: a bigger grey copy is reduced, a smaller one enlarged
        # by at most SMALL_FACE_ENLARGE (a 22 px face at 1500 px becomes 29 px, inside the
        # cascades' reach; a small image has no small face worth finding)
        factor = min(SMALL_FACE_ENLARGE, SMALL_FACE_SIDE / max(gray.shape))
        if abs(factor - 1.0) > 0.05:
            interp = cv2.INTER_AREA if factor < 1 else cv2.INTER_LINEAR
            gray = cv2.resize(gray, None, fx=factor, fy=factor, interpolation=interp)
        box = _small_face(gray)
        if box is None:
            return None
        scale = min(1.0, WORK_SIDE / max(image.shape[:2]))
        work = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        work_gray = cv2.cvtColor(work, cv2.COLOR_BGR2GRAY)
        ratio = work_gray.shape[0] / gray.shape[0]
        faces = [(tuple(round(v * ratio) for v in box), 2)]
        loc = Located(image, work, work_gray, scale, faces, None)  # type: ignore[arg-type]
        return measure(image, width, height, located=loc)

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
