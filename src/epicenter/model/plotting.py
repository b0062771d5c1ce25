"""Shared finishing of report figures (matplotlib, Agg backend)."""

from __future__ import annotations

from pathlib import Path


def save_figure(fig, path: Path | str, dpi: int = 120) -> Path:
    """Lay out, write PNG or SVG (by suffix) and release the figure."""
    import matplotlib.pyplot as plt

    fig.autofmt_xdate()
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, dpi=dpi)
    plt.close(fig)
    return out
