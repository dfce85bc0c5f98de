import os
import stat

import pytest

from seqviz.core.atomic import atomic_path


def test_the_file_appears_only_when_the_block_finishes(tmp_path):
    target = tmp_path / "out.bin"
    with atomic_path(target) as temp:
        temp.write_bytes(b"new")
        assert not target.exists()
        assert temp.parent == tmp_path and temp.suffix == ".bin"
    assert target.read_bytes() == b"new"
    assert os.listdir(tmp_path) == ["out.bin"]


def test_a_failure_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_path(target) as temp:
        temp.write_bytes(b"half")
        raise RuntimeError("disk full")
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["out.bin"]


def test_the_written_file_has_the_usual_permissions_not_private_ones(tmp_path):
    umask = os.umask(0o022)
    try:
        with atomic_path(tmp_path / "out.bin") as temp:
            temp.write_bytes(b"x")
    finally:
        os.umask(umask)
    assert stat.S_IMODE((tmp_path / "out.bin").stat().st_mode) == 0o644
