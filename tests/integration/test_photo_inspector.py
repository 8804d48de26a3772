"""The OpenCV photo inspector against the labelled set (tests/photo_samples.py) and bad input."""

from __future__ import annotations

import functools
import struct
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np
import pytest

from beiandesk.adapters import photo as adapter
from beiandesk.adapters.photo import OpenCVPhotoInspector, image_header, sniff
from tests import photo_samples as samples

SAMPLES = {s.name: s for s in samples.labelled_set()}


@pytest.fixture(scope="module")
def inspector() -> OpenCVPhotoInspector:
    return OpenCVPhotoInspector()


def codes(result) -> set[str]:
    return {p.code for p in result.problems}


@pytest.mark.parametrize("name", list(SAMPLES))
def test_labelled_set(inspector, name):
    sample = SAMPLES[name]
    result = inspector.inspect(samples.encode(sample.image), f"{name}.jpg")
    assert codes(result) == set(sample.codes), result.measurements
    assert result.passed is sample.ok
    assert result.media == "photo"
    if sample.ok:
        assert result.problems == []  # not even a warning on a good photo


@pytest.mark.parametrize("name", ["good", "eyes_closed", "background_door_gap"])
def test_same_verdict_at_phone_resolution(inspector, name):
    """A 12 MP JPEG is decoded at 1/4 and judged like its small original."""
    sample = SAMPLES[name]
    big = samples.encode(samples.upscale(sample.image, 12.0))
    assert image_header(big, "jpeg")[0] * image_header(big, "jpeg")[1] >= 11_000_000
    assert codes(inspector.inspect(big)) == set(sample.codes)


def test_png_and_webp_are_photos_too(inspector):
    good = SAMPLES["good"].image
    for ext in (".png", ".webp"):
        result = inspector.inspect(samples.encode(good, ext), "photo.bin")
        assert result.passed and result.problems == [], ext


def test_content_decides_not_the_extension(inspector):
    result = inspector.inspect(samples.encode(SAMPLES["good"].image, ".png"), "clip.mp4")
    assert result.passed and result.media == "photo"


# --- bad input ----------------------------------------------------------------------------------


def reason(result) -> str:
    (problem,) = result.problems
    assert problem.code == "photo_unreadable" and problem.severity == "error"
    return problem.extra["reason"]


def test_random_bytes_empty_and_text_are_unreadable(inspector):
    noise = np.random.default_rng(3).integers(0, 256, 50_000, dtype=np.uint8).tobytes()
    assert reason(inspector.inspect(noise, "photo.jpg")) == "not_media"
    assert reason(inspector.inspect(b"", "photo.jpg")) == "empty"
    assert reason(inspector.inspect("这不是照片\n".encode(), "photo.jpg")) == "not_media"
    assert reason(inspector.inspect(b"GIF89a" + bytes(100), "photo.gif")) == "not_media"
    heic = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(200)
    assert reason(inspector.inspect(heic, "IMG_0001.HEIC")) == "not_media"


def test_truncated_files(inspector):
    jpeg = samples.encode(SAMPLES["good"].image)
    png = samples.encode(SAMPLES["good"].image, ".png")
    assert reason(inspector.inspect(jpeg[: len(jpeg) * 6 // 10])) == "truncated"
    assert reason(inspector.inspect(png[: len(png) // 2])) == "truncated"
    assert reason(inspector.inspect(jpeg[:40])) == "corrupt"  # stops inside the header


def test_corrupt_scan_data_does_not_crash(inspector):
    jpeg = bytearray(samples.encode(SAMPLES["good"].image))
    sos = jpeg.find(b"\xff\xda")
    rng = np.random.default_rng(5)
    body = (
        rng.integers(0, 255, len(jpeg) - sos - 200, dtype=np.uint8)
        .tobytes()
        .replace(b"\xff", b"\x00")
    )
    jpeg[sos + 20 : sos + 20 + len(body)] = body
    result = inspector.inspect(bytes(jpeg))
    assert not result.passed


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bomb(width: int, height: int) -> bytes:
    """A valid small PNG whose header claims width × height (the IDAT holds one row)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" + bytes(3 * width), 9)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", idat)
        + _png_chunk(b"IEND", b"")
    )


def jpeg_bomb(width: int, height: int) -> bytes:
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 17, 8, height, width, 3) + bytes(9)
    return b"\xff\xd8" + sof + b"\xff\xda\x00\x0c" + bytes(10) + b"\x00" * 64 + b"\xff\xd9"


def test_decompression_bombs_are_refused_before_decoding(inspector, monkeypatch):
    def no_decode(*args, **kwargs):
        raise AssertionError("decoded a bomb")

    monkeypatch.setattr(adapter.cv2, "imdecode", no_decode)
    for bomb in (png_bomb(10_000, 6_000), jpeg_bomb(65_000, 65_000)):
        started = time.perf_counter()
        assert reason(inspector.inspect(bomb, "photo.png")) == "too_many_pixels"
        assert time.perf_counter() - started < 0.5


def test_header_parsing():
    assert image_header(png_bomb(10_000, 6_000), "png") == (10_000, 6_000, True)
    assert image_header(jpeg_bomb(640, 480), "jpeg") == (640, 480, True)
    webp = samples.encode(SAMPLES["good"].image, ".webp")
    assert sniff(webp[:16]) == "webp" and image_header(webp, "webp")[:2] == (440, 440)
    assert sniff(b"\x00\x00\x00\x18ftypmp42") == "video"
    assert sniff(b"hello world12345") is None


def test_size_cap_before_anything_else(tmp_path):
    small_cap = OpenCVPhotoInspector(max_bytes=10_000)
    data = samples.encode(SAMPLES["good"].image)
    assert reason(small_cap.inspect(data)) == "too_large"
    path = tmp_path / "big.jpg"
    path.write_bytes(data)
    assert reason(small_cap.inspect_file(path)) == "too_large"


def test_concurrent_use_gives_the_same_answers(inspector):
    names = ["good", "eyes_closed", "mouth_open", "good_glasses"] * 2
    jobs = {name: samples.encode(SAMPLES[name].image) for name in names}
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda n: codes(inspector.inspect(jobs[n])), names))
    assert results == [set(SAMPLES[n].codes) for n in names]


# --- video --------------------------------------------------------------------------------------


@functools.cache
def _frame(face: bool) -> np.ndarray:
    if not face:
        return np.full((360, 480, 3), 250, np.uint8)
    crop, alpha = samples.person()
    return samples.compose(crop, alpha, canvas=(360, 480), offset=(28, 60), scale=0.83)


def write_video(
    path: Path,
    seconds: float,
    fps: float = 10.0,
    face=lambda t: True,
    size: tuple[int, int] = (480, 360),
) -> bytes:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
    assert writer.isOpened()
    for i in range(int(seconds * fps)):
        frame = _frame(face(i / fps))
        if frame.shape[1::-1] != size:
            frame = cv2.resize(frame, size, interpolation=cv2.INTER_AREA)
        shift = np.float32([[1, 0, 2 * np.sin(i / 3)], [0, 1, 0]])  # a hand-held wobble
        writer.write(cv2.warpAffine(frame, shift, size, borderMode=cv2.BORDER_REPLICATE))
    writer.release()
    return path.read_bytes()


def test_video_with_the_face_throughout_passes(inspector, tmp_path):
    result = inspector.inspect(write_video(tmp_path / "v.mp4", 2.0), "v.mp4")
    assert result.media == "video"
    assert result.passed and result.problems == [], result.measurements
    assert result.measurements["frames_sampled"] == adapter.VIDEO_SAMPLES
    assert result.measurements["duration_s"] == pytest.approx(2.0, abs=0.2)


def test_video_without_a_face(inspector, tmp_path):
    result = inspector.inspect(write_video(tmp_path / "v.mp4", 2.0, face=lambda t: False))
    assert codes(result) == {"no_face"}


def test_video_where_the_face_leaves(inspector, tmp_path):
    data = write_video(tmp_path / "v.mp4", 3.0, face=lambda t: t < 1.5)
    assert codes(inspector.inspect(data)) == {"no_face"}


def test_video_too_long_is_refused_without_judging(inspector, tmp_path):
    data = write_video(tmp_path / "v.mp4", 31.0, fps=2.0, face=lambda t: False, size=(160, 120))
    assert reason(inspector.inspect(data)) == "video_too_long"


def test_broken_video_is_unreadable_and_its_temp_file_removed(inspector, monkeypatch):
    made: list[str] = []
    real_mkstemp = adapter.tempfile.mkstemp

    def recording_mkstemp(*args, **kwargs):
        handle, name = real_mkstemp(*args, **kwargs)
        made.append(name)
        return handle, name

    monkeypatch.setattr(adapter.tempfile, "mkstemp", recording_mkstemp)
    data = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(range(256)) * 20
    result = inspector.inspect(data, "v.mp4")
    assert reason(result) == "corrupt"
    assert len(made) == 1 and not Path(made[0]).exists()


def test_video_file_is_read_from_its_path(inspector, tmp_path):
    path = tmp_path / "v.mov"
    write_video(path, 1.5)
    result = inspector.inspect_file(path)
    assert result.media == "video" and result.passed


# --- real people (issue 13) -------------------------------------------------------------------

REAL = {s.name: s for s in samples.real_set()}
#: Known misses, kept in the set so the benchmark keeps counting them.
KNOWN_MISSES = {
    "feat_anc_crown_cut_blue": "a head-and-shoulders close-up whose hair fills the frame's width: "
    "no backdrop beside the head at the top to tell hair from, and the brows keep more head "
    "room than the shortest crown needs (on white it is face_cut_off: the hair touches the "
    "white top edge)",
}


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(n, marks=pytest.mark.xfail(strict=True, reason=KNOWN_MISSES[n]))
        if n in KNOWN_MISSES
        else n
        for n in REAL
    ],
)
def test_real_people(inspector, name):
    sample = REAL[name]
    result = inspector.inspect(samples.encode(sample.image))
    assert codes(result) == set(sample.codes), result.measurements


def test_landmark_model_ships_in_a_package():
    from beiandesk.adapters.photo import landmarks

    assert landmarks.available()


def test_smiling_man_with_open_eyes_passes(inspector):
    """The issue's false alarm: eyes_closed on a broad smile. The landmarks see open eyes."""
    result = inspector.inspect(samples.encode(REAL["obama_good"].image))
    assert result.passed, result.measurements
    assert result.measurements["eye_aspect"] > 0.13


def _obama_at(face_scale: float, canvas: tuple[int, int]) -> np.ndarray:
    crop, alpha = samples.cutout("obama")
    h, w = crop.shape[:2]
    offset = (
        canvas[0] - int(h * face_scale) - canvas[0] // 5,
        (canvas[1] - int(w * face_scale)) // 2,
    )
    return samples.compose(crop, alpha, canvas=canvas, offset=offset, scale=face_scale)


def test_a_60_px_face_in_a_12_mp_photo_is_too_small_not_missing(inspector):
    image = _obama_at(0.45, (4000, 3000))  # the cut-out's face is ≈ 135 px wide: ≈ 60 px here
    assert codes(inspector.inspect(samples.encode(image))) == {"face_too_small"}


@pytest.mark.parametrize("person", samples.PEOPLE, ids=lambda p: p.name)
def test_a_beauty_filtered_face_is_not_blurry(inspector, person):
    """Phones' beauty modes smooth the skin but keep the edges of eyes, brows and mouth: an
    edge-preserving (bilateral) filter on a good photo is still a good photo."""
    smoothed = cv2.bilateralFilter(samples.on_white(person), 15, 80, 15)
    result = inspector.inspect(samples.encode(smoothed))
    assert result.problems == [], result.measurements


def test_the_small_face_search_is_bounded_on_a_busy_photo_not_on_a_white_wall():
    """The costliest search (small faces, after everything else found nothing) covers a person
    far back on a white wall at full size, but a busy frame only at the size its budget allows
    (judged on the decoded 1000 px copy, before anything larger is decoded)."""
    from beiandesk.adapters.photo import inspector as ins

    def decoded_grey(image: np.ndarray) -> np.ndarray:
        small = cv2.resize(image, None, fx=0.25, fy=0.25, interpolation=cv2.INTER_AREA)
        return cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)

    far_back = decoded_grey(_obama_at(0.45, (4000, 3000)))
    assert ins._budget_side(far_back, 3000, 4000) == ins.SMALL_FACE_SIDE
    busy = decoded_grey(cv2.resize(samples.scene("obama_scene"), (3000, 4000)))
    assert ins._budget_side(busy, 3000, 4000) < 0.5 * ins.SMALL_FACE_SIDE


def test_a_68_px_face_in_a_1500_by_2000_frame_is_too_small(inspector):
    image = _obama_at(0.5, (2000, 1500))
    assert codes(inspector.inspect(samples.encode(image))) == {"face_too_small"}


def test_blur_is_judged_relative_to_the_face(inspector):
    """An upscaled sharp photo (face ≈ 300 px) passes; the same with a 7 px blur does not."""
    good = samples.on_white(samples.PEOPLE[0])
    big = cv2.resize(good, None, fx=2.2, fy=2.2, interpolation=cv2.INTER_CUBIC)
    assert inspector.inspect(samples.encode(big)).passed
    blurred = cv2.GaussianBlur(big, (0, 0), 7)
    assert codes(inspector.inspect(samples.encode(blurred))) == {"too_blurry"}
    phone = samples.upscale(good, 12.0)
    assert inspector.inspect(samples.encode(phone)).passed


def test_head_with_a_small_margin_above_is_not_cut_off(inspector):
    crop, alpha = samples.cutout("obama")  # hair begins ≈ 25 px below the cut-out's top
    image = samples.compose(
        crop, alpha, canvas=(crop.shape[0] - 10, crop.shape[1]), offset=(-10, 0)
    )
    assert inspector.inspect(samples.encode(image)).passed


def test_truncated_jpeg_with_an_end_marker_appended(inspector):
    """Cut scan data plus FFD9 decodes with its lower part flat grey: unreadable, not judged."""
    for image in (REAL["obama_good"].image, samples.upscale(REAL["biden_good"].image, 12.0)):
        jpeg = samples.encode(image)
        broken = jpeg[: len(jpeg) * 6 // 10] + b"\xff\xd9"
        assert reason(inspector.inspect(broken)) == "truncated"


def test_a_second_head_in_profile_is_searched_for_beside_the_main_face():
    """Beside the main face (of two) the profile search finds the other head, and nothing beside
    a person alone (the main head's own cheek and ear do not count)."""
    from beiandesk.adapters.photo import inspector as module

    pair = module.locate(REAL["turned_second_person"].image)
    main = pair.faces[0][0]
    (box,) = module.profile_faces(pair.gray, main)
    assert abs((box[0] + box[2] / 2) - (main[0] + main[2] / 2)) > 2 * main[2]
    alone = module.locate(REAL["obama_good"].image)
    assert module.profile_faces(alone.gray, alone.faces[0][0]) == []
    assert [v for _, v in alone.faces] == [2]
