"""OpenRaster (.ora) projects: GIMP/Krita-compatible layers plus Lucid's extras under data/lucid/.

Layout written:
  mimetype                      "image/openraster", first, stored
  stack.xml                     the layer tree (ORA 0.0.6), top layer first
  data/<id>.png                 each layer as other programs should see it (mask applied to alpha);
                                a result layer only over the box where its mask is non-zero (x/y
                                offsets place it; Lucid pads it back to its size on open)
  data/lucid/document.json      ids, kinds, locks, recipes, file refs, active layer, selection
  data/lucid/layers/<id>.png    unmasked pixels of masked layers
  data/lucid/masks/<id>.png     16-bit gray masks
  mergedimage.png               our composite;  Thumbnails/thumbnail.png  ≤ 256 px

Every colour PNG carries the document's ICC profile in an iCCP chunk (sRGB's when it has none), so
Krita/GIMP show the pixels as Lucid does; a group Lucid composites isolated is written isolated.

Reading never extracts to disk: members are read into memory after their names, declared sizes
and compression ratios are checked, and XML goes through defusedxml.
"""

from __future__ import annotations

import io
import json
import posixpath
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import cv2
import numpy as np
from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET
from PIL import Image

from editor import __version__
from editor.core.adjust.layer import AdjustmentLayer
from editor.core.blend import BlendMode
from editor.core.budget import (
    MASK_BYTES_PER_PIXEL,
    BudgetExceeded,
    canvas_bytes,
    current_budget,
    layer_bytes,
)
from editor.core.document import Document, Metadata
from editor.core.errors import LucidError
from editor.core.layers import GroupLayer, Layer, PixelLayer, ResultLayer
from editor.core.pixels import from_float, to_float
from editor.core.recipe import Recipe
from editor.core.zipguard import unsafe_member_name
from editor.io.atomic import atomic_write
from editor.io.errors import ImageLoadError, ProjectError
from editor.io.gray_icc import linear_gray_profile
from editor.io.icc import document_profile, is_rgb_profile
from editor.io.images import DEFAULT_MAX_PIXELS, convert_depth, decode_image_bytes, header_size, load_document
from editor.io.ora_adjust import baked_pixels, read_adjustment, record_fields
from editor.io.ora_parallel import content_box, merged_parts, run_parallel, thumbnail_source, workers
from editor.io.png_fast import PngEncoder
from editor.io.safe_input import is_icc_profile, is_regular_file

MIMETYPE = b"image/openraster"
ORA_VERSION = "0.0.6"
LUCID_FORMAT = "lucid-ora"
LUCID_VERSION = 1
LUCID_JSON = "data/lucid/document.json"
THUMBNAIL_SIZE = 256

MAX_MEMBERS = 10_000
MAX_MEMBER_BYTES = 2 << 30  # one member's declared uncompressed size
MAX_TOTAL_BYTES = 16 << 30
MAX_RATIO = 200  # uncompressed/compressed; PNGs are ~1, XML/JSON ~10–30, zip bombs ~1000
RATIO_FLOOR = 1 << 20  # small members may compress well (empty masks): judge ratio above 1 MiB only
MAX_DEPTH = 64
MAX_LAYERS = 5_000


# ----------------------------------------------------------------------------------------- save

def save_project(doc: Document, path: str | Path, *, merged: np.ndarray | None = None,
                 cache: EncodeCache | None = None) -> None:
    """Write `doc` as OpenRaster, atomically (the old file survives any failure).

    `merged`: the composite (float32 H×W×4, straight alpha) when the caller already has it; else it is
    computed here, on the same thread pool that encodes the layers.
    `cache` (autosave): PNG bytes of read-only (snapshot) buffers from the previous save, reused when the
    same buffers come again, so unchanged layers are not re-encoded; it is pruned to this save's.
    """
    path = Path(path)

    try:
        with (ThreadPoolExecutor(max_workers=workers(), thread_name_prefix="png") as pool,
              atomic_write(path) as fh, zipfile.ZipFile(fh, "w", zipfile.ZIP_DEFLATED) as zf):
            encoder = PngEncoder(pool)  # one band cache: the merged image reuses the photo's bands

            def merged_pngs() -> tuple[bytes, bytes]:
                base, patches = merged_parts(doc) if merged is None else (from_float(merged, doc.dtype), [])
                icc = document_profile(doc.metadata.icc_profile)
                return encoder.encode(base, patches=patches, icc_profile=icc), _thumbnail(base, patches, icc)

            zf.writestr(zipfile.ZipInfo("mimetype"), MIMETYPE, compress_type=zipfile.ZIP_STORED)
            writer = _Writer(doc, zf, encoder, cache)
            stack = writer.stack(doc.root, root=True)
            image = ET.Element("image", {"version": ORA_VERSION, "w": str(doc.width), "h": str(doc.height)})
            image.append(stack)
            zf.writestr("stack.xml", ET.tostring(image, encoding="utf-8", xml_declaration=True))
            writer.jobs.insert(0, ("merged", merged_pngs))  # the biggest job first: the pool balances
            writer.finish()
            if cache is not None:
                cache.clear()
                cache.update(writer.used)
            merged_png, thumb_png = writer.encoded["merged"]
            zf.writestr("mergedimage.png", merged_png, compress_type=zipfile.ZIP_STORED)
            zf.writestr("Thumbnails/thumbnail.png", thumb_png, compress_type=zipfile.ZIP_STORED)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ProjectError(f"{path.name}: could not save the project ({reason})", str(exc)) from exc


EncodeCache = dict[tuple[Any, ...], tuple[tuple[np.ndarray, ...], bytes]]


class _Writer:
    """Walks the layer tree, writing PNG members and collecting Lucid's per-layer records."""

    def __init__(self, doc: Document, zf: zipfile.ZipFile, encoder: PngEncoder,
                 cache: EncodeCache | None = None) -> None:
        self.doc, self.zf, self.encoder = doc, zf, encoder
        self.icc = document_profile(doc.metadata.icc_profile)
        self.records: list[dict[str, Any]] = []
        # PNG members are encoded on a thread pool in `finish`, then written in this order
        self.jobs: list[tuple[str, Any]] = []
        self.encoded: dict[str, Any] = {}
        self.cache = cache
        self.used: EncodeCache = {}

    def _job(self, name: str, kind: object, arrays: tuple[np.ndarray, ...], encode) -> None:
        """Queue `encode()` for member `name`, or reuse its bytes from the autosave cache when these exact
        read-only arrays were encoded before (read-only buffers never change; the cache keeps them alive,
        so their ids stay unique)."""
        if self.cache is None or any(a.flags.writeable for a in arrays):
            self.jobs.append((name, encode))
            return
        key = (kind, *(id(_buffer(a)) for a in arrays))
        hit = self.cache.get(key)
        if hit is not None and all(_buffer(x) is _buffer(y) for x, y in zip(hit[0], arrays, strict=True)):
            self.used[key] = hit
            self.jobs.append((name, lambda data=hit[1]: data))
            return

        def encode_and_keep() -> bytes:
            data = encode()
            self.used[key] = (arrays, data)
            return data

        self.jobs.append((name, encode_and_keep))

    def stack(self, group: GroupLayer, root: bool = False) -> ET.Element:
        from editor.core.compositor import renders_isolated

        isolation = "isolate" if not root and renders_isolated(group) else "auto"
        attrs = {} if root else {**_common_attrs(group), "isolation": isolation}
        elem = ET.Element("stack", attrs)
        if not root:
            self.records.append({"id": group.id, "kind": group.kind, "locked": group.locked,
                                 "isolated": group.isolated})
        for child in reversed(group.children):  # ORA lists the top layer first
            if isinstance(child, GroupLayer):
                elem.append(self.stack(child))
            elif isinstance(child, PixelLayer):
                elem.append(self.layer(child))
            elif isinstance(child, AdjustmentLayer):
                elem.append(self.adjustment(child, group))
        return elem

    def adjustment(self, layer: AdjustmentLayer, parent: GroupLayer) -> ET.Element:
        """Parameters in document.json, the mask under data/lucid/masks/, baked pixels in the stack."""
        src = f"data/{layer.id}.png"
        record: dict[str, Any] = {"id": layer.id, "kind": layer.kind, "locked": layer.locked, "src": src,
                                  "pixels": None, "mask": None, "recipe": None, **record_fields(layer)}
        if layer.mask is not None:
            record["mask"] = f"data/lucid/masks/{layer.id}.png"
            self._write(record["mask"], _gray_png(self.encoder.encode, layer.mask))
        baked = baked_pixels(layer, parent, self.doc.dtype)
        self._write(src, self.encoder.encode(baked, icc_profile=self.icc))
        self.records.append(record)
        return ET.Element("layer", {**_common_attrs(layer), "src": src})

    def layer(self, layer: PixelLayer) -> ET.Element:
        src = f"data/{layer.id}.png"
        record: dict[str, Any] = {"id": layer.id, "kind": layer.kind, "locked": layer.locked, "src": src,
                                  "pixels": None, "mask": None, "recipe": None}
        pixels, mask = layer.pixels, layer.mask
        attrs = _common_attrs(layer)
        box_kind: tuple[int, ...] = ()
        if isinstance(layer, ResultLayer) and mask is not None:
            box = content_box(mask)
            if box is not None and (box[2] - box[0], box[3] - box[1]) != mask.shape:
                y0, x0, y1, x1 = box  # only where the mask shows anything; offsets place it
                record["canvas"] = [x0, y0, layer.width, layer.height]
                pixels, mask = pixels[y0:y1, x0:x1], mask[y0:y1, x0:x1]
                attrs["x"], attrs["y"] = str(layer.offset[0] + x0), str(layer.offset[1] + y0)
                box_kind = box
        png, icc = self.encoder.encode, self.icc
        if mask is not None:
            record["pixels"] = f"data/lucid/layers/{layer.id}.png"
            record["mask"] = f"data/lucid/masks/{layer.id}.png"
            self._job(record["pixels"], ("pixels", icc, box_kind), (layer.pixels,),
                      lambda px=pixels: png(px, icc_profile=icc))
            self._job(record["mask"], ("mask", box_kind), (layer.mask,), lambda m=mask: _gray_png(png, m))
            self._job(src, ("visible", icc, box_kind), (layer.pixels, layer.mask),
                      lambda px=pixels, m=mask: png(_apply_mask(px, m), icc_profile=icc))
        else:
            self._job(src, ("visible", icc), (layer.pixels,), lambda px=pixels: png(px, icc_profile=icc))
        if isinstance(layer, ResultLayer):
            record["recipe"] = layer.recipe.to_dict()
        self.records.append(record)
        return ET.Element("layer", {**attrs, "src": src})

    def _write(self, name: str, data: bytes) -> None:
        self.zf.writestr(name, data, compress_type=zipfile.ZIP_STORED)  # PNG is compressed already

    def finish(self) -> None:
        self.encoded = dict(run_parallel(self.jobs))
        for name, _fn in self.jobs:
            if name.endswith(".png"):
                self._write(name, self.encoded[name])
        doc = self.doc
        meta: dict[str, Any] = {"source_format": doc.metadata.source_format, "extra": doc.metadata.extra,
                                "icc_profile": None, "exif": None}
        if doc.metadata.icc_profile:
            meta["icc_profile"] = "data/lucid/profile.icc"
            self.zf.writestr(meta["icc_profile"], doc.metadata.icc_profile)
        if doc.metadata.exif:
            meta["exif"] = "data/lucid/exif.bin"
            self.zf.writestr(meta["exif"], doc.metadata.exif)
        selection = None
        if np.any(doc.selection):
            selection = "data/lucid/selection.png"
            self.zf.writestr(selection, _gray_png(self.encoder.encode, doc.selection))
        active = doc.active_layer.id if doc.active_layer is not None else None
        payload = {"format": LUCID_FORMAT, "version": LUCID_VERSION, "app_version": __version__,
                   "depth": doc.depth, "active_layer": active, "selection": selection, "metadata": meta,
                   "layers": self.records}
        self.zf.writestr(LUCID_JSON, json.dumps(payload, indent=1, ensure_ascii=False).encode())


def _buffer(array: np.ndarray) -> object:
    """What a snapshot's array reads: each snapshot lends a new read-only view of the same live buffer
    (`editor.core.cow`), and the buffer stays unchanged while the cache keeps such a view."""
    return array if array.base is None else array.base


def _common_attrs(layer: Layer) -> dict[str, str]:
    return {"name": layer.name, "x": str(layer.offset[0]), "y": str(layer.offset[1]),
            "opacity": f"{layer.opacity:.6g}", "visibility": "visible" if layer.visible else "hidden",
            "composite-op": BlendMode(layer.blend_mode).value}


def _apply_mask(pixels: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """What other programs should see: alpha × mask (mask 1 = the layer shows)."""
    out = pixels.copy()
    out[..., 3] = from_float(to_float(pixels[..., 3]) * mask, pixels.dtype)
    return out


def _gray_png(encode, mask: np.ndarray) -> bytes:
    """A mask or selection as a 16-bit gray PNG tagged linear gray (coverage, not a colour)."""
    return encode(from_float(mask, np.uint16), icc_profile=linear_gray_profile())


def _thumbnail(base: np.ndarray, patches: list[tuple[int, int, np.ndarray]], icc: bytes) -> bytes:
    """≤ 256 px PNG of the composite (`merged_parts`): decimated and area-averaged down first (cheap
    on 24 MP), then Lanczos."""
    h, w = base.shape[:2]
    scale = THUMBNAIL_SIZE / max(h, w)
    step = max(1, int(0.125 / scale)) if scale < 0.25 else 1  # keeps ≥ 8× the final size
    small = thumbnail_source(base, patches, step)
    if scale < 0.25:  # area-average to 4× the final size, then Pillow's Lanczos
        small = cv2.resize(small, (max(1, round(w * scale * 4)), max(1, round(h * scale * 4))),
                           interpolation=cv2.INTER_AREA)
    image = Image.fromarray(np.ascontiguousarray(convert_depth(small, np.uint8)), "RGBA")
    image.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    image.save(buf, format="PNG", icc_profile=icc)
    return buf.getvalue()


# ----------------------------------------------------------------------------------------- load

def open_any(path: str | Path, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> Document:
    """Open a project (.ora, or any zip that says it is OpenRaster) or a plain image."""
    path = Path(path)
    if is_project(path):
        return load_project(path, max_pixels=max_pixels)
    return load_document(path, max_pixels=max_pixels)


def is_project(path: str | Path) -> bool:
    """True for `.ora` names and for zips whose first entry says `image/openraster`."""
    path = Path(path)
    return path.suffix.lower() == ".ora" or _looks_like_ora(path)


def _looks_like_ora(path: Path) -> bool:
    if not is_regular_file(path):  # a FIFO named x.png would block open() forever
        return False
    try:
        with path.open("rb") as fh:
            head = fh.read(54)
    except OSError:
        return False
    return head.startswith(b"PK\x03\x04") and head[30:38] == b"mimetype" and MIMETYPE in head


def load_project(path: str | Path, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> Document:
    """Read an OpenRaster file into an editable Document; hostile or damaged files raise ProjectError."""
    path = Path(path)
    name = path.name
    if not path.is_file():
        raise ProjectError(f"{name}: file not found", str(path))
    try:
        with zipfile.ZipFile(path) as zf:
            return _Reader(name, zf, max_pixels).document(path)
    except (ProjectError, BudgetExceeded):
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile) as exc:
        raise ProjectError(f"{name}: not an OpenRaster project (not a valid zip file)", str(exc)) from exc
    except ImageLoadError as exc:
        raise ProjectError(f"{name}: a layer image is damaged ({exc.message})", exc.detail) from exc
    except MemoryError as exc:
        raise ProjectError(f"{name}: not enough memory to open this project", str(exc)) from exc
    except Exception as exc:  # zlib, struct, OSError, ValueError … from damaged members
        detail = f"{type(exc).__name__}: {exc}"
        raise ProjectError(f"{name}: the project file is damaged ({exc})", detail) from exc


@dataclass
class _Reader:
    name: str
    zf: zipfile.ZipFile
    max_pixels: int
    infos: dict[str, zipfile.ZipInfo] = field(default_factory=dict)
    layer_count: int = 0
    decoded: dict[str, np.ndarray] = field(default_factory=dict)  # member → its one shared buffer
    embedded_icc: bytes | None = None  # the first RGB profile a layer PNG carries

    def fail(self, what: str) -> ProjectError:
        return ProjectError(f"{self.name}: {what}")

    def document(self, path: Path) -> Document:
        self._check_members()
        mimetype = self.read("mimetype") if "mimetype" in self.infos else None
        if mimetype is None or mimetype.strip() != MIMETYPE:
            raise self.fail("not an OpenRaster project (missing or wrong 'mimetype' entry)")
        if "stack.xml" not in self.infos:
            raise self.fail("stack.xml is missing; the project is incomplete")
        root = self._parse_xml(self.read("stack.xml"))
        if root.tag != "image":
            raise self.fail("stack.xml does not describe an image")
        width, height = self._int(root, "w"), self._int(root, "h")
        if width <= 0 or height <= 0:
            raise self.fail(f"invalid canvas size {width}×{height}")
        if width * height > self.max_pixels:
            limit = f"{self.max_pixels / 1e6:.0f}"
            raise self.fail(f"canvas {width}×{height} is over the limit of {limit} megapixels")
        top = root.find("stack")
        if top is None:
            raise self.fail("stack.xml has no layer stack")
        lucid = self._lucid_json()
        elements = list(_walk(top))
        records = self._records_for(lucid, elements)
        self._check_budget(width, height, lucid, elements, records)
        self._prefetch(elements, records)
        raw_layers = GroupLayer("root")
        self._fill(raw_layers, top, iter(records), 0)
        depth = int(lucid["depth"]) if lucid and lucid.get("depth") in (8, 16) else _max_depth(raw_layers)
        metadata = self._metadata(lucid)
        if lucid is None and metadata.icc_profile is None:
            metadata.icc_profile = self.embedded_icc  # another program's file: its layers' profile
        doc = Document(width, height, depth=depth, metadata=metadata)
        doc.root.children.extend(raw_layers.children)
        converted: dict[int, np.ndarray] = {}  # shared buffers stay shared at the document's depth
        for layer in doc.all_layers():
            if isinstance(layer, PixelLayer) and layer.pixels.dtype != doc.dtype:
                key = id(layer.pixels)
                if key not in converted:
                    converted[key] = convert_depth(layer.pixels, doc.dtype)
                    converted[key].flags.writeable = False
                layer.pixels = converted[key]
        if lucid:
            doc.active_layer = doc.find(str(lucid.get("active_layer"))) if lucid.get("active_layer") else None
            if lucid.get("selection"):
                doc.selection = self._gray(str(lucid["selection"]), (height, width))
        if doc.active_layer is None and doc.layers:
            doc.active_layer = doc.layers[-1]
        doc.path = path
        doc.modified = False
        return doc

    # -- members ----------------------------------------------------------------------------
    def _check_members(self) -> None:
        infos = self.zf.infolist()
        if len(infos) > MAX_MEMBERS:
            raise self.fail(f"too many entries in the zip ({len(infos)})")
        total = 0
        for info in infos:
            member = info.filename
            if unsafe_member_name(member):
                raise self.fail(f"refusing unsafe path inside the zip: {member!r}")
            if info.file_size > MAX_MEMBER_BYTES:
                raise self.fail(f"zip entry {member!r} declares {info.file_size} bytes; refusing it")
            ratio = info.file_size // max(1, info.compress_size)
            if info.file_size > RATIO_FLOOR and ratio > MAX_RATIO:
                raise self.fail(f"zip entry {member!r} is compressed {ratio}:1 (a zip bomb); refusing it")
            total += info.file_size
            self.infos[posixpath.normpath(member)] = info
        if total > MAX_TOTAL_BYTES:
            raise self.fail("the project unpacks to more than 16 GiB; refusing it")

    def _check_budget(self, width: int, height: int, lucid: dict[str, Any] | None,
                      elements: list[ET.Element], records: list[dict[str, Any]]) -> None:
        """Everything decoding will hold — the canvas, each distinct image member once (layers naming
        the same PNG share it), each mask — summed from the headers and checked before any decoding."""
        sizes: dict[str, tuple[int, int, int]] = {}
        masks = 0
        for elem, record in zip(elements, records, strict=True):
            if elem.tag != "layer":
                continue
            for member in (elem.get("src"), record.get("pixels")):
                if member and posixpath.normpath(str(member)) not in sizes:
                    sizes[posixpath.normpath(str(member))] = self._header(str(member))
            if record.get("mask"):
                w, h, _ = self._header(str(record["mask"]))
                masks += w * h * MASK_BYTES_PER_PIXEL
        depth = 16 if (lucid or {}).get("depth") == 16 or any(d == 16 for *_, d in sizes.values()) else 8
        layers = sum(layer_bytes(w, h, depth) for w, h, _ in sizes.values())
        need = canvas_bytes(width, height) + masks + layers
        current_budget().check(need, f"{self.name}: opening it ({width}×{height} canvas, "
                                     f"{len(elements)} layer{'' if len(elements) == 1 else 's'})")

    def _header(self, member: str) -> tuple[int, int, int]:
        """(width, height, depth) of an image member from its first bytes, within the pixel limit."""
        info = self.infos.get(posixpath.normpath(member))
        if info is None or info.is_dir():
            raise self.fail(f"missing part {member!r}; the project is incomplete")
        with self.zf.open(info) as fh:
            head = fh.read(1 << 16)
        size = header_size(head, member) or header_size(self.read(member), member)
        if size is None:
            raise self.fail(f"a layer image is damaged ({member}: not an image Lucid can read)")
        if size[0] * size[1] > self.max_pixels:
            raise self.fail(f"{member} is {size[0]}×{size[1]}, over the limit of "
                            f"{self.max_pixels / 1e6:.0f} megapixels")
        return size

    def read(self, member: str) -> bytes:
        info = self.infos.get(posixpath.normpath(member))
        if info is None or info.is_dir():
            raise self.fail(f"missing part {member!r}; the project is incomplete")
        with self.zf.open(info) as fh:
            data = fh.read(info.file_size + 1)
        if len(data) != info.file_size:
            raise self.fail(f"zip entry {member!r} is not the size it declares")
        return data

    def _parse_xml(self, data: bytes) -> ET.Element:
        try:
            return SafeET.fromstring(data, forbid_dtd=True)
        except DefusedXmlException as exc:
            raise self.fail("stack.xml declares a DTD or entities, which Lucid refuses for safety") from exc
        except (ET.ParseError, ValueError) as exc:
            raise self.fail(f"stack.xml is not valid XML ({exc})") from exc

    def _int(self, elem: ET.Element, attr: str, default: int | None = None) -> int:
        value = elem.get(attr)
        if value is None and default is not None:
            return default
        try:
            return round(float(value))  # type: ignore[arg-type]
        except (TypeError, ValueError, OverflowError):
            raise self.fail(f"<{elem.tag}> has an invalid {attr}={value!r}") from None

    def _float(self, elem: ET.Element, attr: str, default: float) -> float:
        try:
            value = float(elem.get(attr, default))
        except ValueError:
            raise self.fail(f"<{elem.tag}> has an invalid {attr}={elem.get(attr)!r}") from None
        return default if value != value else min(1.0, max(0.0, value))  # NaN → default

    # -- Lucid extras ------------------------------------------------------------------------
    def _lucid_json(self) -> dict[str, Any] | None:
        if LUCID_JSON not in self.infos:
            return None
        try:
            data = json.loads(self.read(LUCID_JSON))
        except (ValueError, UnicodeDecodeError) as exc:
            raise self.fail(f"Lucid's project data is damaged ({exc})") from exc
        if not isinstance(data, dict) or data.get("format") != LUCID_FORMAT:
            raise self.fail("Lucid's project data is not in a format this version knows")
        if int(data.get("version", 0)) > LUCID_VERSION:
            raise self.fail(f"made by a newer Lucid (project format {data.get('version')}); please update")
        if not isinstance(data.get("layers"), list):
            raise self.fail("Lucid's project data has no layer list")
        return data

    def _records_for(self, lucid: dict[str, Any] | None, elements: list[ET.Element]) -> list[dict[str, Any]]:
        """Lucid records match stack.xml elements in document order; if another program changed the
        stack (counts or sources differ), the extras no longer apply and the file opens as plain ORA."""
        if lucid is None:
            return [{} for _ in elements]
        records = lucid["layers"]
        plain = [{} for _ in elements]
        if len(records) != len(elements) or not all(isinstance(r, dict) for r in records):
            return plain
        for rec, elem in zip(records, elements, strict=True):
            kind_ok = (rec.get("kind") == "group") == (elem.tag == "stack")
            if not kind_ok or (elem.tag == "layer" and rec.get("src") != elem.get("src")):
                return plain
        return records

    def _metadata(self, lucid: dict[str, Any] | None) -> Metadata:
        meta = Metadata(source_format="ORA")
        info = (lucid or {}).get("metadata") or {}
        if not isinstance(info, dict):
            return meta
        if info.get("icc_profile"):
            meta.icc_profile = self.read(str(info["icc_profile"]))
            if not is_icc_profile(meta.icc_profile):
                raise self.fail(f"{info['icc_profile']} is not an ICC colour profile")
        if info.get("exif"):
            meta.exif = self.read(str(info["exif"]))
        if isinstance(info.get("extra"), dict):
            meta.extra = {str(k): str(v) for k, v in info["extra"].items()}
        if info.get("source_format"):
            meta.source_format = str(info["source_format"])
        return meta

    def _prefetch(self, elements: list[ET.Element], records: list[dict[str, Any]]) -> None:
        """Decode the layer images on a thread pool (Pillow releases the GIL) before building the tree.

        A masked layer's baked image (`src`) is not decoded: Lucid reads the unmasked pixels instead,
        and needs only the baked image's size (from its IHDR) to check the two agree.
        """
        members: list[str] = []
        for elem, rec in zip(elements, records, strict=True):
            if elem.tag != "layer" or not elem.get("src"):
                continue
            if rec.get("mask"):
                members += [str(rec["pixels"])] if rec.get("pixels") else []
                members.append(str(rec["mask"]))
            else:
                members.append(str(elem.get("src")))
        unique = [m for m in dict.fromkeys(members) if posixpath.normpath(m) in self.infos]
        reads = [(m, self.read(m)) for m in unique]  # the zip is read from one thread
        decoded = run_parallel(
            (m, lambda m=m, data=data: decode_image_bytes(data, m, max_pixels=self.max_pixels))
            for m, data in reads)
        for m, img in decoded:
            self._keep(posixpath.normpath(m), img)

    # -- tree ----------------------------------------------------------------------------------
    def _fill(self, group: GroupLayer, stack: ET.Element, records, level: int) -> None:
        if level > MAX_DEPTH:
            raise self.fail("layer groups are nested too deeply")
        children: list[Layer] = []
        for elem in stack:
            if elem.tag not in ("stack", "layer"):
                continue  # text, filters …: not supported, skipped as the spec allows
            self.layer_count += 1
            if self.layer_count > MAX_LAYERS:
                raise self.fail(f"more than {MAX_LAYERS} layers")
            record = next(records)
            common = self._common(elem, record)
            if elem.tag == "stack":
                isolation = elem.get("isolation", "auto")
                isolated = record.get("isolated")
                if not isinstance(isolated, bool):
                    isolated = isolation == "isolate" or common["opacity"] < 1 or \
                        common["blend_mode"] != BlendMode.NORMAL
                sub = GroupLayer(common.pop("name"), isolated=isolated, **common)
                self._fill(sub, elem, records, level + 1)
                children.append(sub)
            else:
                children.append(self._pixel_layer(elem, record, common))
        group.children = list(reversed(children))  # ORA is top first; Lucid is bottom first

    def _common(self, elem: ET.Element, record: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": elem.get("name") or ("Group" if elem.tag == "stack" else "Layer"),
            "visible": elem.get("visibility", "visible") != "hidden",
            "opacity": self._float(elem, "opacity", 1.0),
            "blend_mode": BlendMode.from_ora(elem.get("composite-op")),
            "offset": (self._int(elem, "x", 0), self._int(elem, "y", 0)),
            "locked": bool(record.get("locked", False)),
        }
        if isinstance(record.get("id"), str) and record["id"]:
            out["layer_id"] = record["id"]
        return out

    def _pixel_layer(self, elem: ET.Element, record: dict[str, Any], common: dict[str, Any]) -> Layer:
        src = elem.get("src")
        if not src:
            raise self.fail(f"layer {common['name']!r} has no image (src)")
        name = common.pop("name")
        if record.get("kind") == "adjustment":
            height, width = self._png_size(src)  # the baked pixels are for other programs; Lucid recomputes
            mask = self._gray(str(record["mask"]), (height, width)) if record.get("mask") else None
            try:
                return read_adjustment(name, record, (width, height), mask, common)
            except LucidError as exc:
                raise self.fail(f"layer {name!r}: {exc.message}") from exc
        if not record.get("mask"):
            if record.get("kind") == "result":
                raise self.fail(f"result layer {name!r} has no mask")
            return PixelLayer(name, self._image(src), shared=True, **common)
        if record.get("pixels"):
            pixels = self._image(str(record["pixels"]))
            if self._png_size(src) != pixels.shape[:2]:
                raise self.fail(f"layer {name!r}: the stored pixels do not match the layer size")
        else:
            pixels = self._image(src)
        mask = self._gray(str(record["mask"]), pixels.shape[:2])
        if record.get("canvas") is not None:
            pixels, mask, common["offset"] = self._uncrop(name, record["canvas"], pixels, mask,
                                                          common["offset"])
        if record.get("kind") == "result":
            try:
                recipe = Recipe.from_dict(record.get("recipe") or {})
            except (ValueError, TypeError) as exc:
                raise self.fail(f"layer {name!r}: its recipe is damaged ({exc})") from exc
            return ResultLayer(name, pixels, mask, recipe, shared=True, **common)
        return PixelLayer(name, pixels, mask=mask, shared=True, **common)

    def _image(self, member: str) -> np.ndarray:
        """Decoded pixels of a member, once per member: layers naming the same PNG share the buffer
        (read-only; a layer copies it on its first edit)."""
        key = posixpath.normpath(member)
        if key not in self.decoded:
            self._keep(key, decode_image_bytes(self.read(member), member, max_pixels=self.max_pixels))
        return self.decoded[key]

    def _keep(self, key: str, img: Any) -> None:
        """Keep a decoded member (read-only, shared) and note the first RGB profile the layers carry."""
        if self.embedded_icc is None and is_rgb_profile(img.icc_profile):
            self.embedded_icc = img.icc_profile
        img.pixels.flags.writeable = False
        self.decoded[key] = img.pixels

    def _png_size(self, member: str) -> tuple[int, int]:
        """(height, width) from a PNG member's IHDR, without decoding it."""
        info = self.infos.get(posixpath.normpath(member))
        if info is None:
            raise self.fail(f"missing part {member!r}; the project is incomplete")
        with self.zf.open(info) as fh:
            head = fh.read(24)
        if len(head) < 24 or head[12:16] != b"IHDR":
            raise self.fail(f"{member} is not a PNG image")
        return int.from_bytes(head[20:24], "big"), int.from_bytes(head[16:20], "big")

    def _uncrop(self, name: str, canvas: Any, pixels: np.ndarray, mask: np.ndarray,
                offset: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, tuple[int, int]]:
        """A result layer saved as its content box: pad it back to the size it had (zeros, mask 0)."""
        try:
            x0, y0, w, h = (int(v) for v in canvas)
        except (TypeError, ValueError):
            raise self.fail(f"layer {name!r}: its stored box is damaged") from None
        bh, bw = pixels.shape[:2]
        if min(x0, y0) < 0 or x0 + bw > w or y0 + bh > h or w * h > self.max_pixels:
            raise self.fail(f"layer {name!r}: its stored box does not fit the layer")
        full = np.zeros((h, w, pixels.shape[2]), pixels.dtype)
        full[y0 : y0 + bh, x0 : x0 + bw] = pixels
        full_mask = np.zeros((h, w), np.float32)
        full_mask[y0 : y0 + bh, x0 : x0 + bw] = mask
        return full, full_mask, (offset[0] - x0, offset[1] - y0)

    def _gray(self, member: str, shape: tuple[int, ...]) -> np.ndarray:
        """A 16-bit gray mask/selection as float32 [0, 1] of exactly `shape`."""
        pixels = self._image(member)
        if pixels.shape[:2] != tuple(shape):
            raise self.fail(f"{member} is {pixels.shape[1]}×{pixels.shape[0]}, "
                            f"but its layer is {shape[1]}×{shape[0]}")
        return to_float(pixels[..., 0])


def _walk(stack: ET.Element):
    """stack.xml elements Lucid reads, in document order (the order Lucid writes its records)."""
    for elem in stack:
        if elem.tag in ("stack", "layer"):
            yield elem
            if elem.tag == "stack":
                yield from _walk(elem)


def _max_depth(root: GroupLayer) -> int:
    layers = [layer for layer in root.walk() if isinstance(layer, PixelLayer)]
    return 16 if any(layer.pixels.dtype == np.uint16 for layer in layers) else 8
