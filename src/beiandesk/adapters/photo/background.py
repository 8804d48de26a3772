"""Background and framing: whiteness outside the person, long straight edges in it (wall
corners, door gaps), detached non-white blobs (clutter) and hair running off the frame."""

from __future__ import annotations

import math

import cv2
import numpy as np

from beiandesk.adapters.photo.cascades import Box
from beiandesk.domain import photo as rules

# --- background and framing ---------------------------------------------------------------------


#: Person pixels this many face widths outside the person boxes still count as the person.
SPILL = 0.5


def _person_boxes(shape: tuple[int, ...], faces: list[Box]) -> tuple[np.ndarray, np.ndarray]:
    """Where the person may be, from the face boxes: (head with hair: ±0.45 face widths, 0.75
    face heights above; body: from the chin down, ±2.4 face widths for shoulders and arms)."""
    head, body = np.zeros(shape[:2], np.uint8), np.zeros(shape[:2], np.uint8)
    for x, y, w, h in faces:
        cx = x + w / 2
        cv2.rectangle(
            head,
            (int(x - 0.45 * w), int(y - 0.75 * h)),
            (int(x + 1.45 * w), int(y + 1.35 * h)),
            255,
            -1,
        )
        cv2.rectangle(body, (int(cx - 2.4 * w), int(y + h)), (int(cx + 2.4 * w), shape[0]), 255, -1)
    return head > 0, body > 0


def _white(bgr: np.ndarray, gray: np.ndarray) -> np.ndarray:
    chroma = bgr.max(axis=2).astype(np.int16) - bgr.min(axis=2)
    return (gray >= rules.WHITE_MIN_LUMA) & (chroma <= rules.WHITE_MAX_CHROMA)


def _person_mask(
    nonwhite: np.ndarray, head: np.ndarray, body: np.ndarray, chin: int
) -> tuple[np.ndarray, float]:
    """(person, largest clutter share). The person is every non-white blob reaching into the
    head box, and below the chin every blob reaching into the body box (a door gap that runs
    behind the shoulders stays background above them). Blobs touching neither are clutter."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(nonwhite, connectivity=8)
    on_head = np.unique(labels[head & (nonwhite > 0)])
    on_body = np.unique(labels[body & (nonwhite > 0)])
    person = np.isin(labels, on_head[on_head > 0])
    person[chin:] |= np.isin(labels[chin:], on_body[on_body > 0])
    attached = set(on_head.tolist()) | set(on_body.tolist())
    clutter = max(
        (stats[i, cv2.CC_STAT_AREA] for i in range(1, count) if i not in attached), default=0
    )
    return person, float(clutter) / nonwhite.size


def background(white: np.ndarray, gray: np.ndarray, faces: list[Box]) -> dict[str, float | None]:
    """Whiteness of what lies outside the person, straight edges in it (wall corners, door
    gaps) and non-white objects apart from the person (clutter). Detection-image scale."""
    h = gray.shape[0]
    head, body = _person_boxes(gray.shape, faces)
    sample = ~(head | body)
    out: dict[str, float | None] = {"background_share": float(sample.mean())}
    if not sample.any():
        return out
    nonwhite = cv2.morphologyEx(
        (~white).astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8)
    )
    chin = max(0, min(y + fh for _, y, _, fh in faces))
    person, out["background_clutter"] = _person_mask(nonwhite, head, body, chin)
    # Hair or shoulders spilling a little past the boxes are the person, not the wall; a
    # coloured wall further out still counts against the white.
    spill = max(3, int(SPILL * max(f[2] for f in faces)))
    reach = np.ones((2 * spill + 1, 2 * spill + 1), np.uint8)
    near_boxes = cv2.dilate((head | body).astype(np.uint8), reach) > 0
    wall = sample & ~(person & near_boxes)
    out["background_white_share"] = float(white[wall].mean()) if wall.any() else 0.0
    near_person = cv2.dilate(person.astype(np.uint8), np.ones((7, 7), np.uint8)) > 0
    keep = sample & ~near_person
    keep[:3], keep[-3:], keep[:, :3], keep[:, -3:] = False, False, False, False
    edges = cv2.Canny(cv2.GaussianBlur(gray, (5, 5), 0), 20, 50)
    edges[~keep] = 0
    lines = cv2.HoughLinesP(edges, 1, np.pi / 180, 40, minLineLength=int(0.15 * h), maxLineGap=6)
    longest = 0.0
    for x1, y1, x2, y2 in lines[:, 0] if lines is not None else []:
        longest = max(longest, math.hypot(x2 - x1, y2 - y1))
    out["background_line"] = longest / h
    return out


def head_edge_contact(white: np.ndarray, box: Box) -> float:
    """Share of the frame edge beside the head (top edge over the head, side edges at head
    height) covered by non-white pixels: hair running off the frame on a white background."""
    h, w = white.shape
    x, y, bw, bh = box
    nonwhite = ~white
    band = max(2, h // 200)
    shares = []
    cols = slice(max(0, int(x - 0.25 * bw)), min(w, int(x + 1.25 * bw)))
    shares.append(nonwhite[:band, cols].mean() if cols.stop > cols.start else 0.0)
    rows = slice(max(0, int(y - 0.4 * bh)), min(h, int(y + bh)))
    if rows.stop > rows.start:
        if x - 0.5 * bw < 0:
            shares.append(nonwhite[rows, :band].mean())
        if x + 1.5 * bw > w:
            shares.append(nonwhite[rows, -band:].mean())
    return float(max(shares))
