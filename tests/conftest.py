"""Fixtures shared by the test modules."""

import numpy as np
import pandas as pd
import pytest


@pytest.fixture(scope="session")
def sample():
    """The bundled 5,000-digit sample (uint8 (5000, 28, 28), int64 labels), loaded once per session."""
    from cnnlearn.data import load_sample

    images, labels = load_sample()
    assert images.shape == (5000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (5000,) and labels.dtype == np.int64
    images.setflags(write=False)  # shared by every test: nobody may change it
    labels.setflags(write=False)
    return images, labels


def write_kaggle_csv(path, images, labels=None):
    """Write digits in Kaggle's format: ``label,pixel0..pixel783`` (or no label column)."""
    from cnnlearn.data import PIXEL_COLUMNS

    frame = pd.DataFrame(np.asarray(images).reshape(len(images), -1), columns=PIXEL_COLUMNS)
    if labels is not None:
        frame.insert(0, "label", labels)
    frame.to_csv(path, index=False)
    return path


@pytest.fixture(scope="session")
def kaggle_dir(tmp_path_factory, sample):
    """A tiny Kaggle-format data folder: train.csv with 300 sample digits, test.csv with 40."""
    from cnnlearn.data import subsample

    folder = tmp_path_factory.mktemp("kaggle")
    images, labels = subsample(*sample, 340, seed=1)
    write_kaggle_csv(folder / "train.csv", images[:300], labels[:300])
    write_kaggle_csv(folder / "test.csv", images[300:])
    return folder
