"""Face detection and 68 facial landmarks with dlib (``dlib-bin`` wheel) and the models that ship
in the ``face-recognition-models`` package (nothing is downloaded at run time).

dlib's HOG frontal-face detector (Dalal–Triggs HOG + linear SVM, trained on frontal faces,
smallest face ≈ 80 px) finds the face; the 68-point shape predictor (Kazemi & Sullivan 2014,
an ensemble of regression trees, iBUG 300-W annotation) places the landmarks. From them:

- eye aspect ratio (EAR, Soukupová & Čech 2016): the two lid-to-lid heights over the corner-to-
  corner width of each eye; a smile narrows the eye a little but the lids stay apart;
- mouth aspect ratio: the inner-lip gap over the mouth width;
- head pose: yaw from the nose tip between the eye corners, pitch from cv2.solvePnP of six
  landmarks on a generic 3-D face, roll from
  the line through the eye centres;
- the face box (jaw width, brows to chin) and an estimate of the crown of the head.

When dlib or the model package is missing, ``available()`` is False and the adapter falls back
to OpenCV's Haar cascades alone.
"""

from __future__ import annotations

import functools
import math
import threading

import cv2
import numpy as np

from beiandesk.adapters.photo.cascades import Box

_local = threading.local()

# 68-point iBUG indices.
JAW = slice(0, 17)
BROWS = slice(17, 27)
NOSE_TIP = 30
RIGHT_EYE = list(range(36, 42))  # the subject's right eye: left in the image
LEFT_EYE = list(range(42, 48))
MOUTH_CORNERS = (48, 54)
INNER_LIPS = ((61, 67), (62, 66), (63, 65))
CHIN = 8

#: Generic 3-D face (millimetres; x right, y up, z out of the face) for solvePnP: nose tip, chin,
#: outer eye corners, mouth corners — the usual six-point model (values as in the OpenCV head-pose
#: tutorials, from average anthropometric proportions).
_MODEL_3D = np.array(
    [
        (0.0, 0.0, 0.0),  # nose tip (30)
        (0.0, -63.6, -12.5),  # chin (8)
        (-43.3, 32.7, -26.0),  # right eye outer corner (36)
        (43.3, 32.7, -26.0),  # left eye outer corner (45)
        (-28.9, -28.9, -24.1),  # right mouth corner (48)
        (28.9, -28.9, -24.1),  # left mouth corner (54)
    ],
    np.float64,
)
_MODEL_IDX = [NOSE_TIP, CHIN, 36, 45, 48, 54]


@functools.lru_cache(maxsize=1)
def _model_paths() -> tuple[str, str] | None:
    try:
        import dlib  # noqa: F401
        import face_recognition_models as models
    except ImportError:
        return None
    return models.pose_predictor_model_location(), models.pose_predictor_five_point_model_location()


def available() -> bool:
    return _model_paths() is not None


_lock = threading.Lock()
_shared: dict[str, object] = {}


def _models():
    """(detector, 68-point predictor). dlib's object_detector must not be shared between
    threads (its docs: "concurrent access … is not safe"), and is cheap to build: one per
    thread. The shape predictor may be ("a single instance … can be used from multiple threads
    at the same time") and its model is ≈ 100 MB: one per process, loaded on first use."""
    import dlib

    detector = getattr(_local, "detector", None)
    if detector is None:
        detector = _local.detector = dlib.get_frontal_face_detector()
    predictor = _shared.get("predictor")
    if predictor is None:
        with _lock:
            predictor = _shared.get("predictor")
            if predictor is None:
                paths = _model_paths()
                assert paths is not None
                predictor = _shared["predictor"] = dlib.shape_predictor(paths[0])
    return detector, predictor


def detect(gray: np.ndarray, upsample: int = 0) -> list[tuple[Box, float]]:
    """Frontal faces as (box, score) on a grey image, best first. Scores above 0 are the
    detector's own decision; -0.3..0 are weak hits kept for the caller to weigh."""
    detector, _ = _models()
    rects, scores, _ = detector.run(np.ascontiguousarray(gray), upsample, -0.3)
    found = [((r.left(), r.top(), r.width(), r.height()), float(s)) for r, s in zip(rects, scores)]
    return sorted(found, key=lambda f: -f[1])


def shape(gray: np.ndarray, box: Box) -> np.ndarray:
    """The 68 landmarks (x, y) inside a detector box of ``gray``."""
    import dlib

    _, predictor = _models()
    x, y, w, h = box
    result = predictor(np.ascontiguousarray(gray), dlib.rectangle(x, y, x + w, y + h))
    return np.array([(p.x, p.y) for p in result.parts()], np.float64)


def _dist(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.hypot(*(a - b)))


def eye_aspect(points: np.ndarray, eye: list[int]) -> float:
    """EAR = (|p2−p6| + |p3−p5|) / (2 |p1−p4|) of one eye's six landmarks."""
    p = points[eye]
    width = _dist(p[0], p[3])
    return (_dist(p[1], p[5]) + _dist(p[2], p[4])) / (2.0 * max(width, 1e-6))


def mouth_aspect(points: np.ndarray) -> float:
    """Inner-lip gap (mean of the three vertical pairs) over the corner-to-corner width."""
    gap = np.mean([_dist(points[a], points[b]) for a, b in INNER_LIPS])
    return float(gap) / max(_dist(points[MOUTH_CORNERS[0]], points[MOUTH_CORNERS[1]]), 1e-6)


def pose(points: np.ndarray, size: tuple[int, int]) -> tuple[float, float, float]:
    """(yaw, pitch, roll) in degrees. Yaw from the nose tip between the eye corners
    (yaw_from_nose); pitch from solvePnP of six landmarks on the generic face with a pinhole camera (focal length = image width, no distortion); roll from
    the eye centres (robust, independent of the generic model)."""
    h, w = size
    camera = np.array([[w, 0, w / 2], [0, w, h / 2], [0, 0, 1]], np.float64)
    image = points[_MODEL_IDX].astype(np.float64)
    # solvePnP expects y down in the image; the model has y up: flip the model.
    model = _MODEL_3D * np.array([1.0, -1.0, -1.0])
    # SQPnP finds the global optimum; the iterative solver can settle on a mirror solution
    # behind the camera (a wide-open mouth upscaled to 3 MP read 36° of yaw that way).
    ok, rvec, _ = cv2.solvePnP(model, image, camera, None, flags=cv2.SOLVEPNP_SQPNP)
    right, left = points[RIGHT_EYE].mean(axis=0), points[LEFT_EYE].mean(axis=0)
    roll = math.degrees(math.atan2(left[1] - right[1], left[0] - right[0]))
    if not ok:
        return yaw_from_nose(points), 0.0, roll
    rotation, _ = cv2.Rodrigues(rvec)
    # Face normal (model +z towards the camera after the flip is −z): its direction gives
    # pitch (up–down) without Euler-angle ambiguities.
    normal = rotation @ np.array([0.0, 0.0, -1.0])
    pitch = math.degrees(math.atan2(normal[1], -normal[2]))
    return yaw_from_nose(points), pitch, roll


#: Nose tip in front of the outer eye corners over their distance apart, in the generic face
#: (_MODEL_3D: 26.0 mm / 86.6 mm).
NOSE_DEPTH_RATIO = 26.0 / 86.6


def yaw_from_nose(points: np.ndarray) -> float:
    """Yaw (degrees) from where the nose tip falls, left to right, between the outer eye
    corners: a head turned by θ moves the tip off the middle by NOSE_DEPTH_RATIO · tan θ of
    the corners' distance. Two-dimensional and well conditioned: solvePnP's yaw swung from
    −23° to +27° over the frames of one frontal face on a webcam clip (a flatter face than the
    generic model) while this stayed within 0–6°. Measured across the image rows, not along
    the eye line: along a tilted eye line the tip's drop below the eyes reads as a turn (a
    head tilted ≈ 13° read 25°); within the roll allowed (MAX_ROLL_DEG) the error is small."""
    left, right = points[36, 0], points[45, 0]
    share = float(points[NOSE_TIP, 0] - left) / max(float(right - left), 1e-6)
    return math.degrees(math.atan((share - 0.5) / NOSE_DEPTH_RATIO))


def face_box(points: np.ndarray) -> Box:
    """Jaw width, top of the brows to the chin: the same extent as a Haar face box."""
    x0, x1 = points[JAW, 0].min(), points[JAW, 0].max()
    y0, y1 = points[BROWS, 1].min(), points[JAW, 1].max()
    return int(x0), int(y0), int(x1 - x0), int(y1 - y0)


def eye_centres(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return points[RIGHT_EYE].mean(axis=0), points[LEFT_EYE].mean(axis=0)


def inner_face(points: np.ndarray) -> Box:
    """Brows to the bottom lip, between the outer eye corners: skin, eyes, nose and mouth —
    the part of the face whose focus matters (no hair, no background)."""
    x0, x1 = points[36, 0], points[45, 0]
    y0, y1 = points[BROWS, 1].min(), points[57, 1]
    return int(x0), int(y0), int(max(1, x1 - x0)), int(max(1, y1 - y0))
