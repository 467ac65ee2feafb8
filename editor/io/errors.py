"""Errors a person sees when a file cannot be read or written: file name first, then what is wrong."""

from __future__ import annotations

from editor.core.errors import LucidError


class ImageLoadError(LucidError):
    """An image file could not be read (missing, not an image, damaged, unsupported)."""


class ImageTooLarge(ImageLoadError):
    """The image declares more pixels than the configured limit (a decompression bomb guard)."""


class ImageSaveError(LucidError):
    """An image could not be written (unsupported format, disk full, permission denied)."""


class ProjectError(LucidError):
    """An OpenRaster project could not be read or written, or looks hostile."""
