"""Importer registry by format name."""
from __future__ import annotations

from typing import Callable, TypeVar

from .importer import ImportLimits, Importer, UnknownFormatError

_REGISTRY: dict[str, type[Importer]] = {}

T = TypeVar("T", bound=type[Importer])


def register(name: str) -> Callable[[T], T]:
    """Class decorator: make an Importer subclass available as format `name`."""

    def deco(cls: T) -> T:
        existing = _REGISTRY.get(name)
        if existing is not None and existing is not cls:
            raise ValueError(f"format {name!r} is already registered by {existing.__name__}")
        cls.format_name = name
        _REGISTRY[name] = cls
        return cls

    return deco


def available_formats() -> list[str]:
    return sorted(_REGISTRY)


def get_importer(name: str, limits: ImportLimits | None = None) -> Importer:
    """An importer instance for format `name`; UnknownFormatError lists the known formats."""
    cls = _REGISTRY.get(name)
    if cls is None:
        known = ", ".join(available_formats()) or "(none)"
        raise UnknownFormatError(f"unknown import format {name!r}; known formats: {known}")
    return cls(limits)
