"""What a manager can pick: the dimensions worth offering and how their values are written."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from core.analytics import DimensionsAnswer
from core.analytics.answers import DimensionInfo
from core.analytics.dimensions import DIMENSION_LABELS
from core.filters import DIMENSIONS, FILTER_DIMENSIONS

# A dimension with more values than this is free text (e.g. an address field): not a useful grouping,
# too long a list to pick from, and possibly personal.
MAX_VALUES = 300
_CODE_HIDDEN = {"city", "manager"}  # their keys are derived from the label, showing both adds nothing


@dataclass(frozen=True)
class Choices:
    """The dimensions offered for grouping and filtering, with their values' labels.

    `ready` is False while the values are still being listed: then only the built-in dimensions are
    offered for grouping, and there is nothing to filter by yet.
    """

    dimensions: tuple[DimensionInfo, ...]
    ready: bool = True
    arrived: Callable[[], bool] | None = None  # while not ready: True once the values have been listed

    @classmethod
    def of(cls, answer: DimensionsAnswer) -> "Choices":
        """Every dimension of the answer that is small enough to pick from."""
        return cls(tuple(d for d in answer.dimensions if len(d.values) <= MAX_VALUES))

    @classmethod
    def pending(cls, arrived: Callable[[], bool] | None = None) -> "Choices":
        """The built-in dimensions, without values, for while the values are being listed."""
        filters = {dimension: name for name, dimension in FILTER_DIMENSIONS.items()}
        return cls(tuple(DimensionInfo(name=name, label=DIMENSION_LABELS.get(name, name), filter=filters.get(name),
                                       values=[]) for name in DIMENSIONS), ready=False, arrived=arrived)

    @property
    def names(self) -> list[str]:
        return [dimension.name for dimension in self.dimensions]

    def get(self, name: str) -> DimensionInfo | None:
        return next((dimension for dimension in self.dimensions if dimension.name == name), None)

    def label(self, name: str | None) -> str:
        """The dimension's title ("Status group"), or the name itself when unknown."""
        if name is None:
            return "—"
        dimension = self.get(name)
        return dimension.label if dimension else name

    def value_codes(self, name: str) -> list[str]:
        """The codes of a dimension's values (those present in the store or its reference data)."""
        dimension = self.get(name)
        return [value.key for value in dimension.values if value.key] if dimension else []

    def value_label(self, name: str, code: str) -> str:
        """A value as people read it, with its code when that says something more: "Выполнен (complete)"."""
        dimension = self.get(name)
        label = next((value.label for value in dimension.values if value.key == code), code) if dimension else code
        if name in _CODE_HIDDEN or label == code:
            return label
        return f"{label} ({code})"
