"""cnnlearn.photos: bundled photos (offline), digit scenes as image files, the folder check."""

import socket

import numpy as np
import pytest
from PIL import Image

from cnnlearn import CnnlearnError, photos


@pytest.fixture
def offline(monkeypatch):
    """Any attempt to open a network connection fails the test."""
    def refuse(*args, **kwargs):
        raise AssertionError("cnnlearn.photos tried to use the network")
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_every_photo_is_an_installed_file():
    for name in photos.PHOTOS:
        assert photos.photo_path(name).is_file(), name


def test_load_photos_reads_eight_colour_photos_offline(offline):
    pictures = photos.load_photos()
    assert list(pictures) == list(photos.PHOTOS)
    assert pictures["astronaut"].shape == (512, 512, 3)
    assert pictures["chelsea"].shape == (300, 451, 3)
    assert pictures["grace_hopper"].shape == (600, 512, 3)
    for name, picture in pictures.items():
        assert picture.dtype == np.uint8 and picture.ndim == 3 and picture.shape[2] == 3, name
        assert picture.std() > 20, f"{name} looks blank"
    assert len({picture.shape for picture in pictures.values()}) >= 5  # sizes differ


def test_load_photos_by_name_and_an_unknown_name():
    assert list(photos.load_photos(["coffee"])) == ["coffee"]
    with pytest.raises(CnnlearnError, match="no photo named 'eagle'"):
        photos.load_photos(["eagle"])


def test_a_missing_package_is_named(monkeypatch):
    monkeypatch.setattr(photos.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(CnnlearnError, match="pip install scikit-image"):
        photos.photo_path("astronaut")


def _digit():
    digit = np.zeros((28, 28), np.uint8)
    digit[4:24, 12:16] = 255  # a "1"
    return digit


def test_a_scene_has_the_asked_size_and_a_bright_digit_on_a_darker_photo():
    background = photos.load_photos(["coffee"])["coffee"]
    rng = np.random.default_rng(0)
    for size in [(32, 32), (40, 64), (96, 50)]:
        scene = photos.make_scene(_digit(), background, rng, size=size)
        assert scene.shape == (*size, 3) and scene.dtype == np.uint8
        brightest = scene.max(axis=2)
        assert brightest.max() >= 200  # the tint's strongest channel is at full scale where the digit is
        assert np.median(brightest) < 0.5 * 255  # the background is darkened


def test_write_scenes_writes_one_png_per_digit_in_class_folders(tmp_path):
    digits = np.stack([_digit()] * 6)
    labels = np.array([0, 1, 2, 0, 1, 2])
    written = photos.write_scenes(digits, labels, photos.load_photos(["rocket", "china"]), tmp_path,
                                  sizes=(32, 64), step=16, seed=0)
    assert [p.parent.name for p in written] == ["0", "1", "2", "0", "1", "2"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["0", "1", "2"]
    shapes = set()
    for path in written:
        with Image.open(tmp_path / path) as image:
            assert image.mode == "RGB"
            assert 32 <= image.height <= 64 and 32 <= image.width <= 64
            assert image.height % 16 == 0 and image.width % 16 == 0
            shapes.add(image.size)
    again = photos.write_scenes(digits, labels, photos.load_photos(["rocket", "china"]), tmp_path / "again",
                                sizes=(32, 64), step=16, seed=0)
    assert (tmp_path / written[0]).read_bytes() == (tmp_path / "again" / again[0]).read_bytes()  # seeded


def test_write_scenes_sizes_vary(tmp_path):
    written = photos.write_scenes(np.stack([_digit()] * 20), np.zeros(20, int), photos.load_photos(["flower"]),
                                  tmp_path, sizes=(32, 96), seed=1)
    sizes = {Image.open(tmp_path / p).size for p in written}
    assert len(sizes) > 10


@pytest.fixture
def folder(tmp_path):
    photos.write_scenes(np.stack([_digit()] * 6), np.array([0, 1, 2] * 2), photos.load_photos(["coffee"]),
                        tmp_path / "mine", sizes=(32, 48), seed=0)
    return tmp_path / "mine"


def test_a_good_folder_is_summarized(folder):
    report = photos.check_image_folder(folder)
    assert report["classes"] == ["0", "1", "2"]
    assert report["counts"] == {"0": 2, "1": 2, "2": 2}
    assert all(32 <= v <= 48 for v in report["smallest"] + report["largest"])
    assert report["grey"] == []


def test_a_file_that_is_not_an_image_is_named(folder):
    (folder / "1" / "notes.txt").write_text("hello")
    with pytest.raises(CnnlearnError, match=r"^1/notes.txt is not an image .*skip it"):
        photos.check_image_folder(folder)


def test_an_empty_class_folder_is_named(folder):
    (folder / "3").mkdir()
    with pytest.raises(CnnlearnError, match=r"^class folder 3/ holds no images"):
        photos.check_image_folder(folder)


def test_a_damaged_png_is_named_without_an_absolute_path(folder):
    good = next((folder / "2").glob("*.png"))
    (folder / "2" / "bad.png").write_bytes(good.read_bytes()[:60])
    with pytest.raises(CnnlearnError, match=r"^2/bad.png cannot be read as an image") as error:
        photos.check_image_folder(folder)
    assert str(folder) not in str(error.value)


def test_a_png_that_is_not_a_png_is_named(folder):
    (folder / "0" / "fake.png").write_text("not really a picture")
    with pytest.raises(CnnlearnError, match=r"^0/fake.png cannot be read"):
        photos.check_image_folder(folder)


def test_a_grey_image_among_colour_ones_is_reported_not_refused(folder):
    Image.fromarray(_digit()).save(folder / "0" / "grey.png")
    report = photos.check_image_folder(folder)
    assert report["grey"] == ["0/grey.png"]
    assert report["counts"]["0"] == 3


def test_a_folder_without_class_folders_is_refused(tmp_path):
    with pytest.raises(CnnlearnError, match="holds no class folders"):
        photos.check_image_folder(tmp_path)


def test_importing_photos_does_not_load_tensorflow():
    import subprocess
    import sys

    code = "import sys, cnnlearn.photos; print('tensorflow' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"
