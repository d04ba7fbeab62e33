import pytest

from scaleplan.core.errors import ScaleplanError
from scaleplan.core.files import write_atomic


def test_write_atomic_writes_and_leaves_no_temporary_files(tmp_path):
    path = write_atomic(tmp_path / "out.csv", "a,b\n")
    assert path.read_text() == "a,b\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_write_atomic_never_overwrites_an_input(tmp_path):
    source = tmp_path / "runs.csv"
    source.write_text("keep me")
    with pytest.raises(ScaleplanError, match="an input of this command"):
        write_atomic(source, "gone", inputs=[source])
    assert source.read_text() == "keep me"


def test_failed_write_leaves_the_old_file_whole(tmp_path, monkeypatch):
    path = tmp_path / "report.md"
    path.write_text("old")

    def boom(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("os.replace", boom)
    with pytest.raises(ScaleplanError, match="No space left"):
        write_atomic(path, "new", force=True)
    assert path.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["report.md"]


def test_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(ScaleplanError, match="does not exist"):
        write_atomic(tmp_path / "nope" / "x.png", b"")


def test_written_files_get_the_usual_permissions(tmp_path):
    import os
    import stat

    mask = os.umask(0o022)
    try:
        path = write_atomic(tmp_path / "out.txt", "x")
    finally:
        os.umask(mask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_data_files_parse_the_same_through_the_cache(tmp_path, monkeypatch):
    from scaleplan.core import _yaml

    path = _yaml.DATA / "hardware.yaml"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    first = _yaml.read(path)  # parsed, then cached
    assert list((tmp_path / "cache" / "scaleplan" / "data").glob("data-hardware-*.marshal"))
    assert _yaml.read(path) == first == _yaml.load(path.read_text(encoding="utf-8"))
    (tmp_path / "blocked").write_text("a file where the cache folder would be")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "blocked"))
    assert _yaml.read(path) == first  # an unusable cache is skipped, never an error
