"""The Filters model: tolerant of how agents and forms send values, strict about unknown names."""

from __future__ import annotations

import pydantic
import pytest

from core.filters import Filters, custom_code


def test_scalars_numbers_and_duplicates_become_sorted_code_lists() -> None:
    filters = Filters(statuses="new", managers=[7, "5", 7], cities=[" Москва ", ""])
    assert filters.statuses == ["new"]
    assert filters.managers == ["5", "7"]
    assert filters.cities == ["Москва"]


def test_empty_values_mean_no_filter() -> None:
    filters = Filters(statuses=[], sites=None, cities=[" "])
    assert filters.is_empty()
    assert filters.applied() == {}


def test_custom_field_values_single_list_or_any() -> None:
    filters = Filters(custom_fields={"interests": ["home", "books", "home"], "gift_wrap": "true", "reg": " * "})
    assert filters.custom_fields == {"gift_wrap": "true", "interests": ["books", "home"], "reg": "*"}
    with pytest.raises(pydantic.ValidationError, match="needs a value"):
        Filters(custom_fields={"interests": []})
    with pytest.raises(pydantic.ValidationError, match="must be an object"):
        Filters(custom_fields=["interests"])


def test_unknown_filter_names_are_rejected() -> None:
    with pytest.raises(pydantic.ValidationError, match="status"):
        Filters.model_validate({"status": ["new"]})


def test_equal_filters_share_one_cache_key() -> None:
    first = Filters(statuses=["b", "a"], custom_fields={"y": "1", "x": "2"})
    second = Filters.model_validate({"custom_fields": {"x": "2", "y": "1"}, "statuses": ["a", "b", "a"]})
    assert first.cache_key() == second.cache_key()
    assert first.applied() == {"statuses": ["a", "b"], "custom_fields": {"x": "2", "y": "1"}}


def test_custom_dimension_codes() -> None:
    assert custom_code("custom:interests") == "interests"
    assert custom_code("custom: ") is None and custom_code("status") is None
