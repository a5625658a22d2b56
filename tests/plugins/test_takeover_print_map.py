"""The printable shortlist map (issue 19 pt 4): numbered markers never overlap each other, street names overlap
neither markers nor each other — table-driven over crowded and spread layouts."""

from __future__ import annotations

import numpy as np
import pytest

from plugins.takeover.print_map import (
    MARKER_R,
    _box_hits,
    _label_box,
    _overlaps,
    place_labels,
    spread_markers,
)

LAYOUTS = {
    "one spot": np.array([[450.0, 300.0]] * 12),
    "a tight cluster": np.array([[450.0 + (i % 4) * 3, 300.0 + (i // 4) * 3] for i in range(16)]),
    "spread": np.array([[100.0 + i * 60, 100.0 + (i % 3) * 150] for i in range(12)]),
    "near the edge": np.array([[5.0, 5.0], [6.0, 6.0], [895.0, 615.0], [894.0, 614.0]]),
}


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_markers_do_not_overlap_and_stay_put_when_free(name: str) -> None:
    pts = LAYOUTS[name]
    spots = spread_markers(pts)
    assert spots.shape == pts.shape
    d = np.hypot(*(spots[:, None, :] - spots[None, :, :]).transpose(2, 0, 1))
    assert (d[np.triu_indices(len(spots), 1)] >= 2 * MARKER_R).all()
    if name == "spread":
        assert np.allclose(spots, pts)  # nothing moves when nothing collides
    assert np.allclose(spots[0], np.clip(pts[0], MARKER_R, None)) or name == "near the edge"


def test_street_labels_avoid_markers_and_each_other() -> None:
    markers = spread_markers(LAYOUTS["a tight cluster"])
    anchors = [(450.0, 300.0, "少先路街道"), (455.0, 302.0, "沼潭街道"), (200.0, 200.0, "昆河镇"), (205.0, 205.0, "卜尔汉图镇")]
    labels = place_labels(anchors, markers)
    boxes = [_label_box(x, y, text) for x, y, text in labels]
    assert {t for _, _, t in labels} >= {"昆河镇", "卜尔汉图镇"}  # room nearby: both kept, shifted apart
    assert not any(_overlaps(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1:])
    assert not any(_box_hits(mx, my, MARKER_R, box) for box in boxes for mx, my in markers)
