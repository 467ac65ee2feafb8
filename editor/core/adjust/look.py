"""A "look": crop/straighten/rotate/flip/resize plus a stack of adjustments, as one JSON-able value.

`lucid edit` builds one from its flags or a `--preset` file, the GUI saves one from a document's
adjustment layers, and `lucid batch` applies the same file to a folder. The order is the panel's:
crop (input coordinates), straighten (auto-cropped), rotate, flip, resize; then the adjustments bottom to
top, flag-built ones in `FLAG_ORDER`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from editor.core import transform
from editor.core.adjust.edits import add_adjustment
from editor.core.adjust.kinds import KINDS, normalise
from editor.core.errors import LucidError
from editor.core.geometry import Rect

if TYPE_CHECKING:
    from editor.core.adjust.layer import AdjustmentLayer
    from editor.core.document import Document

LOOK_VERSION = 1
# Where each flat setting lands: (adjustment kind, parameter); the adjustment order of the panel.
FLAG_ORDER = ("white_balance", "exposure", "contrast", "highlights_shadows", "levels", "curves",
              "hue_saturation", "black_white")
FLAT = {"temperature": ("white_balance", "temperature"), "tint": ("white_balance", "tint"),
        "exposure": ("exposure", "ev"), "contrast": ("contrast", "amount"),
        "highlights": ("highlights_shadows", "highlights"), "shadows": ("highlights_shadows", "shadows"),
        "levels": ("levels", "master"), "curve": ("curves", "master"),
        "hue": ("hue_saturation", "hue"), "saturation": ("hue_saturation", "saturation"),
        "vibrance": ("hue_saturation", "vibrance")}
GEOMETRY = ("crop", "straighten", "rotate", "flip", "resize", "long_edge")


@dataclass
class Adjustment:
    adjustment: str
    params: dict[str, Any]
    opacity: float = 1.0
    blend_mode: str = "svg:src-over"
    name: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"adjustment": self.adjustment, "params": self.params}
        if self.opacity != 1.0:
            out["opacity"] = self.opacity
        if self.blend_mode != "svg:src-over":
            out["blend_mode"] = self.blend_mode
        if self.name:
            out["name"] = self.name
        return out


@dataclass
class Look:
    crop: tuple[int, int, int, int] | None = None
    straighten: float | None = None
    rotate: int | None = None
    flip: str | None = None
    resize: tuple[int, int] | None = None
    long_edge: int | None = None
    adjustments: list[Adjustment] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"lucid_look": LOOK_VERSION}
        for key in GEOMETRY:
            value = getattr(self, key)
            if value is not None:
                out[key] = list(value) if isinstance(value, tuple) else value
        out["adjustments"] = [a.to_dict() for a in self.adjustments]
        return out

    @property
    def empty(self) -> bool:
        return not self.adjustments and all(getattr(self, k) is None for k in GEOMETRY)


def look_from_dict(data: dict[str, Any]) -> Look:
    """Parse a preset: geometry keys, flat settings (as the command-line flags name them) and/or an
    `adjustments` list. Unknown keys are an error, so a typo never passes silently."""
    if not isinstance(data, dict):
        raise LucidError("A preset must be a JSON object.")
    if int(data.get("lucid_look", LOOK_VERSION)) > LOOK_VERSION:
        raise LucidError("This preset was made by a newer Lucid; please update.")
    unknown = set(data) - set(GEOMETRY) - set(FLAT) - {"adjustments", "lucid_look"}
    if unknown:
        raise LucidError(f"Unknown preset setting(s): {', '.join(sorted(unknown))}.")
    look = Look()
    try:
        if data.get("crop") is not None:
            x, y, w, h = (int(v) for v in data["crop"])
            look.crop = (x, y, w, h)
        if data.get("straighten") is not None:
            look.straighten = float(data["straighten"])
        if data.get("rotate") is not None:
            look.rotate = int(data["rotate"])
        if data.get("flip") is not None:
            look.flip = str(data["flip"])
        if data.get("resize") is not None:
            w, h = (int(v) for v in data["resize"])
            look.resize = (w, h)
        if data.get("long_edge") is not None:
            look.long_edge = int(data["long_edge"])
    except (TypeError, ValueError) as exc:
        raise LucidError(f"Invalid geometry in the preset ({exc}).") from None
    if look.resize is not None and look.long_edge is not None:
        raise LucidError("Give either a resize (W×H) or a long edge, not both.")
    for item in data.get("adjustments") or []:
        if not isinstance(item, dict) or "adjustment" not in item:
            raise LucidError("Each preset adjustment needs an “adjustment” kind.")
        look.adjustments.append(Adjustment(
            item["adjustment"], normalise(item["adjustment"], item.get("params")),
            float(item.get("opacity", 1.0)), str(item.get("blend_mode", "svg:src-over")), item.get("name")))
    look.adjustments.extend(flat_adjustments({k: v for k, v in data.items() if k in FLAT}))
    return look


def flat_adjustments(flat: dict[str, Any]) -> list[Adjustment]:
    """Flag-style settings grouped into adjustments in panel order (temperature and tint share one)."""
    grouped: dict[str, dict[str, Any]] = {}
    for key, value in flat.items():
        if value is None:
            continue
        name, param = FLAT[key]
        grouped.setdefault(name, {})[param] = value
    return [Adjustment(name, normalise(name, grouped[name])) for name in FLAG_ORDER if name in grouped]


def merge(base: Look, over: Look) -> Look:
    """`over`'s geometry wins where given; its adjustments replace `base`'s of the same kind."""
    out = Look(**{k: getattr(base, k) if getattr(over, k) is None else getattr(over, k) for k in GEOMETRY})
    kinds = {a.adjustment for a in over.adjustments}
    out.adjustments = [a for a in base.adjustments if a.adjustment not in kinds] + list(over.adjustments)
    return out


def apply_look(doc: Document, look: Look) -> list[AdjustmentLayer]:
    """Apply the geometry, then add the adjustments as layers on top (one undo step)."""
    from editor.core.blend import BlendMode

    added: list[AdjustmentLayer] = []
    with doc.group("Apply look"):
        if look.crop is not None:
            x, y, w, h = look.crop
            rect = Rect(x, y, w, h)
            if rect.empty or rect.intersect(doc.rect) != rect:
                raise LucidError(f"Crop {x},{y},{w},{h} is not inside the {doc.width}×{doc.height} image.")
            transform.crop(doc, rect)
        if look.straighten:
            transform.straighten(doc, look.straighten)
        if look.rotate is not None and look.rotate % 360:
            transform.rotate(doc, look.rotate)
        if look.flip is not None:
            transform.flip(doc, look.flip)
        if look.resize is not None:
            transform.image_size(doc, *look.resize)
        elif look.long_edge is not None:
            if look.long_edge <= 0:
                raise LucidError(f"The long edge must be positive, not {look.long_edge}.")
            transform.image_size(doc, *transform.long_edge_size(doc.width, doc.height, look.long_edge))
        doc.active_layer = doc.layers[-1] if doc.layers else None
        for adj in look.adjustments:
            layer = add_adjustment(doc, adj.adjustment, adj.params, name=adj.name)
            layer.opacity = adj.opacity
            layer.blend_mode = BlendMode.from_ora(adj.blend_mode)
            added.append(layer)
    return added


def look_of(doc: Document) -> Look:
    """The document's top-level adjustment layers as a look (for "Save look as preset…")."""
    from editor.core.adjust.layer import AdjustmentLayer

    return Look(adjustments=[Adjustment(layer.adjustment, dict(layer.params), layer.opacity,
                                        layer.blend_mode.value, layer.name)
                             for layer in doc.layers if isinstance(layer, AdjustmentLayer) and layer.visible])


__all__ = ["KINDS", "Adjustment", "Look", "apply_look", "flat_adjustments", "look_from_dict", "look_of",
           "merge"]
