"""Fixtures shared by the test modules."""

import numpy as np
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
