"""What every picture shares: a figure on the Agg backend, fixed fonts and sizes, and PNG
bytes that are the same for the same data (no software or date stamped in them)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure

WIDTH_INCHES = 7.2  # at DPI: 1080 px wide, sharp on a phone held upright
DPI = 150
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Colours readable by most colour-blind readers (Okabe–Ito), and their words in the alt text.
RED = "#D55E00"  # overdue, stalled
ORANGE = "#E69F00"
BLUE = "#0072B2"
SKY = "#56B4E9"
GREEN = "#009E73"
GREY = "#999999"
LIGHT = "#EEEEEE"


@contextmanager
def figure(height_inches: float) -> Iterator[Figure]:
    """A figure of the pictures' width, on the Agg canvas (no pyplot, no GUI)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    # DejaVu Sans ships with matplotlib: the same glyphs on every machine.
    with matplotlib.rc_context({"font.family": "DejaVu Sans", "font.size": 10}):
        fig = Figure(figsize=(WIDTH_INCHES, height_inches), dpi=DPI)
        FigureCanvasAgg(fig)
        yield fig


def png_bytes(fig: Figure) -> bytes:
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=DPI, metadata={"Software": None})
    return out.getvalue()


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height of a PNG, from its header; ValueError when it is not one."""
    if len(data) < 24 or not data.startswith(PNG_SIGNATURE) or data[12:16] != b"IHDR":
        raise ValueError("not a PNG")
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def short(text: str, limit: int) -> str:
    """One line of at most `limit` characters (a picture has no room for more)."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
