"""The report of a run: ``reconciliation.csv`` (every discrepancy, one per row) and ``reconciliation.html`` (counts
per kind, the discrepancies as a table, the manifest's bad rows), written to one folder.

Both files are replaced atomically, so a reader (or an Airflow asset consumer) never sees half a report. Every
value in the HTML is escaped. The HTML table stops at ``HTML_LIMIT`` rows and says so; the CSV has them all.
Neither file holds personal data: keys, statuses and positions only.
"""

from __future__ import annotations

import csv
import html
import io
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from lockerhub.reconcile.model import Discrepancy, Kind, ReconcileResult

CSV_NAME = "reconciliation.csv"
HTML_NAME = "reconciliation.html"
HTML_LIMIT = 5_000
COLUMNS = ("kind", "partner", "shipment_ref", "parcel_id", "reservation_id", "locker_id", "manifest", "hub", "vendor",
           "why", "action", "outcome")
ABOUT = {
    Kind.MISSING_IN_VENDOR: "the hub has an active booking the vendor does not list",
    Kind.MISSING_IN_HUB: "the TMS manifest lists a parcel the hub never received",
    Kind.STATUS_MISMATCH: "the vendor's status maps to another canonical status than the hub's",
    Kind.ORPHAN_BOOKING: "a live vendor booking no hub parcel refers to",
    Kind.STALE_RESERVATION: "a soft hold past its expiry (or TTL), never confirmed",
}


def row(d: Discrepancy) -> list[str]:
    return [str(d.kind), d.partner or "", d.shipment_ref or "", d.parcel_id or "", d.reservation_id or "",
            d.locker_id or "", d.says_manifest(), d.says_hub(), d.says_vendor(), d.why, str(d.action), d.outcome]


def write_report(result: ReconcileResult, out_dir: Path) -> tuple[Path, Path]:
    """Write both files into ``out_dir`` (created when missing); returns (csv path, html path)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(row(d) for d in result.discrepancies)
    csv_path, html_path = out_dir / CSV_NAME, out_dir / HTML_NAME
    _replace(csv_path, buffer.getvalue())
    _replace(html_path, render_html(result))
    return csv_path, html_path


def render_html(result: ReconcileResult) -> str:
    e = html.escape
    when = result.started_at.strftime("%Y-%m-%d %H:%M:%S UTC")
    mode = " (dry run: nothing was changed)" if result.dry_run else ""
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>lockerhub reconciliation {e(when)}</title>", f"<style>{STYLE}</style></head><body>",
        f"<h1>Reconciliation{e(mode)}</h1>",
        (f"<p>Started {e(when)}. Manifest <code>{e(result.manifest)}</code> ({result.manifest_rows:,} rows, "
        f"{result.bad_rows:,} bad), hub ({result.hub_parcels:,} parcels), vendor <code>{e(result.vendor)}</code> "
        f"({result.vendor_reservations:,} reservations).</p>"),
        "<h2>Counts</h2>", "<table><thead><tr><th>kind</th><th>count</th><th>meaning</th></tr></thead><tbody>",
    ]
    counts = result.counts
    for kind in Kind:
        parts.append(f'<tr><td>{e(str(kind))}</td><td class="n">{counts[str(kind)]:,}</td><td>{e(ABOUT[kind])}</td>'
                     "</tr>")
    parts.append(f'<tr class="total"><td>total</td><td class="n">{len(result.discrepancies):,}</td><td></td></tr>')
    parts.append("</tbody></table>")
    if result.outcomes:
        parts.append("<h2>Outcomes</h2><table><thead><tr><th>outcome</th><th>count</th></tr></thead><tbody>")
        parts.extend(f'<tr><td>{e(k)}</td><td class="n">{v:,}</td></tr>' for k, v in result.outcomes.items())
        parts.append("</tbody></table>")
    parts.append("<h2>Discrepancies</h2>")
    parts.extend(_table(result.discrepancies))
    if result.manifest_errors:
        parts.append(f"<h2>Manifest rows that could not be compared ({result.bad_rows:,})</h2><ul>")
        parts.extend(f"<li><code>{e(line)}</code></li>" for line in result.manifest_errors[:HTML_LIMIT])
        parts.append("</ul>")
    parts.append("</body></html>\n")
    return "\n".join(parts)


def _table(discrepancies: list[Discrepancy]) -> Iterable[str]:
    if not discrepancies:
        yield "<p>None: the three sources agree.</p>"
        return
    if len(discrepancies) > HTML_LIMIT:
        yield (f"<p>The first {HTML_LIMIT:,} of {len(discrepancies):,} are shown; <code>{CSV_NAME}</code> has "
               "them all.</p>")
    yield "<table><thead><tr>" + "".join(f"<th>{c}</th>" for c in COLUMNS) + "</tr></thead><tbody>"
    for d in discrepancies[:HTML_LIMIT]:
        yield "<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in row(d)) + "</tr>"
    yield "</tbody></table>"


def _replace(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a report is meant to be read (it holds no personal data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2em;color:#222}"
    "table{border-collapse:collapse;margin:1em 0;font-size:.9em}"
    "th,td{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}"
    "th{background:#f0f0f0}td.n{text-align:right}tr.total td{font-weight:bold}code{font-size:.95em}"
)
