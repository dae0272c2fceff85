"""Volume mounts as create takes them, and the volume file routes."""

from __future__ import annotations

import pytest

from runtools import _calls as calls
from runtools import routes
from runtools._base import create_request


def test_volume_mounts_from_strings_and_mappings() -> None:
    req = create_request(volumes=["data:/mnt/data", "models:/models:ro", {"volume": "x", "path": "/x"}])
    assert req["volumes"] == [
        {"volume": "data", "path": "/mnt/data"},
        {"volume": "models", "path": "/models", "read_only": True},
        {"volume": "x", "path": "/x"},
    ]
    assert "volumes" not in create_request()


@pytest.mark.parametrize("bad", ["data", "data:mnt", ":/mnt", "data:/mnt:xx", "a:/b:ro:c"])
def test_bad_volume_mounts(bad: str) -> None:
    with pytest.raises(ValueError):
        calls.volume_mount(bad)


def test_volume_files_use_the_volume_routes() -> None:
    assert calls.file(routes.VOLUME_FILES.read, "data", "/a").route.path == "/v1/volumes/{ref}/files"
    assert routes.SANDBOX_FILES.list.path == "/v1/sandboxes/{ref}/files/list"
