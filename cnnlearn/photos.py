"""Colour photos offline, digit scenes built on them, and a check for image folders.

- :func:`load_photos` — eight real colour photos that ship inside installed packages
  (scikit-image, scikit-learn, matplotlib): read from disk, never downloaded.
- :func:`make_scene` and :func:`write_scenes` — MNIST digits tinted, scaled and placed
  on crops of those photos, canvases of varying size, written as PNG files one folder per
  class: what ``keras.utils.image_dataset_from_directory`` reads.
- :func:`check_image_folder` — a folder of class folders checked before training: a bad
  file gets one clear message naming it, instead of a TensorFlow traceback mid-``fit``.

No TensorFlow here: images are NumPy arrays, files are read and written with Pillow.
"""

import importlib.util
from pathlib import Path

import numpy as np
from PIL import Image

from cnnlearn import CnnlearnError

#: The photos :func:`load_photos` reads: (package, path inside it). Each file is in the package's
#: wheel (scikit-image's other images, such as eagle or cells3d, download on first use: not these).
PHOTOS = {
    "astronaut": ("skimage", "data/astronaut.png"),
    "chelsea": ("skimage", "data/chelsea.png"),
    "coffee": ("skimage", "data/coffee.png"),
    "rocket": ("skimage", "data/rocket.jpg"),
    "motorcycle": ("skimage", "data/motorcycle_left.png"),
    "china": ("sklearn", "datasets/images/china.jpg"),
    "flower": ("sklearn", "datasets/images/flower.jpg"),
    "grace_hopper": ("matplotlib", "mpl-data/sample_data/grace_hopper.jpg"),
}

#: The file types ``image_dataset_from_directory`` reads; it skips any other file without a word.
IMAGE_TYPES = (".bmp", ".gif", ".jpeg", ".jpg", ".png")


def photo_path(name):
    """Where photo ``name`` lies on disk, found without importing its package."""
    package, inside = PHOTOS[name]
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise CnnlearnError(f"photo {name!r} needs the package {package!r}: pip install "
                            f"{ {'skimage': 'scikit-image', 'sklearn': 'scikit-learn'}.get(package, package)}")
    return Path(list(spec.submodule_search_locations)[0]) / inside


def load_photos(names=None):
    """Real colour photos from files bundled in installed packages (no download, ever).

    Parameters
    ----------
    names : list of str, optional
        Which of :data:`PHOTOS` (default: all eight).

    Returns
    -------
    dict of name -> uint8 array (height, width, 3). Sizes differ, from 300x451 to 600x512.
    """
    photos = {}
    for name in names or PHOTOS:
        if name not in PHOTOS:
            raise CnnlearnError(f"no photo named {name!r}; choose from {sorted(PHOTOS)}")
        with Image.open(photo_path(name)) as image:
            photos[name] = np.asarray(image.convert("RGB"))
    return photos


def make_scene(digit, background, rng, size=(64, 64), scale=(0.6, 0.95), darken=0.3):
    """One colour scene: ``digit`` tinted, scaled and placed at random on a crop of ``background``.

    Parameters
    ----------
    digit : uint8 (28, 28), white on black
    background : uint8 (height, width, 3), larger than ``size``
    rng : numpy.random.Generator
    size : (int, int)
        The canvas's (height, width).
    scale : (float, float)
        The digit's side, as a fraction of the canvas's shorter side, drawn from this range.
    darken : float
        The background is multiplied by this, so that the bright digit stands out.

    Returns
    -------
    uint8 (height, width, 3)
    """
    height, width = size
    zoom = rng.uniform(1, min(background.shape[0] / height, background.shape[1] / width))
    crop_h, crop_w = int(height * zoom), int(width * zoom)
    top = rng.integers(0, background.shape[0] - crop_h + 1)
    left = rng.integers(0, background.shape[1] - crop_w + 1)
    crop = Image.fromarray(background[top:top + crop_h, left:left + crop_w]).resize((width, height), Image.BILINEAR)
    canvas = np.asarray(crop, dtype=np.float32) * darken
    side = max(8, int(rng.uniform(*scale) * min(height, width)))
    alpha = np.asarray(Image.fromarray(np.asarray(digit, np.uint8)).resize((side, side), Image.BILINEAR),
                       dtype=np.float32)[..., None] / 255
    colour = rng.uniform(0.4, 1.0, size=3)
    colour = 255 * colour / colour.max()  # a bright tint: its strongest channel at full scale
    y, x = rng.integers(0, height - side + 1), rng.integers(0, width - side + 1)
    patch = canvas[y:y + side, x:x + side]
    canvas[y:y + side, x:x + side] = patch * (1 - alpha) + colour * alpha
    return np.clip(np.round(canvas), 0, 255).astype(np.uint8)


def write_scenes(digits, labels, photos, folder, sizes=(32, 96), step=1, seed=0):
    """Write one scene per digit as ``folder/<label>/<number>.png``, canvases of random size.

    Parameters
    ----------
    digits : uint8 (n, 28, 28)
    labels : int (n,)
    photos : dict of name -> uint8 (height, width, 3), e.g. from :func:`load_photos`
    folder : str or Path, created if needed
    sizes : (int, int)
        The height is drawn from ``sizes[0]`` to ``sizes[1]`` (inclusive), the width from 3/4 to 4/3
        of it (kept within the same range): sizes and aspect ratios vary, as in real photos.
    step : int
        Round height and width to a multiple of ``step`` (16: a few shapes, as from a few cameras).
    seed : int

    Returns
    -------
    list of Path, relative to ``folder``, in the order of ``digits``.
    """
    rng = np.random.default_rng(seed)
    folder, backgrounds, written = Path(folder), list(photos.values()), []
    for number, (digit, label) in enumerate(zip(digits, labels)):
        height = int(rng.integers(sizes[0], sizes[1] + 1))
        width = np.clip(height * rng.uniform(3 / 4, 4 / 3), sizes[0], sizes[1])
        size = tuple(int(np.clip(step * round(s / step), sizes[0], sizes[1])) for s in (height, width))
        scene = make_scene(digit, backgrounds[rng.integers(len(backgrounds))], rng, size)
        path = Path(str(int(label))) / f"{number:05d}.png"
        (folder / path.parent).mkdir(parents=True, exist_ok=True)
        Image.fromarray(scene).save(folder / path)
        written.append(path)
    return written


def check_image_folder(folder):
    """Check a folder of class folders before ``image_dataset_from_directory`` reads it.

    Raises :class:`cnnlearn.CnnlearnError`, naming the file or folder, for what would otherwise fail
    deep inside TensorFlow or go wrong silently: a file that is not an image (Keras would skip it), a
    class folder with no image (Keras would still make it a class), an image that cannot be decoded.

    Returns
    -------
    dict with ``classes`` (sorted folder names), ``counts`` (images per class), ``smallest`` and
    ``largest``: the least and greatest (height, width), each taken over all images, and ``grey``: the
    relative paths of grey images among colour ones.
    Those are not errors: with ``color_mode="rgb"`` Keras repeats their one channel three times.
    """
    folder = Path(folder)
    classes = sorted(p.name for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []
    if not classes:
        raise CnnlearnError(f"{folder.name}/ holds no class folders: put each class's images in a folder "
                            "named after the class")
    counts, shapes, modes = {}, {}, {}
    for name in classes:
        files = sorted(p for p in (folder / name).iterdir() if p.is_file())
        for path in files:
            where = path.relative_to(folder).as_posix()
            if path.suffix.lower() not in IMAGE_TYPES:
                raise CnnlearnError(f"{where} is not an image ({', '.join(IMAGE_TYPES)}): "
                                    "image_dataset_from_directory would skip it without a word; move it out")
            try:
                with Image.open(path) as image:
                    image.load()
                    shapes[where], modes[where] = (image.height, image.width), image.mode
            except Exception as e:
                raise CnnlearnError(f"{where} cannot be read as an image (Pillow: {type(e).__name__}): "
                                    "it is damaged or not what its name says; replace or remove it") from None
        counts[name] = len(files)
        if not files:
            raise CnnlearnError(f"class folder {name}/ holds no images: image_dataset_from_directory "
                                "would still count it as a class; fill it or remove it")
    grey = sorted(w for w, m in modes.items() if m in ("L", "LA", "I", "I;16", "1"))
    sizes = np.array(list(shapes.values()))
    return {"classes": classes, "counts": counts, "smallest": tuple(int(v) for v in sizes.min(axis=0)),
            "largest": tuple(int(v) for v in sizes.max(axis=0)),
            "grey": grey if len(grey) < len(modes) else []}
