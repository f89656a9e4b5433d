"""A deterministic, in-memory emulator of the RetailCRM API v5 (the subset the product uses)."""

from .account import Account
from .dataset import generate

__all__ = ["Account", "generate"]
