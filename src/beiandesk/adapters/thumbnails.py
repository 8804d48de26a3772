"""Small JPEG previews of uploaded scans, made on the server (OpenCV).

The pages used to show the uploaded image itself, scaled down by the browser: a large scan cost
the reviewer's browser its whole decode. A preview is at most ``max_side`` pixels a side; JPEGs
are decoded at a reduced scale directly (libjpeg's DCT scaling), so a 12 MP scan is never fully
decoded. Uploads are already capped at 50 MP by the material check.
"""

from __future__ import annotations

import cv2
import numpy as np


class OpenCVThumbnailer:
    def __init__(self, max_side: int = 320, quality: int = 80) -> None:
        self.max_side, self.quality = max_side, quality

    def thumbnail(self, data: bytes) -> bytes | None:
        """A JPEG preview, or None when the image cannot be decoded."""
        buf = np.frombuffer(data, np.uint8)
        flag = cv2.IMREAD_COLOR
        if data[:3] == b"\xff\xd8\xff" and len(data) > 512 * 1024:
            flag = cv2.IMREAD_REDUCED_COLOR_4  # decoded at a quarter of each side
        image = cv2.imdecode(buf, flag)
        if image is None:
            return None
        h, w = image.shape[:2]
        scale = min(1.0, self.max_side / max(h, w))
        if scale < 1.0:
            image = cv2.resize(image, (max(1, round(w * scale)), max(1, round(h * scale))),
                               interpolation=cv2.INTER_AREA)
        ok, out = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, self.quality])
        return out.tobytes() if ok else None

    def intact(self, data: bytes) -> bool:
        """False for a JPEG whose scan data was cut short and given an end marker: it is
        structurally whole, but libjpeg fills the missing blocks with flat mid-grey (the same
        test the photo check uses, adapters/photo/media.grey_tail). Other images: True."""
        if data[:3] != b"\xff\xd8\xff":
            return True
        from beiandesk.adapters.photo.media import TRUNCATED_GREY_ROWS, grey_tail
        flag = cv2.IMREAD_REDUCED_COLOR_4 if len(data) > 512 * 1024 else cv2.IMREAD_COLOR
        image = cv2.imdecode(np.frombuffer(data, np.uint8), flag)
        return image is not None and grey_tail(image) < TRUNCATED_GREY_ROWS
