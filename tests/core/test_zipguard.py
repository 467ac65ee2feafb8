"""The one zip-member name guard shared by OpenRaster, TorchScript and wheel reading."""

from __future__ import annotations

import pytest

from editor.core.zipguard import unsafe_member_name, unsafe_member_names


@pytest.mark.parametrize(
    "name",
    [
        "",
        "../evil.png",
        "data/../../x",
        "/etc/passwd",
        "C:evil",
        "c:/x",
        "a\\..\\x",
        "data\\x.png",
        "a\x00b",
        "x:y",
    ],
)
def test_escaping_or_odd_names_are_refused(name: str) -> None:
    assert unsafe_member_name(name)


@pytest.mark.parametrize("name", ["mimetype", "data/layer 1.png", "Thumbnails/thumbnail.png", "a/..b/c"])
def test_ordinary_names_pass(name: str) -> None:
    assert not unsafe_member_name(name)


def test_lists_the_bad_names_in_order() -> None:
    assert unsafe_member_names(["ok.png", "../a", "b/c", "/d"]) == ["../a", "/d"]
