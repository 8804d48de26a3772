"""Verification photo/video judgement: numbers in, problems out.

Source: product.md "Verification photo rules" — one person, chest up, whole head and face in
frame; plain white background with no wall corner or door gap and nothing else visible;
natural expression (a smile is fine), eyes open and looking straight at the camera, mouth not
wide open; glasses without glare over the eyes. Codes: api.md §Problem codes (Photo).

The OpenCV adapter measures, this module judges. A measurement is ``None`` when it could not
be taken; then its rule stays silent. Only what is measured robustly is an error: the finer
checks (eyes, mouth, pose, glare) fire only on strong evidence and are skipped when the photo
is too dark, too blurred or the face too small to see them — a false rejection of a good photo
costs the applicant more than a late one by the reviewer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from beiandesk.domain.problems import Problem, error

FIELD = "verification"

# --- what the adapter counts as "white" (shared so both sides agree) -------------------------
#: A background pixel is white when its luma (0–255) is at least this: a white wall under
#: ordinary indoor light photographs at 200–255; light grey/beige walls sit lower.
WHITE_MIN_LUMA = 185
#: …and its chroma (max−min of B, G, R) at most this: white has no hue; blue/red backdrops
#: (证件照) have chroma > 60.
WHITE_MAX_CHROMA = 40

# --- input caps (enforced before decoding) ---------------------------------------------------
#: Decompression-bomb guard: a phone photo is 12–48 MP; refuse more than 50 MP before decoding.
MAX_PHOTO_PIXELS = 50_000_000
#: PNG/WebP decode at full size (≈ 6 bytes a pixel at the peak, no 1/n JPEG scaling): above
#: this a lossless photo would take a request past 300 MB; phones shoot JPEG anyway.
MAX_LOSSLESS_PIXELS = 30_000_000
#: Largest video frame decoded (4096×2160, "4K"): more is refused before decoding.
MAX_VIDEO_FRAME_PIXELS = 4096 * 2160
#: A verification video is a few seconds of the principal facing the camera; 30 s is plenty.
MAX_VIDEO_SECONDS = 30.0
#: Shorter than this there is nothing to judge.
MIN_VIDEO_SECONDS = 1.0

# --- framing -------------------------------------------------------------------------------
#: Face box top (brows; the box runs brows to chin) must leave this many face heights above it.
#: Measured by eye on the real set (tests/photo_samples.py PEOPLE, 7 people, short hair, a cap,
#: long hair, East-Asian and others): the crown sits 0.42–0.82 face heights above the top of
#: the brows; below 0.35 the top of the head is outside the frame for every one of them.
MIN_HEAD_ROOM_FACE_HEIGHTS = 0.35
#: On a white background, hair/skin touching the frame edge beside the head over this share of
#: that edge means the head is cut.
MAX_HEAD_EDGE_CONTACT = 0.15
#: On any plain backdrop (white or not): more than this share of the frame's top rows over the
#: middle of the head unlike the backdrop beside the head, with the head continuing from there
#: down to the brows and no wider than the head along the top edge, is hair running off the
#: top: the crown is cut. Measured on the real set: long hair through the top edge of a dark
#: wooden wall 0.91–0.98 (every encoding, mirrored); heads with room above them 0 on plain
#: backdrops, at most 0.62 on busy ones (curtain folds, a valley behind).
MAX_HAIR_AT_TOP = 0.8
#: …judged only when the brows are within this many face heights of the top edge: the crown
#: sits 0.42–0.82 face heights above them (MIN_HEAD_ROOM_FACE_HEIGHTS), so with more room than
#: this no hair of the head can reach the edge.
HAIR_CHECK_HEAD_ROOM = 1.0
#: No face found and at least this share of the top edge is skin-toned (hair and a white
#: wall are not; a forehead or cheeks are): the frame cuts through the face.
MIN_TOP_EDGE_SKIN = 0.1
#: Chest-up photos put the face box at 0.18–0.35 of the frame height; a person standing back
#: ("too far away") falls below both of these (height share and width share).
MIN_FACE_HEIGHT_SHARE = 0.12
MIN_FACE_WIDTH_SHARE = 0.15
#: Below this many pixels of face height nothing about the face can be checked (or reviewed).
MIN_FACE_PIXELS = 48
#: A second face counts only when at least this fraction of the main face's width (a second
#: person at similar distance, not a poster face or a detector false positive).
SECOND_FACE_MIN_SIZE = 0.5

# --- background ------------------------------------------------------------------------------
#: Share of sampled background pixels that must be white (a halo round the hair is allowed).
MIN_BACKGROUND_WHITE_SHARE = 0.85
#: A straight edge in the background longer than this share of the frame height is a wall
#: corner, door gap or furniture edge (product.md: "no wall corner or door gap").
MAX_BACKGROUND_LINE = 0.25
#: A non-white object apart from the person larger than this share of the frame is clutter
#: ("nothing else visible"); dust and JPEG specks are far smaller.
MAX_BACKGROUND_CLUTTER = 0.004
#: With less than this share of the frame left as background, whiteness can't be judged.
MIN_BACKGROUND_SAMPLE = 0.04

# --- exposure and focus ----------------------------------------------------------------------
#: The brightest tenth of a well-lit white-background photo is the wall, ≥ 200; below this
#: the whole frame is underexposed whatever the background. Measured on the brightest channel
#: (HSV value), so a saturated blue or red backdrop (luma ≈ 130, value ≈ 220) reads as lit:
#: such a photo is background_not_white, not too_dark.
MIN_BRIGHT_P90 = 110
#: A dim frame (the white wall photographed grey, brightest tenth below DIM_BRIGHT_P90) with a
#: dim face (median luma below DIM_FACE_LUMA) is underexposed; either alone is not (a grey or
#: blue backdrop is dim but the face is lit; dark skin is dim but the wall is bright).
DIM_BRIGHT_P90 = 170
DIM_FACE_LUMA = 120
#: Median face luma below this: the face is in deep shadow whatever the background does.
MIN_FACE_LUMA = 45
#: Focus: variance of the second derivative (Laplacian, per direction, the weaker one) on the
#: face at ≤ 96 px stretched to a fixed contrast. Sharp faces score 300–1000; a Gaussian blur
#: of σ ≥ 2 % of the face width, or camera shake over ≥ 8 % of it, scores below this.
MIN_FACE_SHARPNESS = 100.0

# --- face details (only judged on a clear, large face) ---------------------------------------
#: Fine checks need this many face pixels (eyes ≥ 12 px wide); smaller faces skip them.
MIN_DETAIL_FACE_PIXELS = 64
#: Eyes closed: neither eye cascade found an eye AND no dark iris/pupil taller than this share
#: of the face height is left in either eye window once thin strokes are erased (a closed
#: lid's lash line leaves 0–0.035; an open eye's iris, ≈ 12 mm of a ≈ 140 mm face box partly
#: under the lids, measures 0.06–0.09).
MAX_CLOSED_EYE_EXTENT = 0.045
#: Mouth wide open: a dark cavity taller than this share of the face height (a smile showing
#: teeth has none; lips parted in speech ≈ 0.05).
MAX_MOUTH_OPEN = 0.12
#: Glare: a near-white blob over an eye larger than this share of the eye window (catch-lights
#: in the pupil are ≈ 1 %).
MAX_EYE_GLARE = 0.06
#: Head roll (eye line vs horizontal) above this many degrees is not "looking straight";
#: eye-box centres wobble by ±5°, and a natural tilt of 10° is fine.
MAX_ROLL_DEG = 22.0

# --- face details from the 68 facial landmarks (dlib; used whenever the landmarks were found) --
#: Eyes closed when even the more open eye's aspect ratio (EAR: lid-to-lid heights over the
#: corner-to-corner width, Soukupová & Čech 2016, "Real-Time Eye Blink Detection using Facial
#: Landmarks") is below this. Open eyes measure 0.2–0.4, a broad smile narrows them to
#: 0.16–0.22 (narrower still for eyes with an epicanthic fold), eyes looking down ≈ 0.16;
#: closed lids 0.03–0.10. The paper's blink threshold 0.2 would turn away smiling
#: applicants: only clearly shut eyes count on their shape alone.
MAX_CLOSED_EAR = 0.10
#: A narrow eye (EAR below NARROW_EAR) counts as closed only when nothing dark shows inside
#: its outline: the 10th-percentile grey inside the darker eye over the cheek's median grey
#: above NARROW_EYE_DARK. An open eye, however narrow, shows iris, pupil and lashes: 0.12–0.33
#: of the skin's grey on the real set (dark skin included); a lid 0.5–0.7.
NARROW_EAR = 0.16
NARROW_EYE_DARK = 0.5
#: …and whatever the shape, an eye outline with nothing dark in it at all (ratio above this:
#: skin painted or pasted over the eyes, ≈ 1.0) is not an open eye.
MIN_OPEN_EYE_DARK = 0.78
#: Mouth wide open when the inner-lip gap exceeds this share of the mouth width (closed or a
#: smile with teeth together ≈ 0.0–0.2 on the real set, mid-speech ≈ 0.37, a yawn or
#: shout ≥ 0.4; the retouched open mouth of the astronaut set 0.31–0.36).
MAX_MOUTH_ASPECT = 0.30
#: Head turned left/right (yaw, from where the nose tip falls between the outer eye corners,
#: on the generic face's nose depth) beyond this is not facing the camera. Frontal faces of the
#: real set measure −16°…+17° (every frame of a webcam clip 4–9°), heads turned to the side
#: 33° (speaking) and 55° (three-quarter view).
MAX_YAW_DEG = 25.0
#: Head up/down (pitch) beyond this from PITCH_BIAS_DEG. The generic model reads a level head
#: at +5°…+27° on the Western faces of the real set and −9°…+6° on the East-Asian ones (the
#: generic nose depth and brow height fit them less well), −18° for a surprised face with the
#: brows raised: level heads span −18°…+27°, so only a plain nod (beyond −25° or +45°) counts.
MAX_PITCH_DEG = 35.0
PITCH_BIAS_DEG = 10.0
#: Face focus measured on the inner face (brows to lower lip, between the outer eye corners)
#: resampled to a fixed width (adapter FOCUS_WIDTH = 64 px), so a blur is judged relative to
#: the face's size, not the photo's: the weaker directional second-derivative energy ×1000
#: over the squared grey range. Measured on the real set: sharp faces 60–300 px wide, at
#: native size, upscaled ×2.2 or halved, JPEG q60–95, score 23–140; a Gaussian blur of σ = 2 %
#: of the face width (6 px on a 300 px face) 2–7, of σ = 1.5 % 4.6–12.4 (7 of 9 people below
#: 10), of σ = 1 % 9–31; shake over 5 % ≤ 5.3. A phone's beauty mode (edge-preserving
#: smoothing: a bilateral filter of 15 px, colour σ 80) takes the skin's texture and leaves
#: 13–14 on the set's smaller faces: the threshold sits between that and the σ = 2 % blurs
#: (was 12, closer to the first: a sharp but smoothed or soft original is the costlier error).
MIN_FACE_FOCUS = 10.0
#: Beside and above the head (shoulder height and up, outside the head's landmark ellipse with
#: room for hair) at least this share must be white: a flag, a blue backdrop or furniture there
#: cannot be hidden by being connected to the person. There too, a detached non-white blob
#: over MAX_BACKGROUND_CLUTTER or a straight edge over MAX_BACKGROUND_LINE (a door gap running
#: down into the shoulder) fails.
MIN_SIDE_WHITE_SHARE = 0.8


@dataclass(frozen=True)
class PhotoMeasurements:
    """What the adapter measured on one image (or video frame). Shares are 0–1 of the frame."""

    width: int
    height: int
    face_count: int = 0
    face_x: float | None = None  # main face box, shares of the frame (may pass the edges)
    face_y: float | None = None
    face_w: float | None = None
    face_h: float | None = None
    face_px: float | None = None  # main face box height in original pixels
    turned_face: bool = False  # no frontal face, but a profile or a strongly tilted one
    roll_deg: float | None = None
    head_edge_contact: float | None = None
    hair_to_top: float | None = None  # top rows over the head unlike the backdrop beside it
    background_share: float | None = None
    background_white_share: float | None = None
    background_line: float | None = None
    background_clutter: float | None = None
    bright_p90: float | None = None
    face_luma: float | None = None
    sharpness: float | None = None
    eyes_found: int | None = None
    eye_extent: float | None = None
    eye_glare: float | None = None
    mouth_open: float | None = None
    top_edge_skin: float | None = None  # no face found: share of the top edge that is skin
    # from the 68 facial landmarks (None when the landmark model was not used)
    eye_aspect: float | None = None  # EAR of the more open eye
    mouth_aspect: float | None = None
    yaw_deg: float | None = None
    pitch_deg: float | None = None
    face_focus: float | None = None
    eye_dark_ratio: float | None = None  # darkest part of the darker eye over the cheek grey
    side_white_share: float | None = None  # whiteness beside and above the head
    side_clutter: float | None = None  # largest detached non-white blob there
    side_line: float | None = None  # longest straight edge there


# --- messages ---------------------------------------------------------------------------------
MSG = {
    "photo_unreadable": "无法识别该文件，请上传 JPEG/PNG 照片或 MP4 视频。",
    "no_face": "未检测到人脸，请正对镜头，让整个面部清晰出现在画面中。",
    "not_facing_camera": "请正对镜头拍摄，头部端正，不要侧脸、低头或歪头。",
    "multiple_faces": "画面中出现多人，请只保留网站负责人本人。",
    "face_cut_off": "头部不完整，请让整个头部（含头顶）和面部都在画面内，拍摄胸部以上。",
    "face_too_small": "人像太小，请靠近镜头，拍摄胸部以上的半身照。",
    "background_not_white": "背景须为纯白色，不能有墙角、门缝或其他物品，请在白墙前重拍。",
    "too_dark": "照片过暗，请在光线充足处拍摄，避免面部处于阴影中。",
    "too_blurry": "照片模糊，请保持手机稳定、对焦清晰后重拍。",
    "eyes_closed": "请睁开双眼，平视镜头后重拍。",
    "mouth_open": "请自然闭嘴或微笑，不要张大嘴巴。",
    "glasses_glare": "眼镜反光遮挡了眼睛，请调整角度或光线，或摘下眼镜后重拍。",
}


def _problem(code: str) -> Problem:
    return error(code, MSG[code], FIELD)


def unreadable(reason: str, message: str | None = None) -> Problem:
    """``photo_unreadable`` with a machine-readable ``reason`` (not_media, corrupt, too_large,
    too_many_pixels, video_too_long, video_too_short)."""
    return error("photo_unreadable", message or MSG["photo_unreadable"], FIELD, reason=reason)


def judge_size(size_bytes: int, max_bytes: int) -> list[Problem]:
    """Upload cap (Settings.max_verification_bytes) checked before anything is decoded."""
    if size_bytes <= 0:
        return [unreadable("empty", "文件为空，请重新上传照片或视频。")]
    if size_bytes > max_bytes:
        mb = max_bytes // (1024 * 1024)
        return [unreadable("too_large", f"文件超过 {mb} MB，请压缩后重新上传。")]
    return []


def judge_pixels(width: int, height: int, lossless: bool = False) -> list[Problem]:
    """Decompression-bomb guard, from the header before decoding: more than MAX_PHOTO_PIXELS
    (50 MP), or MAX_LOSSLESS_PIXELS (30 MP) for PNG/WebP, is refused."""
    if width <= 0 or height <= 0:
        return [unreadable("corrupt")]
    cap = MAX_LOSSLESS_PIXELS if lossless else MAX_PHOTO_PIXELS
    if width * height > cap:
        mp = cap // 1_000_000
        return [
            unreadable("too_many_pixels", f"图片超过 {mp} 百万像素，请缩小或转为 JPEG 后重新上传。")
        ]
    return []


def judge_photo(m: PhotoMeasurements) -> list[Problem]:
    """All photo rules of product.md on one image; each code at most once.

    Exposure comes first: a dark photo hides the face, greys the white wall and drowns detail
    in noise, so ``too_dark`` stands in for the checks it makes impossible. Face finding next;
    the framing, background and focus checks need one face; the detail checks also need that
    face clear and large.
    """
    dark = _too_dark(m)
    problems = [_problem("too_dark")] if dark else []
    if m.face_count == 0:
        if m.turned_face:
            problems.append(_problem("not_facing_camera"))
        elif _face_cut_by_top(m):
            problems.append(_problem("face_cut_off"))
        elif not dark:
            problems.append(_problem("no_face"))
        return problems
    if m.face_count > 1:
        problems.append(_problem("multiple_faces"))
        return problems
    cut, small = _face_cut_off(m), _face_too_small(m)
    problems += [_problem("face_cut_off")] if cut else []
    problems += [_problem("face_too_small")] if small else []
    if not dark and _background_not_white(m):
        problems.append(_problem("background_not_white"))
    blurry = _too_blurry(m) and not (small or dark)
    problems += [_problem("too_blurry")] if blurry else []
    # a crown cut by the frame leaves the face to judge; a face cut by it does not
    if not (dark or blurry or small or (cut and _face_box_cut(m))):
        problems += [_problem(code) for code in _detail_codes(m)]
    return problems


def _too_blurry(m: PhotoMeasurements) -> bool:
    """Face focus from the landmarks' inner face when measured, else the box measure."""
    if m.face_focus is not None:
        return m.face_focus < MIN_FACE_FOCUS
    return m.sharpness is not None and m.sharpness < MIN_FACE_SHARPNESS


def _too_dark(m: PhotoMeasurements) -> bool:
    """Underexposed frame, dim frame with a dim face, or a face in deep shadow."""
    p90, face = m.bright_p90, m.face_luma
    if p90 is not None and p90 < MIN_BRIGHT_P90:
        return True
    if face is not None and face < MIN_FACE_LUMA:
        return True
    return p90 is not None and face is not None and p90 < DIM_BRIGHT_P90 and face < DIM_FACE_LUMA


def _face_cut_off(m: PhotoMeasurements) -> bool:
    """Whole head and face in frame (product.md): box past an edge, too little head room,
    (on white) the head touching the frame edge, or (on any plain backdrop) hair running
    from the head through the top edge."""
    if m.face_x is None or m.face_y is None or m.face_w is None or m.face_h is None:
        return False
    if m.face_x < 0 or m.face_y < 0 or m.face_x + m.face_w > 1 or m.face_y + m.face_h > 1:
        return True
    if m.face_y < MIN_HEAD_ROOM_FACE_HEIGHTS * m.face_h:
        return True
    hair = m.hair_to_top is not None and m.hair_to_top > MAX_HAIR_AT_TOP
    if hair and m.face_y < HAIR_CHECK_HEAD_ROOM * m.face_h:
        return True
    return _on_white(m) and (m.head_edge_contact or 0.0) > MAX_HEAD_EDGE_CONTACT


def _face_box_cut(m: PhotoMeasurements) -> bool:
    """The face box itself (brows to chin, jaw to jaw) runs past a frame edge."""
    if m.face_x is None or m.face_y is None or m.face_w is None or m.face_h is None:
        return True
    return m.face_x < 0 or m.face_y < 0 or m.face_x + m.face_w > 1 or m.face_y + m.face_h > 1


def _on_white(m: PhotoMeasurements) -> bool:
    """The backdrop is white (overall and, when measured, beside and above the head). A
    close-up leaves too little of the frame for the overall measure: beside the head decides."""
    side_white = m.side_white_share is None or m.side_white_share >= MIN_SIDE_WHITE_SHARE
    if m.background_white_share is None:
        return m.side_white_share is not None and side_white
    return m.background_white_share >= MIN_BACKGROUND_WHITE_SHARE and side_white


def _face_cut_by_top(m: PhotoMeasurements) -> bool:
    """No face found, but skin runs along the top edge of a white-walled photo: the frame cut
    through the face (too little of it left to detect)."""
    white = (m.background_white_share or 0.0) >= MIN_BACKGROUND_WHITE_SHARE
    return white and (m.top_edge_skin or 0.0) >= MIN_TOP_EDGE_SKIN


def _face_too_small(m: PhotoMeasurements) -> bool:
    """Chest-up framing: face height and width shares, and a pixel floor."""
    if m.face_px is not None and m.face_px < MIN_FACE_PIXELS:
        return True
    if m.face_w is None or m.face_h is None:
        return False
    return m.face_h < MIN_FACE_HEIGHT_SHARE and m.face_w < MIN_FACE_WIDTH_SHARE


def _background_not_white(m: PhotoMeasurements) -> bool:
    """Plain white, no wall corner or door gap, nothing else visible (product.md). Beside and
    above the head is judged whenever it was measured (it has its own sample-size floor): a
    head-and-shoulders close-up leaves too little of the frame for the whole-frame measures."""
    if m.side_white_share is not None and m.side_white_share < MIN_SIDE_WHITE_SHARE:
        return True
    if m.side_clutter is not None and m.side_clutter > MAX_BACKGROUND_CLUTTER:
        return True
    if m.side_line is not None and m.side_line > MAX_BACKGROUND_LINE:
        return True
    if m.background_share is None or m.background_share < MIN_BACKGROUND_SAMPLE:
        return False
    if (
        m.background_white_share is not None
        and m.background_white_share < MIN_BACKGROUND_WHITE_SHARE
    ):
        return True
    if m.background_line is not None and m.background_line > MAX_BACKGROUND_LINE:
        return True
    return m.background_clutter is not None and m.background_clutter > MAX_BACKGROUND_CLUTTER


def _detail_codes(m: PhotoMeasurements) -> list[str]:
    """Glare, eyes, mouth and pose, each on strong evidence only. Glare over the lenses hides
    the eyes, so it replaces ``eyes_closed``."""
    if m.face_px is None or m.face_px < MIN_DETAIL_FACE_PIXELS:
        return []
    codes = []
    glare = m.eye_glare is not None and m.eye_glare > MAX_EYE_GLARE
    if glare:
        codes.append("glasses_glare")
    if m.eye_aspect is not None:
        dark = m.eye_dark_ratio
        closed = (
            m.eye_aspect < MAX_CLOSED_EAR
            or (dark is not None and dark > MIN_OPEN_EYE_DARK)
            or (dark is not None and m.eye_aspect < NARROW_EAR and dark > NARROW_EYE_DARK)
        )
    else:
        closed = (
            m.eyes_found == 0 and m.eye_extent is not None and m.eye_extent < MAX_CLOSED_EYE_EXTENT
        )
    if closed and not glare:
        codes.append("eyes_closed")
    if m.mouth_aspect is not None:
        if m.mouth_aspect > MAX_MOUTH_ASPECT:
            codes.append("mouth_open")
    elif m.mouth_open is not None and m.mouth_open > MAX_MOUTH_OPEN:
        codes.append("mouth_open")
    turned = m.yaw_deg is not None and abs(m.yaw_deg) > MAX_YAW_DEG
    turned |= m.pitch_deg is not None and abs(m.pitch_deg - PITCH_BIAS_DEG) > MAX_PITCH_DEG
    if turned or (m.roll_deg is not None and abs(m.roll_deg) > MAX_ROLL_DEG):
        codes.append("not_facing_camera")
    return codes


def judge_video_frame(width: int, height: int) -> list[Problem]:
    """Frame-size cap of a video (MAX_VIDEO_FRAME_PIXELS), from its header before decoding."""
    if width <= 0 or height <= 0:
        return [unreadable("corrupt", "无法读取视频画面，请上传 MP4 格式的视频。")]
    if width * height > MAX_VIDEO_FRAME_PIXELS:
        return [
            unreadable("too_many_pixels", "视频分辨率超过 4K，请以 1080p 或 4K 拍摄后重新上传。")
        ]
    return []


# --- video ------------------------------------------------------------------------------------
#: The face must be found in at least this share of the sampled frames ("throughout"); one
#: missed frame of eight (a blink, motion blur) is tolerated.
MIN_FACE_FRAME_SHARE = 0.85
#: A second person in more than this share of the sampled frames is ``multiple_faces``.
MAX_MULTI_FACE_FRAME_SHARE = 0.2
#: The sharpest frames with exactly one face that are judged as photos; a problem is reported
#: only when every one of them has it (a blink or a word spoken is not a closed eye or an open
#: mouth).
BEST_FRAMES = 3


def judge_video(frames: Sequence[PhotoMeasurements], duration_s: float) -> list[Problem]:
    """A verification video (MP4): length within MIN/MAX_VIDEO_SECONDS, one face throughout,
    and its best frames pass the photo rules (product.md)."""
    if duration_s > MAX_VIDEO_SECONDS:
        return [
            unreadable(
                "video_too_long",
                f"视频超过 {MAX_VIDEO_SECONDS:.0f} 秒，请拍摄一段不超过 "
                f"{MAX_VIDEO_SECONDS:.0f} 秒的正面视频。",
            )
        ]
    if not frames:
        return [unreadable("corrupt", "无法读取视频画面，请上传 MP4 格式的视频。")]
    if duration_s < MIN_VIDEO_SECONDS:
        return [unreadable("video_too_short", "视频太短，请拍摄至少 1 秒的正面视频。")]
    single = [f for f in frames if f.face_count == 1]
    best = sorted(single, key=lambda f: -(f.sharpness or 0.0))[:BEST_FRAMES]
    if not best:
        return judge_photo(frames[len(frames) // 2])
    judged = [judge_photo(f) for f in best]
    common = set.intersection(*({p.code for p in problems} for problems in judged))
    problems = [p for p in judged[0] if p.code in common]
    codes = {p.code for p in problems}
    with_face = sum(1 for f in frames if f.face_count > 0) / len(frames)
    if with_face < MIN_FACE_FRAME_SHARE and "no_face" not in codes:
        problems.append(error("no_face", "视频中有片段未检测到人脸，请全程正对镜头。", FIELD))
    multi = sum(1 for f in frames if f.face_count > 1) / len(frames)
    if multi > MAX_MULTI_FACE_FRAME_SHARE and "multiple_faces" not in codes:
        problems.append(_problem("multiple_faces"))
    return problems
