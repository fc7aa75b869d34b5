"""A list read in part: its first items and how many there are in all."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Listed:
    """The first items of a list and how many there are in all."""

    items: tuple = ()
    total: int = 0

    @property
    def more(self) -> int:
        return self.total - len(self.items)
