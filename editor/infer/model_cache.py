"""An LRU of loaded models bounded by a memory budget, emptied after a while of idleness.

Loading a model takes seconds, so consecutive jobs reuse it; but a photo editor sits idle most of
the time, and holding a gigabyte of VRAM for nothing is rude, hence the idle release. Only the
worker thread touches the cache, so it needs no lock. Torch-free: sizes come from a callable.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any


def model_bytes(model: Any) -> int:
    """Bytes of a model's parameters and buffers (spandrel descriptor or nn.Module), or its own
    `nbytes` (a runtime outside torch, such as an ncnn net); 0 if unknown."""
    if isinstance(getattr(model, "nbytes", None), int):
        return int(model.nbytes)
    module = getattr(model, "model", model)
    total = 0
    for attr in ("parameters", "buffers"):
        items = getattr(module, attr, None)
        if callable(items):
            total += sum(t.numel() * t.element_size() for t in items())
    return total


class ModelCache:
    def __init__(
        self,
        budget_mb: int = 2048,
        idle_release_s: float = 300.0,
        size_of: Callable[[Any], int] = model_bytes,
        on_evict: Callable[[Hashable, Any], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.budget_bytes = int(budget_mb) << 20
        self.idle_release_s = idle_release_s
        self._size_of = size_of
        self._on_evict = on_evict
        self._clock = clock
        self._items: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._last_use = clock()

    def __contains__(self, key: Hashable) -> bool:
        return key in self._items

    def __len__(self) -> int:
        return len(self._items)

    @property
    def used_bytes(self) -> int:
        return sum(size for _, size in self._items.values())

    def keys(self) -> list[Hashable]:
        return list(self._items)

    def get(self, key: Hashable, load: Callable[[], Any]) -> Any:
        """The cached model for `key`, else `load()` it, evicting least recently used ones to fit.

        A model larger than the whole budget is still returned (the job needs it) but evicts
        everything else and is not kept afterwards.
        """
        self._last_use = self._clock()
        if key in self._items:
            self._items.move_to_end(key)
            return self._items[key][0]
        model = load()
        size = self._size_of(model)
        while self._items and self.used_bytes + size > self.budget_bytes:
            self._evict(next(iter(self._items)))
        if size <= self.budget_bytes:
            self._items[key] = (model, size)
        return model

    def _evict(self, key: Hashable) -> None:
        model, _ = self._items.pop(key)
        if self._on_evict is not None:
            self._on_evict(key, model)

    def clear(self) -> None:
        for key in list(self._items):
            self._evict(key)

    def release_if_idle(self) -> bool:
        """Drop everything if unused for `idle_release_s`; returns whether anything was released."""
        if self._items and self._clock() - self._last_use >= self.idle_release_s:
            self.clear()
            return True
        return False

    def seconds_until_idle_release(self) -> float | None:
        if not self._items:
            return None
        return max(0.0, self.idle_release_s - (self._clock() - self._last_use))
