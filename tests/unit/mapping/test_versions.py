"""lockerhub.mapping.versions: the versions of a mapping in one folder, picked by date."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from lockerhub.errors import ConfigError, ErrorGroup, LockerhubError
from lockerhub.mapping.versions import MappingSet, check_paths, resolve


def write(path: Path, *, mapping_id: str = "acme/out", version: int = 1, start: str | None = None,
          end: str | None = None, extra: str = "") -> Path:
    """A canonical -> json mapping; ``effective_from`` (when given) is on line 3, its value at column 17."""
    lines = [f"mapping: {mapping_id}", f"version: {version}"]
    if start:
        lines.append(f"effective_from: {start}")
    if end:
        lines.append(f"effective_to: {end}")
    lines += ["source: {format: canonical}", "target: json", "fields:", "  ref: reference", extra]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines), "utf-8")
    return path


def test_single_file_without_dates_is_always_in_force(tmp_path: Path) -> None:
    file = write(tmp_path / "out.yaml")
    mappings = MappingSet.load(tmp_path)
    assert mappings.ids() == ["acme/out"]
    assert mappings.select("acme/out", date(1999, 1, 1)).file == str(file)
    assert mappings.select("acme/out", date(2099, 1, 1)).file == str(file)


def test_latest_effective_from_wins_and_earlier_version_ends_the_day_before(tmp_path: Path) -> None:
    v1 = write(tmp_path / "out.v1.yaml", version=1, start="2026-01-01")
    v2 = write(tmp_path / "out.v2.yaml", version=2, start="2026-03-01")
    mappings = MappingSet.load(tmp_path)
    assert mappings.select("acme/out", date(2026, 1, 1)).file == str(v1)
    assert mappings.select("acme/out", date(2026, 2, 28)).file == str(v1)
    assert mappings.select("acme/out", date(2026, 3, 1)).file == str(v2)
    assert mappings.select("acme/out", date(2030, 1, 1)).file == str(v2)
    assert [v.window() for v in mappings.versions("acme/out")] == ["2026-01-01..2026-02-28", "2026-03-01.."]
    assert mappings.latest("acme/out").file == str(v2)


def test_no_version_in_force_names_id_date_and_windows(tmp_path: Path) -> None:
    v1 = write(tmp_path / "out.v1.yaml", version=1, start="2026-01-01", end="2026-01-31")
    v2 = write(tmp_path / "out.v2.yaml", version=2, start="2026-03-01")
    mappings = MappingSet.load(tmp_path)
    for day in (date(2025, 12, 31), date(2026, 2, 15)):
        with pytest.raises(LockerhubError) as info:
            mappings.select("acme/out", day)
        assert str(info.value) == (
            f"error: no version of mapping 'acme/out' is in force on {day.isoformat()}: expected a date in one of "
            f"its windows, found versions v1 2026-01-01..2026-01-31 ({v1}), v2 2026-03-01.. ({v2})")


def test_overlapping_windows_are_a_load_error_naming_both_files(tmp_path: Path) -> None:
    v1 = write(tmp_path / "out.v1.yaml", version=1, start="2026-01-01", end="2026-06-30")
    v2 = write(tmp_path / "out.v2.yaml", version=2, start="2026-03-01")
    with pytest.raises(ErrorGroup) as info:
        MappingSet.load(tmp_path)
    assert [e.render() for e in info.value.errors] == [
        (f"{v2}:3:17: error: mapping 'acme/out' v2 (2026-03-01..) overlaps v1 (2026-01-01..2026-06-30) in {v1} "
         "(end the earlier version with effective_to, or start this one later)")]


def test_two_versions_without_dates_overlap(tmp_path: Path) -> None:
    write(tmp_path / "a.yaml", version=1)
    b = write(tmp_path / "b.yaml", version=2)
    with pytest.raises(ErrorGroup) as info:
        MappingSet.load(tmp_path)
    (error,) = info.value.errors
    assert error.location is not None and error.location.file == str(b)
    assert f"overlaps v1 (..) in {tmp_path / 'a.yaml'}" in error.message


def test_duplicate_version_numbers_name_both_files(tmp_path: Path) -> None:
    a = write(tmp_path / "a.yaml", version=2, start="2026-01-01")
    b = write(tmp_path / "b.yaml", version=2, start="2026-03-01")
    with pytest.raises(ErrorGroup) as info:
        MappingSet.load(tmp_path)
    assert [e.render() for e in info.value.errors] == [
        f"{b}:2:10: error: version 2 of mapping 'acme/out' is also defined in {a} (give each version its own number)"]


def test_ids_are_grouped_separately(tmp_path: Path) -> None:
    write(tmp_path / "out.yaml", mapping_id="acme/out")
    write(tmp_path / "status.yaml", mapping_id="acme/status")
    mappings = MappingSet.load(tmp_path)
    assert mappings.ids() == ["acme/out", "acme/status"]
    with pytest.raises(ConfigError) as info:
        mappings.select("acme/stats", date(2026, 1, 1))
    assert "no mapping 'acme/stats'" in str(info.value)
    assert "did you mean 'acme/status'?" in str(info.value)


def test_file_errors_of_every_file_are_collected(tmp_path: Path) -> None:
    a = write(tmp_path / "a.yaml", extra="  bad: {op: nope}")
    b = write(tmp_path / "b.yaml", mapping_id="acme/b", extra="  other: {op: const}")
    mappings, errors = MappingSet.collect(tmp_path)
    assert mappings.ids() == []
    assert {e.location.file for e in errors if e.location} == {str(a), str(b)}
    with pytest.raises(ErrorGroup):
        MappingSet.load(tmp_path)


def test_empty_folder_and_missing_path(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no mapping files in folder"):
        MappingSet.load(tmp_path)
    with pytest.raises(ConfigError, match="no such file or folder"):
        MappingSet.load(tmp_path / "nope")


def test_a_file_is_a_set_of_one(tmp_path: Path) -> None:
    write(tmp_path / "out.v1.yaml", version=1)
    v2 = write(tmp_path / "out.v2.yaml", version=2)  # would overlap v1 in the folder
    assert [m.file for m in MappingSet.load(v2)] == [str(v2)]


def test_check_paths_walks_folders_skips_tests_and_reports_conflicts_on_the_file(tmp_path: Path) -> None:
    ok = write(tmp_path / "acme" / "out.yaml")
    write(tmp_path / "acme" / "tests" / "not-a-mapping.yaml", mapping_id="BAD")
    a = write(tmp_path / "beta" / "a.yaml", mapping_id="beta/x", version=1)
    b = write(tmp_path / "beta" / "b.yaml", mapping_id="beta/x", version=1, start="2026-01-01")
    results = dict(check_paths([tmp_path]))
    assert list(results) == [str(ok), str(a), str(b)]
    assert results[str(ok)] == [] and results[str(a)] == []
    assert [e.message for e in results[str(b)]] == [f"version 1 of mapping 'beta/x' is also defined in {a}"]


def test_resolve_file_or_folder(tmp_path: Path) -> None:
    v1 = write(tmp_path / "out.v1.yaml", version=1, end="2026-02-28")
    v2 = write(tmp_path / "out.v2.yaml", version=2, start="2026-03-01")
    assert resolve(v1).file == str(v1)
    assert resolve(tmp_path, on=date(2026, 2, 1)).file == str(v1)
    assert resolve(tmp_path, on=date(2026, 3, 1)).file == str(v2)
    write(tmp_path / "other.yaml", mapping_id="acme/other")
    with pytest.raises(ConfigError, match="several mappings"):
        resolve(tmp_path)
    assert resolve(tmp_path, mapping_id="acme/other").doc.mapping == "acme/other"
