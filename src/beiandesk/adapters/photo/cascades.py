"""OpenCV's bundled Haar cascades (cv2.data.haarcascades, in the wheel), loaded lazily per thread,
and the detection box type shared by the photo modules."""

from __future__ import annotations

import os
import threading

import cv2

#: A detection box: (x, y, width, height) in pixels.
Box = tuple[int, int, int, int]

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
