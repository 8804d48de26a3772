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

Modules: media (sniffing, headers, decoding), cascades (lazy Haar cascades, Box), faces (face
finding, eye cascades), measures (eyes, glare, mouth, roll, focus, face brightness), background
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
