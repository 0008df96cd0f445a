from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def fresh_detector():
    """The ingest process keeps its compiled rules and its correlation window between
    batches; each test starts as a new process would."""
    from secman.logs import detection

    detection.reset()
    yield
    detection.reset()
