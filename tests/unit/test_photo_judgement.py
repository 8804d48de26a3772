"""Pure photo/video judgement (beiandesk.domain.photo) on hand-made measurements."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from beiandesk.domain import photo as rules
from beiandesk.domain.photo import (
    PhotoMeasurements,
    judge_photo,
    judge_pixels,
    judge_size,
    judge_video,
    judge_video_frame,
)

API_PHOTO_CODES = {
    "photo_unreadable",
    "no_face",
    "multiple_faces",
    "face_cut_off",
    "face_too_small",
    "background_not_white",
    "eyes_closed",
    "mouth_open",
    "not_facing_camera",
    "glasses_glare",
    "too_dark",
    "too_blurry",
}

# A clear chest-up face on white, as the adapter measures the good sample photo.
GOOD = PhotoMeasurements(
    width=440,
    height=440,
    face_count=1,
    face_x=0.39,
    face_y=0.24,
    face_w=0.22,
    face_h=0.22,
    face_px=97.0,
    roll_deg=3.0,
    head_edge_contact=0.0,
    background_share=0.3,
    background_white_share=1.0,
    background_line=0.0,
    background_clutter=0.0,
    bright_p90=255.0,
    face_luma=190.0,
    sharpness=800.0,
    eyes_found=2,
    eye_extent=0.07,
    eye_glare=0.005,
    mouth_open=0.05,
)


def codes(m: PhotoMeasurements) -> list[str]:
    return [p.code for p in judge_photo(m)]


def test_good_photo_has_no_problem():
    assert judge_photo(GOOD) == []


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (
            {"face_count": 0, "face_x": None, "face_y": None, "face_w": None, "face_h": None},
            "no_face",
        ),
        ({"face_count": 2}, "multiple_faces"),
        ({"face_x": -0.05}, "face_cut_off"),
        ({"face_y": 0.02}, "face_cut_off"),  # < 0.2 face heights of head room
        ({"head_edge_contact": 0.8}, "face_cut_off"),  # hair runs off the top on white
        ({"face_w": 0.08, "face_h": 0.09}, "face_too_small"),
        ({"face_px": 40.0}, "face_too_small"),
        ({"background_white_share": 0.3}, "background_not_white"),
        ({"background_line": 0.45}, "background_not_white"),
        ({"background_clutter": 0.03}, "background_not_white"),
        ({"bright_p90": 76.0, "face_luma": 56.0}, "too_dark"),
        ({"bright_p90": 150.0, "face_luma": 110.0}, "too_dark"),
        ({"face_luma": 30.0}, "too_dark"),
        ({"sharpness": 8.0}, "too_blurry"),
        ({"eyes_found": 0, "eye_extent": 0.0}, "eyes_closed"),
        ({"mouth_open": 0.25}, "mouth_open"),
        ({"eye_glare": 0.3, "eyes_found": 0, "eye_extent": 0.0}, "glasses_glare"),
        ({"roll_deg": 30.0}, "not_facing_camera"),
        ({"face_count": 0, "turned_face": True, "roll_deg": 90.0}, "not_facing_camera"),
        ({"face_count": 0, "face_x": None, "top_edge_skin": 0.3}, "face_cut_off"),
    ],
)
def test_each_rule_reports_exactly_its_code(change, code):
    assert codes(replace(GOOD, **change)) == [code]


def test_every_problem_is_an_error_with_chinese_message_and_field():
    bad = replace(GOOD, sharpness=5.0, background_line=0.5, face_w=0.05, face_h=0.05)
    problems = judge_photo(bad)
    assert problems
    for p in problems:
        assert p.code in API_PHOTO_CODES
        assert p.severity == "error"
        assert p.field == "verification"
        assert re.search(r"[\u4e00-\u9fff]", p.message)


def test_every_code_has_a_message():
    assert set(rules.MSG) == API_PHOTO_CODES


@pytest.mark.parametrize(
    "change",
    [
        {"background_white_share": 0.86},  # just above MIN_BACKGROUND_WHITE_SHARE
        {"background_line": 0.2},
        {"background_clutter": 0.003},
        {"roll_deg": -15.0},  # a natural tilt
        {"face_h": 0.13, "face_w": 0.12},  # half-body framing, still big enough
        {"bright_p90": 200.0, "face_luma": 100.0},  # dark skin on a bright wall
        {"bright_p90": 150.0, "face_luma": 190.0},  # a lit face before a dim wall: not dark
        {"eyes_found": 0, "eye_extent": 0.055},  # cascades missed eyes that are visibly open
        {"eyes_found": 1, "eye_extent": 0.0},  # one eye found: not both closed
        {"mouth_open": 0.06},  # a smile or a word
        {"eye_glare": 0.02},  # catch-lights
        {"sharpness": 110.0},
    ],
)
def test_near_misses_are_not_false_alarms(change):
    assert judge_photo(replace(GOOD, **change)) == []


def test_unmeasured_values_stay_silent():
    bare = PhotoMeasurements(width=100, height=100, face_count=1)
    assert judge_photo(bare) == []


def test_too_dark_replaces_the_checks_it_makes_impossible():
    dark = replace(
        GOOD,
        bright_p90=70.0,
        face_luma=40.0,
        background_white_share=0.0,
        sharpness=10.0,
        eyes_found=0,
        eye_extent=0.0,
    )
    assert codes(dark) == ["too_dark"]
    no_face_dark = replace(dark, face_count=0)
    assert codes(no_face_dark) == ["too_dark"]


def test_blur_and_small_faces_skip_the_detail_checks():
    closed = {"eyes_found": 0, "eye_extent": 0.0, "mouth_open": 0.3}
    assert codes(replace(GOOD, sharpness=5.0, **closed)) == ["too_blurry"]
    small = replace(GOOD, face_px=60.0, **closed)
    assert codes(small) == []  # 48 ≤ 60 px < MIN_DETAIL_FACE_PIXELS: too small to judge eyes


def test_glare_replaces_eyes_closed():
    assert codes(replace(GOOD, eye_glare=0.3, eyes_found=0, eye_extent=0.0)) == ["glasses_glare"]


def test_multiple_faces_stops_the_face_checks():
    assert codes(replace(GOOD, face_count=3, sharpness=1.0, eyes_found=0, eye_extent=0.0)) == [
        "multiple_faces"
    ]


def test_head_contact_counts_only_on_a_white_background():
    # On a coloured backdrop "non-white at the edge" is the backdrop, not hair.
    blue = replace(GOOD, background_white_share=0.0, head_edge_contact=1.0)
    assert codes(blue) == ["background_not_white"]


def test_skin_on_the_top_edge_means_cut_only_on_a_white_wall():
    faceless = replace(GOOD, face_count=0, face_x=None, top_edge_skin=0.3)
    assert codes(replace(faceless, background_white_share=0.2)) == ["no_face"]
    assert codes(replace(faceless, top_edge_skin=0.02)) == ["no_face"]


def test_background_needs_a_sample_to_judge():
    assert judge_photo(replace(GOOD, background_share=0.01, background_white_share=0.0)) == []


def test_size_and_pixel_caps():
    assert judge_size(10, 100) == []
    (empty,) = judge_size(0, 100)
    assert (empty.code, empty.extra["reason"]) == ("photo_unreadable", "empty")
    (big,) = judge_size(101, 100)
    assert (big.code, big.extra["reason"]) == ("photo_unreadable", "too_large")
    assert judge_pixels(8000, 6000) == []  # 48 MP phone photo
    (bomb,) = judge_pixels(10000, 6000)
    assert (bomb.code, bomb.extra["reason"]) == ("photo_unreadable", "too_many_pixels")
    assert judge_pixels(0, 10)[0].extra["reason"] == "corrupt"
    assert judge_pixels(6000, 4000, lossless=True) == []  # 24 MP PNG
    assert judge_pixels(8000, 6000, lossless=True)[0].extra["reason"] == "too_many_pixels"


# --- video --------------------------------------------------------------------------------------


def test_video_frame_cap():
    assert judge_video_frame(3840, 2160) == []
    assert judge_video_frame(7680, 4320)[0].extra["reason"] == "too_many_pixels"
    assert judge_video_frame(0, 0)[0].extra["reason"] == "corrupt"


def test_good_video_passes():
    assert judge_video([GOOD] * 8, 5.0) == []


def test_video_length_caps():
    (long,) = judge_video([GOOD] * 8, rules.MAX_VIDEO_SECONDS + 1)
    assert long.extra["reason"] == "video_too_long"
    (short,) = judge_video([GOOD] * 2, 0.5)
    assert short.extra["reason"] == "video_too_short"
    (none,) = judge_video([], 5.0)
    assert none.code == "photo_unreadable"


def test_face_must_be_there_throughout():
    gone = replace(GOOD, face_count=0, face_x=None, face_y=None, face_w=None, face_h=None)
    assert judge_video([GOOD] * 7 + [gone], 5.0) == []  # one missed frame in eight is tolerated
    problems = judge_video([GOOD] * 5 + [gone] * 3, 5.0)
    assert [p.code for p in problems] == ["no_face"]
    assert [p.code for p in judge_video([gone] * 8, 5.0)] == ["no_face"]


def test_a_blink_in_one_best_frame_is_not_eyes_closed():
    blink = replace(GOOD, eyes_found=0, eye_extent=0.0, sharpness=400.0)
    assert judge_video([blink, GOOD, GOOD, GOOD], 3.0) == []
    closed = [replace(blink, sharpness=300.0 + i) for i in range(4)]
    assert [p.code for p in judge_video(closed, 3.0)] == ["eyes_closed"]


def test_a_second_person_in_several_frames():
    two = replace(GOOD, face_count=2)
    assert [p.code for p in judge_video([GOOD] * 5 + [two] * 3, 5.0)] == ["multiple_faces"]
    assert [p.code for p in judge_video([two] * 8, 5.0)] == ["multiple_faces"]


# --- landmark measures (issue 13) -------------------------------------------------------------

# The good photo as the landmark path measures it (a smiling face: eyes narrowed but open).
LANDMARKED = replace(
    GOOD,
    eye_aspect=0.21,
    eye_dark_ratio=0.18,
    mouth_aspect=0.19,
    yaw_deg=-3.0,
    pitch_deg=9.0,
    face_focus=60.0,
    side_white_share=1.0,
    eyes_found=0,  # the Haar eye cascades missed the smiling eyes…
    eye_extent=0.0,  # …and their iris measure too: the landmarks decide
)


def test_landmarks_overrule_the_haar_eye_measures():
    assert judge_photo(LANDMARKED) == []


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"eye_aspect": 0.08}, "eyes_closed"),
        ({"eye_dark_ratio": 0.95}, "eyes_closed"),  # skin over both eyes
        ({"mouth_aspect": 0.45}, "mouth_open"),
        ({"yaw_deg": 35.0}, "not_facing_camera"),
        ({"yaw_deg": -35.0}, "not_facing_camera"),
        ({"pitch_deg": rules.PITCH_BIAS_DEG + 40.0}, "not_facing_camera"),
        ({"face_focus": 3.0}, "too_blurry"),
        ({"side_white_share": 0.2}, "background_not_white"),
    ],
)
def test_each_landmark_rule_reports_exactly_its_code(change, code):
    assert codes(replace(LANDMARKED, **change)) == [code]


@pytest.mark.parametrize(
    "change",
    [
        {"eye_aspect": 0.16},  # a broad smile narrows the eyes
        {"mouth_aspect": 0.25},  # a smile with teeth
        {"yaw_deg": 20.0},
        {"pitch_deg": 27.0},  # the generic head model reads a level head high
        {"face_focus": 15.0},  # soft but acceptable
        {"side_white_share": 0.85},
        {"sharpness": 5.0},  # the box measure no longer decides when face_focus is there
        {"mouth_open": 0.3},  # nor the dark-cavity measure
    ],
)
def test_landmark_near_misses_are_not_false_alarms(change):
    assert judge_photo(replace(LANDMARKED, **change)) == []


def test_head_edge_contact_needs_white_beside_the_head_too():
    busy = replace(LANDMARKED, head_edge_contact=0.8, side_white_share=0.1)
    assert codes(busy) == ["background_not_white"]


def test_glare_still_replaces_eyes_closed_with_landmarks():
    assert codes(replace(LANDMARKED, eye_glare=0.2, eye_aspect=0.05)) == ["glasses_glare"]


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"side_clutter": 0.02}, "background_not_white"),
        ({"side_line": 0.4}, "background_not_white"),
        ({"eye_aspect": 0.13, "eye_dark_ratio": 0.65}, "eyes_closed"),  # narrow, nothing dark
    ],
)
def test_side_backdrop_and_narrow_closed_eyes(change, code):
    assert codes(replace(LANDMARKED, **change)) == [code]


def test_a_narrow_open_eye_with_a_dark_iris_is_open():
    assert judge_photo(replace(LANDMARKED, eye_aspect=0.12, eye_dark_ratio=0.2)) == []


def test_a_close_up_is_judged_by_the_backdrop_beside_the_head():
    """A head-and-shoulders close-up leaves no whole-frame background sample: the backdrop
    beside and above the head still decides, and so does the head touching the frame edge."""
    close = replace(LANDMARKED, background_share=0.02, background_white_share=None)
    assert judge_photo(replace(close, side_white_share=1.0)) == []
    assert codes(replace(close, side_white_share=0.1)) == ["background_not_white"]
    assert codes(replace(close, side_white_share=1.0, side_line=0.3)) == ["background_not_white"]
    assert codes(replace(close, side_white_share=1.0, head_edge_contact=0.8)) == ["face_cut_off"]


def test_head_room_below_the_shortest_crown_is_cut_off():
    # the crown sits ≥ 0.42 face heights above the brows on the real set
    assert codes(replace(GOOD, face_y=0.3 * GOOD.face_h)) == ["face_cut_off"]
    assert judge_photo(replace(GOOD, face_y=0.4 * GOOD.face_h)) == []


def test_a_level_head_with_raised_brows_is_facing_the_camera():
    # a surprised face reads pitch −18° (real set): not a nod
    assert judge_photo(replace(LANDMARKED, pitch_deg=-18.0)) == []
    assert codes(replace(LANDMARKED, pitch_deg=-30.0)) == ["not_facing_camera"]


def test_hair_through_the_top_edge_of_a_dark_backdrop_is_cut_off():
    """Off white, head_edge_contact says nothing; hair running from the head through the top
    edge (unlike the backdrop beside the head) does, while the brows are close enough to the
    top for the crown to be above it."""
    dark = replace(
        LANDMARKED, background_white_share=0.0, side_white_share=0.0, head_edge_contact=1.0
    )
    near = replace(dark, face_y=0.6 * dark.face_h)
    assert codes(near) == ["background_not_white"]  # no hair at the top: only the backdrop
    assert codes(replace(near, hair_to_top=0.95)) == ["face_cut_off", "background_not_white"]
    assert codes(replace(near, hair_to_top=0.6)) == ["background_not_white"]  # curtain folds
    # a head with more room than any crown needs: whatever is at the top is not its hair
    far = replace(dark, face_y=1.2 * dark.face_h, hair_to_top=0.95)
    assert codes(far) == ["background_not_white"]
