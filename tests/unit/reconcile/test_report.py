"""The report: a CSV with one row per discrepancy and a readable, escaped HTML page with counts per kind."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest

from lockerhub.reconcile import Kind
from lockerhub.reconcile import report as report_module
from lockerhub.reconcile.report import COLUMNS


def test_csv_has_one_row_per_discrepancy_with_what_each_source_says(scene) -> None:  # type: ignore[no-untyped-def]
    scene.parcel("P-1", "BOOKED", "rsv-1")
    scene.vendor.add("rsv-1", "deposited")
    scene.vendor.add("rsv-2", "soft", expires=scene.t0 + timedelta(minutes=15))
    manifest = scene.manifest([("acme-tms", "SH-1", "P-1", "BOOKED"), ("acme-tms", "SH-2", "P-9", "")])
    result = scene.run(manifest)
    assert result.csv_path == scene.folder / "out" / "reconciliation.csv"
    rows = list(csv.DictReader(io.StringIO(result.csv_path.read_text("utf-8"))))
    assert tuple(rows[0]) == COLUMNS
    assert [(r["kind"], r["parcel_id"], r["reservation_id"], r["manifest"], r["hub"], r["vendor"], r["action"],
             r["outcome"]) for r in rows] == [
        ("missing_in_hub", "P-9", "", "line 3", "no such parcel", "-", "quarantine", result.discrepancies[0].outcome),
        ("status_mismatch", "P-1", "rsv-1", "line 2: BOOKED", "BOOKED", "DEPOSITED (deposited)",
         "apply_vendor_status", "applied"),
        ("stale_reservation", "", "rsv-2", "-", "no parcel refers to it", "CREATED (soft)", "cancel_at_vendor",
         "cancelled"),
    ]
    assert rows[0]["outcome"].startswith("q-")


def test_html_counts_every_kind_and_escapes_every_value(scene) -> None:  # type: ignore[no-untyped-def]
    hostile = "<script>alert(1)</script>"
    manifest = scene.manifest([("acme-tms", "SH&1", hostile, "")])
    result = scene.run(manifest, dry_run=True)
    page = result.html_path.read_text("utf-8")
    assert hostile not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "SH&amp;1" in page
    for kind in Kind:
        count = 1 if kind is Kind.MISSING_IN_HUB else 0
        assert f'<td>{kind}</td><td class="n">{count}</td>' in page
    assert '<tr class="total"><td>total</td><td class="n">1</td>' in page
    assert page.count("<td>missing_in_hub</td><td>acme-tms</td><td>SH&amp;1</td><td>&lt;script&gt;alert(1)&lt;/script&gt;</td>") == 1
    assert "would quarantine" in page


def test_html_lists_bad_rows_and_a_clean_run_says_the_sources_agree(scene) -> None:  # type: ignore[no-untyped-def]
    result = scene.run(scene.manifest([("acme-tms", "SH-1", "", "")]))
    page = result.html_path.read_text("utf-8")
    assert "None: the three sources agree." in page
    assert "Manifest rows that could not be compared (1)" in page
    assert "column parcel_id: expected a value, found an empty cell; row quarantined as q-000001" in page


def test_the_html_table_stops_at_its_limit_and_points_to_the_csv(scene, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(report_module, "HTML_LIMIT", 2)
    manifest = scene.manifest([("acme-tms", "SH-1", f"P-{i}", "") for i in range(5)])
    result = scene.run(manifest, dry_run=True)
    page = result.html_path.read_text("utf-8")
    assert "The first 2 of 5 are shown; <code>reconciliation.csv</code> has them all." in page
    assert page.count("<td>missing_in_hub</td><td>acme-tms</td>") == 2
    assert result.csv_path.read_text("utf-8").count("missing_in_hub,") == 5


def test_a_second_run_replaces_the_report_in_place(scene) -> None:  # type: ignore[no-untyped-def]
    first = scene.run(scene.manifest([("acme-tms", "SH-1", "P-1", "")]), dry_run=True)
    second = scene.run(scene.manifest([]), dry_run=True)
    assert first.csv_path == second.csv_path
    assert second.csv_path.read_text("utf-8") == ",".join(COLUMNS) + "\n"
    assert sorted(p.name for p in second.csv_path.parent.iterdir()) == ["reconciliation.csv", "reconciliation.html"]
    assert oct(second.csv_path.stat().st_mode & 0o777) == "0o644"


def test_the_summary_is_small_and_json_ready(scene) -> None:  # type: ignore[no-untyped-def]
    import json

    result = scene.run(scene.manifest([("acme-tms", "SH-1", "P-1", "")]), dry_run=True)
    summary = result.as_dict(items=False)
    assert "discrepancies" not in summary
    assert summary["counts"]["missing_in_hub"] == 1 and summary["total"] == 1
    assert summary["report"]["html"] == str(result.html_path)
    assert json.loads(json.dumps(summary)) == summary
