"""How a result layer was made, so it can be re-run and so old projects keep opening."""

from __future__ import annotations

import datetime as _dt
from dataclasses import asdict, dataclass, field
from typing import Any

from editor import __version__

RECIPE_SCHEMA = 1


@dataclass
class Recipe:
    """Serialisable description of one AI edit (task, parameters, model and inputs)."""

    task: str
    params: dict[str, Any] = field(default_factory=dict)
    model_id: str | None = None
    model_sha256: str | None = None
    source_layer_ids: list[str] = field(default_factory=list)
    seed: int | None = None
    app_version: str = __version__
    created: str = field(default_factory=lambda: _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"))
    schema: int = RECIPE_SCHEMA

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Recipe:
        """Build from a stored dict, migrating older schemas and ignoring unknown keys."""
        data = dict(data)
        schema = int(data.get("schema", 1))
        if schema > RECIPE_SCHEMA:
            raise ValueError(f"recipe schema {schema} is newer than this Lucid understands ({RECIPE_SCHEMA})")
        if "task" not in data or not isinstance(data["task"], str):
            raise ValueError("recipe has no task name")
        known = {f for f in cls.__dataclass_fields__}
        clean = {k: v for k, v in data.items() if k in known}
        clean["params"] = dict(clean.get("params") or {})
        clean["source_layer_ids"] = [str(s) for s in clean.get("source_layer_ids") or []]
        clean["schema"] = RECIPE_SCHEMA
        return cls(**clean)
