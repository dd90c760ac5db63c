"""The ``lockerhub`` command. Commands stay thin: they parse options, call a library function, print.

Errors a user can fix print as ``file:line:col: error: message`` (one line each, sorted by position) and exit 1;
``--debug`` adds the traceback.
"""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from lockerhub import __version__
from lockerhub.errors import ErrorGroup, LockerhubError

app = typer.Typer(no_args_is_help=True, add_completion=False, rich_markup_mode="rich",
                  help="lockerhub: TMS formats in, locker vendor APIs out, one canonical parcel model.")
connectors_app = typer.Typer(no_args_is_help=True, help="Installed connector plugins.")
quarantine_app = typer.Typer(no_args_is_help=True, help="Input that could not be processed.")
schema_app = typer.Typer(no_args_is_help=True, help="JSON Schemas generated from the canonical model.")
mapping_app = typer.Typer(no_args_is_help=True, help="YAML mappings: validate, test (golden cases), explain, diff.")
app.add_typer(connectors_app, name="connectors")
app.add_typer(quarantine_app, name="quarantine")
app.add_typer(schema_app, name="schema")
app.add_typer(mapping_app, name="mapping")
edi_app = typer.Typer(no_args_is_help=True, help="EDI files (X12, EDIFACT): parse and validate.")
app.add_typer(edi_app, name="edi")

console = Console()
err_console = Console(stderr=True)
_state = {"debug": False}

JsonOpt = Annotated[bool, typer.Option("--json", help="Print data as JSON.")]


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks for errors.")] = False,
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] = False,
) -> None:
    _state["debug"] = debug
    from lockerhub.security import masking

    masking.install()  # log records are redacted; LOCKERHUB_LOG_LEVEL / LOCKERHUB_LOG_FILE set level and file
    if version:
        console.print(f"lockerhub {__version__}")
        raise typer.Exit()


# --------------------------------------------------------------------------- demo / run


def _demo_vendors(value: str) -> str:
    """``--vendors``: known names, each once (a usage error otherwise)."""
    from lockerhub.demo import parse_vendors

    try:
        return ",".join(parse_vendors(value))
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


def _demo_mqtt_url(ctx: typer.Context, value: str) -> str:
    """``--mqtt-url``: an MQTT URL, when the mqtt-cabinet vendor is in ``--vendors`` (never echoed: it may carry a
    password)."""
    from lockerhub.errors import LockerhubError
    from lockerhub.health.mqtt import Broker

    if "mqtt-cabinet" in str(ctx.params.get("vendors") or "").split(","):
        try:
            Broker.from_url(value)
        except LockerhubError:
            raise typer.BadParameter("expected mqtt://host[:port] or mqtts://host[:port]") from None
    return value


@app.command()
def demo(
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same run.")] = 7,
    parcels: Annotated[int, typer.Option(min=1, max=100_000, help="Parcels in the generated CSV drops.")] = 200,
    lockers: Annotated[int, typer.Option(min=1, max=5_000, help="Lockers in the simulated network.")] = 40,
    vendors: Annotated[str, typer.Option(
        callback=_demo_vendors,
        help="Simulated locker vendors side by side, in order of preference (comma-separated): simlocker, inpost, "
             "boxnow, gls, mqtt-cabinet. The network is shared out among them.")] = "simlocker",
    mqtt_url: Annotated[str, typer.Option(
        envvar="LOCKERHUB_MQTT_URL", callback=_demo_mqtt_url,
        help="MQTT broker of the mqtt-cabinet vendor's cabinets (Mosquitto).")] = "mqtt://127.0.0.1:1883",
    as_json: JsonOpt = False,
) -> None:
    """Run the end-to-end pilot on embedded defaults: CSV drops in, lockers booked, status files out.

    Example: [bold]lockerhub demo --seed 7 --parcels 200[/bold]
    Several vendors: [bold]lockerhub demo --vendors inpost,boxnow,gls,mqtt-cabinet[/bold]
    """
    from lockerhub.demo import DemoError, parse_vendors, run_demo

    try:
        summary = run_demo(seed=seed, parcels=parcels, lockers=lockers, vendors=parse_vendors(vendors),
                           mqtt_url=mqtt_url, console=err_console if as_json else console)
    except DemoError as exc:  # one paragraph: what is missing and how to get it
        err_console.print(exc.render(), markup=False, highlight=False, soft_wrap=True)
        _maybe_trace()
        raise typer.Exit(1) from None
    if as_json:
        _print_json(summary.as_dict())
    else:
        summary.print(console)


@app.command()
def run(
    config: Annotated[Path, typer.Argument(help="Hub config YAML (partners, vendors, routing).")],
    interval: Annotated[float, typer.Option(min=0, help="Watch: run again every N seconds (0 = one pass).")] = 0,
    passes: Annotated[int, typer.Option(min=0, help="With --interval: stop after N passes (0 = until Ctrl-C).")] = 0,
    as_json: JsonOpt = False,
) -> None:
    """Run the pipeline: ingest every inbox, book, sync statuses, send status files; once or watching.

    Example: [bold]lockerhub run examples/pilot/lockerhub.yaml --interval 30[/bold]
    """
    from lockerhub.runtime.pipeline import watch

    for result in watch(config, interval=interval, passes=passes or (1 if interval == 0 else None)):
        if as_json:
            _print_json(result.as_dict())
        else:
            result.print(console)


@app.command()
def ingest(
    file: Annotated[Path, typer.Argument(help="A TMS drop file.")],
    config: Annotated[Path, typer.Option(help="Hub config YAML.")],
    partner: Annotated[str | None, typer.Option(help="Trading partner id (EDI files: found from the envelope's "
                                                     "sender when omitted).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Ingest one file for a partner (parcels created, bad records quarantined, file archived).

    Example: [bold]lockerhub ingest inbox/acme-tms/drop.csv --partner acme-tms --config lockerhub.yaml[/bold]
    """
    from dataclasses import asdict

    from lockerhub.runtime.hub import Hub
    from lockerhub.runtime.ingest import ingest_file, partner_for

    hub = Hub.open(config)
    partner = partner or partner_for(hub, file)
    if partner not in hub.config.hub.partners:
        raise LockerhubError(f"unknown partner '{partner}'", expected=" or ".join(hub.config.hub.partners))
    report = ingest_file(hub, partner, file)
    if as_json:
        _print_json(asdict(report))
        return
    console.print(f"{report.file}: {report.records} records, {report.accepted} accepted, "
                  f"{report.duplicates} duplicates, {report.quarantined} quarantined -> {report.archived_to}")


@app.command()
def worker(
    config: Annotated[Path, typer.Argument(help="Hub config YAML.")],
    queues: Annotated[str, typer.Option(help="Queues to consume, comma-separated: events, status.")] = "events,status",
    relay: Annotated[bool, typer.Option(help="Also run the outbox relay (one per worker is fine).")] = True,
    prefetch: Annotated[int, typer.Option(min=1, help="Unacknowledged messages this worker may hold.")] = 256,
    batch: Annotated[int, typer.Option(min=1, help="Messages applied per transaction at most.")] = 200,
) -> None:
    """Run the bus worker: the outbox relay and the consumers, until SIGTERM or Ctrl-C (graceful: the batch in
    hand is finished and acknowledged). The broker is LOCKERHUB_BROKER_URL (embedded when unset).

    Example: [bold]LOCKERHUB_BROKER_URL=amqp://rabbitmq.internal:5672// lockerhub worker lockerhub.yaml[/bold]
    """
    from lockerhub.bus import Topology, Worker
    from lockerhub.runtime.hub import Hub

    hub = Hub.open(config)
    topology = Topology(hub.settings.resolved_broker_url(), prefix=hub.settings.bus_prefix)
    wanted = tuple(q.strip() for q in queues.split(",") if q.strip())
    unknown = sorted(set(wanted) - {"events", "status"})
    if unknown:
        raise LockerhubError("--queues", expected="events and/or status", found=", ".join(unknown))
    ready = (f"worker: consuming {', '.join(wanted)} on {topology.masked_url()}"
             f"{' with the outbox relay' if relay else ''}; stop with SIGTERM or Ctrl-C")
    stats = Worker(hub, topology, queues=wanted, relay=relay, prefetch=prefetch, batch=batch,
                   on_ready=lambda: err_console.print(ready)).run()
    err_console.print(f"worker stopped: {stats.applied} applied, {stats.published} published, {stats.retried} "
                      f"retries, {stats.dead_lettered} dead-lettered, {stats.quarantined} quarantined")
    hub.close()


# --------------------------------------------------------------------------- connectors


@connectors_app.command("list")
def connectors_list(
    as_json: JsonOpt = False,
    strict: Annotated[bool, typer.Option(help="Fail when a plugin cannot load (for CI).")] = False,
) -> None:
    """List installed connectors with kind, version and capabilities.

    Example: [bold]lockerhub connectors list[/bold]
    """
    from lockerhub.plugins.registry import registry

    rows = []
    for info in registry().plugins(strict=strict):
        cls = info.cls
        rows.append({
            "id": info.id, "package": info.distribution,
            "kind": str(cls.kind) if cls else "-", "version": cls.version if cls else info.dist_version,
            "capabilities": sorted(str(c) for c in cls.capabilities) if cls else [],
            "error": info.error,
        })
    if as_json:
        _print_json(rows)
        return
    table = Table(title="Installed connectors")
    for col in ("id", "kind", "version", "capabilities", "package"):
        table.add_column(col)
    for r in rows:
        caps = ", ".join(r["capabilities"]) if not r["error"] else f"[red]failed to load: {r['error']}[/red]"
        table.add_row(r["id"], r["kind"], r["version"], caps, r["package"])
    console.print(table)


@connectors_app.command("check")
def connectors_check(
    connector_id: Annotated[str, typer.Argument(metavar="ID", help="Connector id, e.g. csv.")],
    config: Annotated[Path, typer.Option(help="YAML file with the connector's config.")],
) -> None:
    """Validate a connector config, then try the connection; say exactly what is wrong.

    Example: [bold]lockerhub connectors check csv --config csv.yaml[/bold]
    """
    from lockerhub import _yaml
    from lockerhub.config import env_hint, resolve_paths
    from lockerhub.plugins.registry import registry

    cls = registry().load(connector_id)
    data, positions = _yaml.load(config)
    if isinstance(data, dict):
        data = resolve_paths(cls.config_model, data, config.parent)
    cfg = _yaml.validate(cls.config_model, data, file=str(config), positions=positions, env_hint=env_hint(cls))
    result = cls(cfg).check()
    table = Table(title=f"connector {connector_id}: check")
    table.add_column("check")
    table.add_column("result")
    table.add_column("detail")
    for item in result.items:
        table.add_row(item.name, "[green]ok[/green]" if item.ok else "[red]failed[/red]", item.message)
    console.print(table)
    if not result.ok:
        raise typer.Exit(1)


# --------------------------------------------------------------------------- quarantine


def _store():  # type: ignore[no-untyped-def]
    from lockerhub.settings import Settings
    from lockerhub.store import Store

    settings = Settings()
    store = Store(settings.resolved_database_url())
    store.migrate()
    return settings, store


def _short(location: str) -> str:
    """A location relative to the working directory when it is below it (tables stay readable)."""
    cwd = str(Path.cwd()) + "/"
    return location[len(cwd):] if location.startswith(cwd) else location


@quarantine_app.command("list")
def quarantine_list(
    as_json: JsonOpt = False,
    all_states: Annotated[bool, typer.Option("--all", help="Include replayed and discarded items.")] = False,
) -> None:
    """List quarantined items with where and why (payloads are not shown).

    Example: [bold]lockerhub quarantine list[/bold]
    """
    from dataclasses import asdict

    from lockerhub.runtime import quarantine

    _, store = _store()
    items = quarantine.list_items(store, state=None if all_states else "open")
    if as_json:
        _print_json([asdict(i) for i in items])
        return
    table = Table(title=f"Quarantine ({len(items)} item(s))")
    for col in ("id", "stage", "location", "reason", "attempts"):
        table.add_column(col, overflow="fold")
    for i in items:
        reasons = "\n".join(e.split(" error: ", 1)[-1] for e in i.errors)
        table.add_row(i.qid, i.stage, _short(i.location), reasons, str(i.attempts))
    console.print(table)


@quarantine_app.command("show")
def quarantine_show(
    qid: Annotated[str, typer.Argument(help="Item id, e.g. q-000001.")],
    reveal: Annotated[bool, typer.Option(help="Decrypt and print the original payload (contains PII).")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Show one quarantined item; the original payload only with --reveal.

    Example: [bold]lockerhub quarantine show q-000001 --reveal[/bold]
    """
    from dataclasses import asdict

    from lockerhub.runtime import quarantine
    from lockerhub.security.crypto import FieldCipher

    settings, store = _store()
    cipher = None
    if reveal:
        keys = settings.pii_keys.get_secret_value() if settings.pii_keys else None
        cipher = FieldCipher.from_env_or_file(keys, settings.data_dir)
    item = quarantine.show(store, qid, cipher=cipher)
    if as_json:
        _print_json(asdict(item))
        return
    console.print(f"[bold]{item.qid}[/bold] ({item.state}, stage {item.stage}, attempts {item.attempts})")
    console.print(f"source:   {item.source}\nlocation: {item.location}")
    for e in item.errors:
        console.print(f"  {e}", markup=False)
    if item.payload is not None:
        console.print("payload:", markup=False)
        console.print(item.payload, markup=False)


ActorOpt = Annotated[str | None, typer.Option(help="Who acts, for the audit log (default: LOCKERHUB_ACTOR or the "
                                                   "OS user).")]


@quarantine_app.command("replay")
def quarantine_replay(
    config: Annotated[Path, typer.Option(help="Hub config YAML: partners, vendor and mappings as they are now.")],
    qids: Annotated[list[str] | None, typer.Argument(metavar="QID", help="Item ids, e.g. q-000001.")] = None,
    all_open: Annotated[bool, typer.Option("--all", help="Every open item.")] = False,
    stage: Annotated[str | None, typer.Option(help="Only items of this stage (read, map, admit, book, ...).")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Say what would happen; change nothing, call no "
                                                            "vendor write.")] = False,
    actor: ActorOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Run quarantined items again from their original payload, through today's config and mapping.

    A booking already made is skipped (never booked twice); a status event applies forward-only.

    Every item is audited as quarantine.replay. Exits 1 when an item fails again.

    Example: [bold]lockerhub quarantine replay q-000012 --config lockerhub.yaml --dry-run[/bold]
    """
    from lockerhub.runtime.hub import Hub
    from lockerhub.runtime.replay import ReplayFilter, replay

    if bool(qids) == all_open:
        raise LockerhubError("which items to replay", expected="item ids (q-000001 ...) or --all, not both",
                             found="both" if qids else "neither")
    hub = Hub.open(config)
    try:
        report = replay(hub, ReplayFilter(tuple(qids or ()), stage), dry_run=dry_run, actor=actor)
    finally:
        hub.close()
    if as_json:
        _print_json(report.as_dict())
    else:
        table = Table(title=f"Quarantine replay{' (dry run: nothing changed)' if dry_run else ''}: "
                            f"{len(report.results)} item(s), {report.failed} failed")
        for col in ("qid", "stage", "location", "outcome", "detail"):
            table.add_column(col, overflow="fold")
        for r in report.results:
            colour = {"replayed": "green", "failed": "red"}.get(r.outcome, "yellow")
            shown = f"would be {r.outcome}" if dry_run and r.outcome != "skipped" else r.outcome
            detail = r.detail + (f"\nvendor: {', '.join(r.vendor_calls)}" if r.vendor_calls else "")
            table.add_row(r.qid, r.stage, _short(r.location), f"[{colour}]{shown}[/{colour}]", detail)
        console.print(table)
    if report.failed:
        raise typer.Exit(1)


@quarantine_app.command("discard")
def quarantine_discard(
    qid: Annotated[str, typer.Argument(help="Item id, e.g. q-000001.")],
    reason: Annotated[str, typer.Option(help="Why it is closed without replay (audited; no personal data).")],
    actor: ActorOpt = None,
) -> None:
    """Close an open item without replaying it; recorded in the audit log as quarantine.discard.

    Example: [bold]lockerhub quarantine discard q-000012 --reason "resent by the partner as ACME-0042"[/bold]
    """
    from lockerhub.runtime.replay import discard

    _, store = _store()
    item = discard(store, qid, reason=reason, actor=actor)
    console.print(f"{item.qid} discarded")


# --------------------------------------------------------------------------- schema


@schema_app.command("export")
def schema_export(
    out: Annotated[Path, typer.Option(help="Folder for the *.schema.json files.")] = Path("schemas"),
    check: Annotated[bool, typer.Option(help="Only report drift; exit 1 if files differ from the code.")] = False,
) -> None:
    """Write JSON Schemas generated from the canonical models.

    Example: [bold]lockerhub schema export --out schemas[/bold]
    """
    from lockerhub.schema import drift, export

    if check:
        stale = drift(out)
        for name in stale:
            err_console.print(f"{out / name}: error: differs from the code; run `lockerhub schema export`")
        raise typer.Exit(1 if stale else 0)
    for path in export(out):
        console.print(f"wrote {path}")


# --------------------------------------------------------------------------- mapping


def _line(text: str, *, err: bool = False) -> None:
    """One line of output exactly as written: no markup, no highlighting, no wrapping."""
    (err_console if err else console).print(text, markup=False, highlight=False, soft_wrap=True)


@mapping_app.command("validate")
def mapping_validate(
    paths: Annotated[list[Path], typer.Argument(help="Mapping files or folders (searched recursively).")],
    as_json: JsonOpt = False,
) -> None:
    """Check mappings without running them: schema, paths, tables, target fields, version windows.

    Example: [bold]lockerhub mapping validate mappings/[/bold]
    """
    from lockerhub.errors import errors_sorted
    from lockerhub.mapping.versions import check_paths

    checked = check_paths(paths)
    failed = any(errors for _, errors in checked)
    if as_json:
        _print_json([{"file": file, "ok": not errors, "errors": [e.render() for e in errors_sorted(errors)]}
                     for file, errors in checked])
        raise typer.Exit(1 if failed else 0)
    for file, errors in checked:
        if not errors:
            _line(f"ok {_short(file)}")
        for error in errors_sorted(errors):
            _line(error.render(), err=True)
    raise typer.Exit(1 if failed else 0)


@mapping_app.command("test")
def mapping_test(
    path: Annotated[Path, typer.Argument(help="A mapping file, a folder of mappings, or a tree of them.")] = Path(
        "mappings"),
    update_golden: Annotated[bool, typer.Option("--update-golden",
                                                help="Rewrite the expected files from what the mappings produce "
                                                     "now (review the diff like code).")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Run the golden cases beside the mappings (tests/<case>.<ext> + <case>.expected.json).

    Example: [bold]lockerhub mapping test mappings/acme-tms[/bold]
    """
    from lockerhub.errors import Location
    from lockerhub.mapping.golden import EXPECTED, run_golden

    results = run_golden(path, update=update_golden)
    if not results:
        raise LockerhubError("no golden cases found", location=Location(file=str(path)),
                             expected=f"a tests/ folder beside the mappings with <case>.<ext> and <case>{EXPECTED}")
    failed = [r for r in results if not r.ok]
    if as_json:
        _print_json([r.as_dict() for r in results])
        raise typer.Exit(1 if failed else 0)
    from rich.text import Text

    table = Table(title=f"Golden cases ({len(results)})")
    table.add_column("case", no_wrap=True)
    for col in ("mapping", "result", "detail"):
        table.add_column(col, overflow="fold")
    colour = {"pass": "green", "updated": "yellow", "fail": "red", "error": "red"}
    for r in results:
        mapping = f"{r.mapping} v{r.version}" if r.mapping else "-"
        table.add_row(Text(_short(r.case)), Text(mapping), Text(r.status, style=colour[r.status]), Text(r.summary))
    console.print(table)
    for r in failed:
        _line(f"{_short(r.case)}: {r.status}" + (f" ({r.mapping} v{r.version}, {_short(r.mapping_file or '')})"
                                                 if r.mapping else ""))
        for line in (r.diff or r.problems):
            _line(line)
    passed = sum(r.status == "pass" for r in results)
    updated = sum(r.status == "updated" for r in results)
    _line(f"{passed} passed, {updated} updated, {len(failed)} failed" if update_golden
          else f"{passed} passed, {len(failed)} failed")
    raise typer.Exit(1 if failed else 0)


@mapping_app.command("explain")
def mapping_explain(
    file: Annotated[Path, typer.Argument(help="A source file in the mapping's format.")],
    mapping: Annotated[Path, typer.Option(help="Mapping file (or folder: the version in force on --on).")],
    connector: Annotated[str | None, typer.Option(help="Locker-vendor connector id: also show the vendor "
                                                       "request JSON paths each field feeds.")] = None,
    on: Annotated[str | None, typer.Option(help="With a folder: the day (YYYY-MM-DD) whose version to use; "
                                                "default today.")] = None,
    extra: Annotated[list[str] | None, typer.Option(
        "--extra", metavar="FIELD=VALUE", help="A field the runtime gives every record, e.g. partner=acme-tms "
                                               "(repeatable).")] = None,
    reveal: Annotated[bool, typer.Option(help="Show the values of personal-data fields (recipient name, phone, "
                                              "e-mail, street).")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Show, for each record and field, the source position, the rule and the value.

    Example: [bold]lockerhub mapping explain drop.csv --mapping mappings/acme-tms --extra partner=acme-tms[/bold]
    """
    from datetime import date

    from lockerhub.mapping.explain import explain
    from lockerhub.mapping.versions import resolve

    try:
        day = date.fromisoformat(on) if on else None
    except ValueError:
        raise LockerhubError("--on", expected="a date YYYY-MM-DD", found=repr(on)) from None
    if any("=" not in item for item in extra or []):
        raise LockerhubError("--extra", expected="FIELD=VALUE, e.g. partner=acme-tms", found="no '='")
    given = dict(item.split("=", 1) for item in extra or [])
    result = explain(file, resolve(mapping, on=day), connector=connector, extra=given, reveal=reveal)
    if as_json:
        _print_json(result.as_dict())
        return
    for line in result.lines():
        _line(line)


@mapping_app.command("diff")
def mapping_diff(
    a: Annotated[Path, typer.Argument(help="The old mapping file.")],
    b: Annotated[Path, typer.Argument(help="The new mapping file.")],
    as_json: JsonOpt = False,
) -> None:
    """List what changed between two mappings (or two versions): header, tables, field rules.

    Example: [bold]lockerhub mapping diff mappings/acme-tms/shipments.v1.yaml mappings/acme-tms/shipments.v2.yaml[/bold]
    """
    from lockerhub.mapping.diff import diff

    result = diff(a, b)
    if as_json:
        _print_json(result.as_dict())
        return
    for line in result.lines():
        _line(line)


@mapping_app.command("reference")
def mapping_reference(
    write: Annotated[Path | None, typer.Option(help="Replace the generated section of this Markdown file.")] = None,
    check: Annotated[bool, typer.Option(help="With --write: only report drift; exit 1 if it differs.")] = False,
) -> None:
    """Print the rule reference generated from the mapping models, or regenerate it in a document.

    Example: [bold]lockerhub mapping reference --write docs/mapping-guide.md[/bold]
    """
    from lockerhub.mapping.reference import render_reference, stale_reference, write_reference

    if write is None:
        sys.stdout.write(render_reference())
        return
    if check:
        stale = stale_reference(write)
        if stale:
            _line(f"{write}: error: the rule reference differs from the code; run "
                  f"`lockerhub mapping reference --write {write}`", err=True)
        raise typer.Exit(1 if stale else 0)
    _line(f"{'wrote' if write_reference(write) else 'unchanged'} {write}")


# --------------------------------------------------------------------------- simulate


def _simulate_faults(value: str) -> str:
    """``--faults``: RATE[:KIND+KIND...] (a usage error otherwise)."""
    from lockerhub.simulator.sandbox import parse_faults

    try:
        parse_faults(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    return value


@app.command()
def simulate(
    lockers: Annotated[int, typer.Option(min=1, max=5_000, help="Lockers in the network (shared out).")] = 40,
    seed: Annotated[int, typer.Option(help="Random seed for the network and access codes.")] = 7,
    port: Annotated[int, typer.Option(help="simlocker's port on 127.0.0.1 (0 = any free port); the other "
                                           "vendors take free ports.")] = 8711,
    vendors: Annotated[str, typer.Option(
        callback=_demo_vendors, help="Simulated vendors side by side (comma-separated): simlocker, inpost, boxnow, "
                                     "gls, mqtt-cabinet.")] = "simlocker",
    faults: Annotated[str, typer.Option(
        callback=_simulate_faults, help="Vendor API faults from the start: RATE[:KIND+KIND...], e.g. 0.1 or "
                                        "0.1:500+503+429 (kinds 500, 502, 503, 429, timeout).")] = "0",
    scenario: Annotated[str | None, typer.Option(
        help="Play a scenario: courier-day, outage, or a scenario YAML file (docs/training.md).")] = None,
    step_every: Annotated[float, typer.Option(min=0, help="Seconds between two scenario steps.")] = 30.0,
    until_done: Annotated[bool, typer.Option(help="Stop once the scenario has played.")] = False,
    folder: Annotated[Path | None, typer.Option(
        help="Where vendors.yaml and sandbox.env are written (default: <data dir>/sandbox).")] = None,
    network: Annotated[Path | None, typer.Option(
        exists=True, dir_okay=False, help="A locker network file (lockers, modules, compartments, opening hours; "
                                          "docs/training.md) instead of --lockers generated ones.")] = None,
    shop_share: Annotated[float, typer.Option(
        min=0, max=1, help="Share of generated lockers inside shops (open Mo-Sa 08:00-20:00).")] = 0.0,
    mqtt_url: Annotated[str, typer.Option(
        envvar="LOCKERHUB_MQTT_URL", callback=_demo_mqtt_url,
        help="MQTT broker of the mqtt-cabinet vendor's cabinets (Mosquitto).")] = "mqtt://127.0.0.1:1883",
) -> None:
    """Serve simulated locker vendors until Ctrl-C: a sandbox for pilots and training (docs/training.md).

    Example: [bold]lockerhub simulate --vendors inpost,boxnow,gls --lockers 1000 --faults 0.1 --scenario outage[/bold]
    """
    from lockerhub.demo import parse_vendors
    from lockerhub.settings import Settings
    from lockerhub.simulator.fleet import FleetError
    from lockerhub.simulator.sandbox import Sandbox, parse_faults, run_sandbox
    from lockerhub.simulator.scenario import StepResult
    from lockerhub.simulator.scenario import load as load_scenario

    played = load_scenario(scenario) if scenario else None

    def ready(box: Sandbox) -> None:
        total = sum(len(sim.world.lockers(per_page=100_000)[0]) for sim in box.sims)
        table = Table(title=f"simulated vendors ({total} lockers shared out)")
        for col in ("vendor", "lockers", "connector variables"):
            table.add_column(col)
        for sim in box.sims:
            count = len(sim.world.lockers(per_page=100_000)[0])
            table.add_row(sim.name, str(count), f"LOCKERHUB_{sim.name.upper().replace('-', '_')}_*")
        console.print(table)
        console.print(f"hub config sections: {box.vendors_file}\nURLs and secrets (0600): {box.env_file}  "
                      f"(set -a; . {box.env_file}; set +a)")
        if played is not None:
            console.print(f"scenario {played.scenario}: {len(played.steps)} steps, one every {step_every:g} s")

    def stepped(result: StepResult) -> None:
        console.print(f"step {result.step}: {result.action} ({result.summary()})")

    try:
        run_sandbox(parse_vendors(vendors), folder=folder or Settings().data_dir / "sandbox", lockers=lockers,
                    seed=seed, faults=parse_faults(faults), scenario=played, step_every=step_every,
                    until_done=until_done, mqtt_url=mqtt_url, simlocker_port=port, network=network,
                    shop_share=shop_share, on_ready=ready, on_step=stepped)
    except FleetError as exc:
        err_console.print(exc.render(), markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        console.print("stopped")


# --------------------------------------------------------------------------- edi


def _edi_connector(file: Path) -> type:
    """The connector for an EDI file's syntax, sniffed from its first bytes (ISA -> x12, UNA/UNB -> edifact)."""
    from lockerhub.errors import Location, ParseError
    from lockerhub.plugins.registry import registry

    try:
        with file.open("rb") as fh:
            head = fh.read(512)
    except OSError as exc:
        raise ParseError("cannot read file", location=Location(file=str(file)), found=exc.strerror) from None
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    syntax = "x12" if text.startswith(b"ISA") else "edifact" if text.startswith((b"UNA", b"UNB")) else None
    if syntax is None:
        raise ParseError("not an EDI file", location=Location(file=str(file), line=1, column=1),
                         expected="ISA (X12), UNA or UNB (EDIFACT)", found=repr(text[:3].decode("latin-1")))
    return registry().load(syntax)


@edi_app.command("validate")
def edi_validate(
    files: Annotated[list[Path], typer.Argument(help="X12 or EDIFACT files.")],
    as_json: JsonOpt = False,
) -> None:
    """Check syntax and envelopes (control numbers, counts, trailers); print every error; exit 1 if any.

    Example: [bold]lockerhub edi validate inbox/acme_204.edi[/bold]
    """
    found: dict[str, list[str]] = {}
    for file in files:
        errors = _edi_connector(file).validate_file(file)  # type: ignore[attr-defined]
        found[str(file)] = [e.render() for e in errors]
    if as_json:
        _print_json([{"file": f, "ok": not e, "errors": e} for f, e in found.items()])
    else:
        for file, lines in found.items():
            if not lines:
                console.print(f"ok {file}", markup=False, highlight=False)
            for line in lines:
                err_console.print(line, markup=False, highlight=False, soft_wrap=True)
    if any(found.values()):
        raise typer.Exit(1)


@edi_app.command("parse")
def edi_parse(
    file: Annotated[Path, typer.Argument(help="An X12 or EDIFACT file.")],
    as_json: JsonOpt = False,
) -> None:
    """Show a file as its tree: interchanges, groups, transaction sets/messages and segments.

    Example: [bold]lockerhub edi parse inbox/acme_204.edi --json[/bold]
    """
    from lockerhub_edi.describe import document_dict
    from rich.tree import Tree

    interchanges, errors = _edi_connector(file).parse_file(file)  # type: ignore[attr-defined]
    tree = document_dict(interchanges)
    if as_json:
        _print_json({"file": str(file), "interchanges": tree, "errors": [e.render() for e in errors]})
    else:
        root = Tree(str(file))
        for interchange in tree:
            node = root.add(f"{interchange['header']['tag']} {_elements(interchange['header'])}")
            for group in interchange["groups"]:
                branch = node.add(f"{group['header']['tag']} {_elements(group['header'])}") if group["header"] else node
                for t in group["transactions"]:
                    leaf = branch.add(f"{t['kind']} {t['control']} ({len(t['segments'])} segments)")
                    for seg in t["segments"]:
                        leaf.add(f"{seg['number']:>5}  {seg['tag']} {_elements(seg)}", highlight=False)
        console.print(root)
        for e in errors:
            err_console.print(e.render(), markup=False, highlight=False, soft_wrap=True)
    if errors:
        raise typer.Exit(1)


def _elements(segment: dict[str, Any]) -> str:
    return " | ".join(":".join(e) if isinstance(e, list) else e for e in segment["elements"])


# --------------------------------------------------------------------------- soap

soap_app = typer.Typer(no_args_is_help=True, help="SOAP web services of TMSs: what a WSDL offers.")
app.add_typer(soap_app, name="soap")


@soap_app.command("inspect")
def soap_inspect(
    wsdl: Annotated[str, typer.Argument(help="A WSDL file (its imports are read beside it), or an http(s) URL.")],
    allow_network: Annotated[bool, typer.Option(
        "--allow-network", help="Allow fetching the WSDL or its imports over http(s) (default: local files only).",
    )] = False,
    as_json: JsonOpt = False,
) -> None:
    """List a WSDL's services, ports and operations: style/use, input and output fields, faults, and whether
    lockerhub can call each operation (rpc/encoded cannot be called). Nothing is fetched over the network unless
    --allow-network is given; DTDs and entities are refused.

    Example: [bold]lockerhub soap inspect tms/ShippingAPI_V2_0_9.wsdl --json[/bold]
    """
    try:
        from lockerhub_soap.inspect import inspect_wsdl, render
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] not in ("lockerhub_soap", "zeep", "lxml"):
            raise
        raise LockerhubError("the SOAP connector is not installed", expected="the lockerhub_soap package",
                             found=f"no module named {exc.name!r}",
                             hint="install the lockerhub-soap connector (pip install lockerhub-soap, "
                                  "or the lockerhub[connectors] extra)") from None
    report = inspect_wsdl(wsdl, allow_network=allow_network)
    if as_json:
        _print_json(report.as_dict())
    else:
        render(report, console)


# --------------------------------------------------------------------------- health


@app.command()
def health(
    config: Annotated[Path, typer.Argument(help="Hub config YAML: its vendor is asked for telemetry, its health: "
                                                "section sets weights and thresholds.")],
    as_of: Annotated[str | None, typer.Option("--as-of", help="Score as of this ISO 8601 time with offset "
                                                              "(default: the newest reading).")] = None,
    collect: Annotated[bool, typer.Option("--collect/--no-collect",
                                          help="Fetch new telemetry from the vendor first.")] = True,
    maintenance_csv: Annotated[Path | None, typer.Option("--maintenance-csv",
                                                         help="Also write the maintenance list to this CSV.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Collect locker telemetry, score every locker (0-100), open and close alerts, list lockers to visit.

    Example: [bold]lockerhub health examples/pilot/lockerhub.yaml --maintenance-csv visits.csv[/bold]
    """
    from datetime import datetime

    from lockerhub.health import run_health
    from lockerhub.runtime.hub import Hub

    when = None
    if as_of is not None:
        try:
            when = datetime.fromisoformat(as_of)
        except ValueError:
            when = None
        if when is None or when.tzinfo is None:
            raise LockerhubError("--as-of", expected="an ISO 8601 time with offset, e.g. 2026-01-05T08:00:00+00:00",
                                 found=repr(as_of))
    hub = Hub.open(config)
    try:
        report = run_health(hub, as_of=when, collect=collect, notifiers=[], maintenance_csv=maintenance_csv)
    finally:
        hub.close()
    if as_json:
        _print_json(report.as_dict())
        return
    for got in report.collected:
        _line(f"telemetry from {got.vendor}: " + ("not offered by its connector" if not got.supported else
              f"unreachable ({got.error}); scoring what is stored" if got.error else
              f"{got.received} readings, {got.stored} new"))
    if report.as_of is None:
        _line("no telemetry stored yet: nothing to score")
        return
    table = Table(title=f"Locker health as of {report.as_of:%Y-%m-%d %H:%M %Z}")
    for col, justify in (("locker", "left"), ("score", "right"), ("flags", "left"), ("predicted crossing", "left")):
        table.add_column(col, justify=justify, overflow="fold")  # type: ignore[arg-type]
    for h in sorted(report.lockers, key=lambda h: (h.score, h.locker_id)):
        colour = "red" if h.score < 50 else "yellow" if h.score < 80 or h.flags else "green"
        flags = "\n".join(f"{f.kind} ({f.severity})" for f in h.flags) or "-"
        crossing = "\n".join(f"{f.kind.removesuffix('_predicted')} {f.predicted_at:%Y-%m-%d %H:%M}"
                             for f in h.flags if f.predicted_at) or "-"
        table.add_row(h.locker_id, f"[{colour}]{h.score:g}[/{colour}]", flags, crossing)
    console.print(table)
    for change in report.changes:
        _line(change.summary())
    for item in report.maintenance:
        _line(f"visit {item.rank}: {item.locker_id} ({item.severity}, due {item.due_by:%Y-%m-%d %H:%M}): "
              + "; ".join(item.reasons))
    if maintenance_csv is not None:
        _line(f"wrote {maintenance_csv} ({len(report.maintenance)} lockers to visit)")


# --------------------------------------------------------------------------- reconcile


@app.command("reconcile")
def reconcile_cmd(
    config: Annotated[Path, typer.Argument(help="Hub config YAML (its routing vendor is the one compared).")],
    manifest: Annotated[Path, typer.Option(help="The TMS manifest: CSV with partner, shipment_ref, parcel_id "
                                                "and optionally status.")],
    out: Annotated[Path | None, typer.Option(help="Folder for reconciliation.csv and reconciliation.html "
                                                  "(default: <data dir>/reports/reconcile-<UTC time>).")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only report: change nothing in the hub, cancel "
                                                            "nothing at the vendor, quarantine nothing.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Compare the TMS manifest, the hub's parcels and the vendor's reservations; fix what is safe (vendor ahead,
    stale holds), quarantine the rest, write a CSV and HTML report. Bad manifest rows are printed and quarantined.

    Example: [bold]lockerhub reconcile lockerhub.yaml --manifest exports/manifest.csv --out reports/today[/bold]
    """
    from lockerhub.reconcile import Kind, reconcile_config

    result = reconcile_config(config, manifest, out_dir=out, dry_run=dry_run)
    for text in result.manifest_errors:
        _line(text, err=True)
    if as_json:
        _print_json(result.as_dict())
        return
    table = Table(title="lockerhub reconcile" + (" (dry run: nothing changed)" if dry_run else ""))
    for col, justify in (("kind", "left"), ("count", "right"), ("outcome", "left")):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    for kind in Kind:
        found = [d for d in result.discrepancies if d.kind is kind]
        outcomes: dict[str, int] = {}
        for d in found:
            key = "quarantined" if d.outcome.startswith("q-") else d.outcome
            outcomes[key] = outcomes.get(key, 0) + 1
        table.add_row(str(kind), str(len(found)), ", ".join(f"{n} {k}" for k, n in sorted(outcomes.items())) or "-")
    console.print(table)
    _line(f"compared {result.manifest_rows} manifest row(s) ({result.bad_rows} bad), {result.hub_parcels} hub "
          f"parcel(s), {result.vendor_reservations} reservation(s) at {result.vendor}")
    _line(f"report: {result.csv_path}, {result.html_path}")


# --------------------------------------------------------------------------- security: keys, privacy, audit

keys_app = typer.Typer(no_args_is_help=True, help="PII encryption keys: status and rotation.")
privacy_app = typer.Typer(no_args_is_help=True, help="GDPR requests: export or erase one recipient's data.")
audit_app = typer.Typer(no_args_is_help=True, help="The hash-chained audit log of key and personal-data actions.")
app.add_typer(keys_app, name="keys")
app.add_typer(privacy_app, name="privacy")
app.add_typer(audit_app, name="audit")


def _cipher(settings):  # type: ignore[no-untyped-def]
    from lockerhub.security.crypto import FieldCipher

    keys = settings.pii_keys.get_secret_value() if settings.pii_keys else None
    return FieldCipher.from_env_or_file(keys, settings.data_dir)


@keys_app.command("status")
def keys_status(as_json: JsonOpt = False) -> None:
    """Count the encrypted values under each key id, per field; the active key is the first of the ring.

    Example: [bold]lockerhub keys status --json[/bold]
    """
    from lockerhub.security.rotation import key_status

    settings, store = _store()
    cipher = _cipher(settings)
    counts = key_status(store)
    if as_json:
        _print_json({"active_kid": cipher.active_kid, "ring": list(cipher.key_ids), "fields": counts})
        return
    table = Table(title=f"Encrypted values by key (active: {cipher.active_kid})")
    for col, justify in (("field", "left"), ("key id", "left"), ("values", "right"), ("note", "left")):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    for name, by_kid in counts.items():
        for kid, n in by_kid.items() or {"-": 0}.items():
            note = ("active" if kid == cipher.active_kid else "not in the ring" if kid not in cipher.key_ids
                    else "old: run `lockerhub keys rotate`") if kid != "-" else ""
            table.add_row(name, kid, str(n), note)
    console.print(table)


@keys_app.command("rotate")
def keys_rotate(
    batch: Annotated[int, typer.Option(min=1, max=100_000, help="Values re-encrypted per committed batch.")] = 500,
    max_batches: Annotated[int | None, typer.Option(min=1, help="Stop after N batches (run again to go on).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Re-encrypt every encrypted value under the active (first) key of the ring, in committed batches.

    Safe to interrupt and run again: values already under the active key are skipped. Put the new key first and
    keep the old ones after it until `keys status` shows nothing left under them.

    Example: [bold]LOCKERHUB_PII_KEYS=k2:...,k1:... lockerhub keys rotate --batch 1000[/bold]
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from lockerhub.security.rotation import pending, rotate

    settings, store = _store()
    cipher = _cipher(settings)
    total = sum(pending(store, cipher).values())
    with Progress(TextColumn("{task.description:<22}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err_console, transient=False) as progress:
        task = progress.add_task(f"re-encrypt under {cipher.active_kid}", total=total)
        report = rotate(store, cipher, batch=batch, max_batches=max_batches,
                        progress=lambda _field, n: progress.advance(task, n))
    if as_json:
        _print_json(report.as_dict())
    else:
        for name, n in report.rotated.items():
            _line(f"{name}: {n} re-encrypted")
        _line(f"{sum(report.rotated.values())} value(s) re-encrypted under {report.active_kid} in {report.batches} "
              f"batch(es); {report.remaining} left" + ("" if report.complete else ": run `lockerhub keys rotate` "
                                                                                    "again to finish"))
    if not report.complete and max_batches is None:  # values changed under it while it ran: run again
        raise typer.Exit(3)


@privacy_app.command("export")
def privacy_export(
    subject: Annotated[str, typer.Argument(help="The recipient's e-mail address or phone number.")],
    batch: Annotated[int, typer.Option(min=1, max=100_000, help="Records decrypted per batch.")] = 500,
    as_json: JsonOpt = False,
) -> None:
    """Print everything the hub holds on one recipient: parcels (recipient, access code, events, status messages)
    and quarantined payloads that mention them. The output is personal data: hand it to the subject only.

    Example: [bold]lockerhub privacy export recipient0001@example.invalid --json > export.json[/bold]
    """
    from lockerhub.security.privacy import export_subject

    settings, store = _store()
    result = export_subject(store, _cipher(settings), subject, batch=batch)
    if as_json:
        _print_json(result.as_dict())
        return
    table = Table(title=f"Parcels of this recipient ({len(result.parcels)})")
    for col in ("partner", "shipment", "parcel", "status", "locker", "recipient"):
        table.add_column(col, overflow="fold")
    for p in result.parcels:
        who = ", ".join(str(v) for k, v in p["recipient"].items() if v and k != "address")
        table.add_row(p["partner"], p["shipment_reference"], p["parcel_id"], p["status"], p["locker_id"] or "-", who)
    console.print(table)
    for item in result.quarantine:
        _line(f"quarantine {item['id']} ({item['stage']}, {_short(item['location'])}) mentions this recipient")
    _line(f"searched {result.scanned['parcels']} parcel(s) and {result.scanned['quarantine_items']} quarantine "
          "payload(s); use --json for every field")


@privacy_app.command("erase")
def privacy_erase(
    subject: Annotated[str, typer.Argument(help="The recipient's e-mail address or phone number.")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only count what would be erased.")] = False,
    batch: Annotated[int, typer.Option(min=1, max=100_000, help="Records decrypted per batch.")] = 500,
    as_json: JsonOpt = False,
) -> None:
    """Erase one recipient's personal data: recipient and access code of their parcels, their values in events and
    status messages, and quarantined payloads that mention them. Anonymised records stay.

    Example: [bold]lockerhub privacy erase recipient0001@example.invalid --dry-run[/bold]
    """
    from lockerhub.security.privacy import erase_subject

    settings, store = _store()
    report = erase_subject(store, _cipher(settings), subject, dry_run=dry_run, batch=batch)
    if as_json:
        _print_json(report.as_dict())
        return
    verb = "would erase" if dry_run else "erased"
    _line(f"{verb}: {report.parcels} parcel recipient(s) ({report.active} still moving), "
          f"{report.quarantine_payloads} quarantine payload(s), {report.events_redacted} event(s) and "
          f"{report.messages_redacted} status message(s) redacted")
    if report.audit_seq is not None:
        _line(f"recorded as audit entry {report.audit_seq}")


@audit_app.command("verify")
def audit_verify(
    anchor: Annotated[str | None, typer.Option(help="SEQ:HASH of an entry noted earlier (catches a cut tail).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Check the audit log's hash chain; name every entry edited, deleted or reordered; exit 1 if any.

    Example: [bold]lockerhub audit verify --json[/bold]
    """
    from lockerhub.security.audit import parse_anchor, verify

    _, store = _store()
    result = verify(store, anchor=parse_anchor(anchor) if anchor else None)
    if as_json:
        _print_json(result.as_dict())
    else:
        for p in result.problems:
            _line(f"audit_log: entry {p.seq}: error: {p.kind}: {p.message}", err=True)
        if result.ok:
            _line(f"ok: {result.entries} entries; head {result.head_seq}:{result.head_hash}")
    raise typer.Exit(0 if result.ok else 1)


@audit_app.command("list")
def audit_list(
    action: Annotated[str | None, typer.Option(help="Only this action, e.g. privacy.erase.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="Newest N entries.")] = 50,
    as_json: JsonOpt = False,
) -> None:
    """Show the newest audit entries (who did what, when; no personal data).

    Example: [bold]lockerhub audit list --action keys.rotate[/bold]
    """
    from dataclasses import asdict

    from lockerhub.security.audit import entries

    _, store = _store()
    rows = entries(store, action=action, limit=limit)
    if as_json:
        _print_json([asdict(e) for e in rows])
        return
    table = Table(title=f"Audit log (newest {len(rows)})")
    for col in ("seq", "at", "actor", "action", "subject", "details"):
        table.add_column(col, overflow="fold")
    for e in rows:
        table.add_row(str(e.seq), f"{e.at:%Y-%m-%d %H:%M:%S}", e.actor, e.action, e.subject or "-",
                      json.dumps(e.details, sort_keys=True))
    console.print(table)


# --------------------------------------------------------------------------- db

db_app = typer.Typer(no_args_is_help=True, help="The store's schema: Alembic migrations (they also run at start).")
app.add_typer(db_app, name="db")


def _db_store():  # type: ignore[no-untyped-def]
    """The configured store, not migrated (``_store()`` migrates)."""
    from lockerhub.settings import Settings
    from lockerhub.store import Store

    return Store(Settings().resolved_database_url())


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Bring the database (LOCKERHUB_DATABASE_URL) to the newest revision; safe to run while others start.

    Example: [bold]lockerhub db upgrade[/bold]
    """
    from lockerhub.store import migrate

    store = _db_store()
    try:
        before = migrate.current(store.engine)
        migrate.upgrade(store.engine)
        after = migrate.current(store.engine)
        console.print(f"{store.masked_url()}: {before or 'empty'} -> {after}", markup=False, highlight=False,
                      soft_wrap=True)
    finally:
        store.dispose()


@db_app.command("current")
def db_current(as_json: JsonOpt = False) -> None:
    """Show the database's revision and the newest one this lockerhub knows.

    Example: [bold]lockerhub db current --json[/bold]
    """
    from lockerhub.store import migrate

    store = _db_store()
    try:
        info = {"database": store.masked_url(), "current": migrate.current(store.engine), "head": migrate.head()}
    finally:
        store.dispose()
    if as_json:
        _print_json(info)
        return
    state = "at head" if info["current"] == info["head"] else f"head is {info['head']}: run 'lockerhub db upgrade'"
    console.print(f"{info['database']}: {info['current'] or 'not migrated'} ({state})", markup=False, highlight=False, soft_wrap=True)


@db_app.command("check")
def db_check(
    as_json: JsonOpt = False,
    scratch: Annotated[bool, typer.Option("--scratch", help="Check the migrations on a new, empty SQLite database "
                                          "instead of the configured one (what CI does).")] = False,
) -> None:
    """List differences between the tables in code and the database; exit 1 if there are any.

    On a database at head, a difference is a model changed without a migration (add one: docs/operations.md).

    Example: [bold]lockerhub db check --scratch[/bold]
    """
    from lockerhub.store import migrate

    if scratch:
        with migrate.scratch_sqlite() as engine:
            migrate.upgrade(engine)
            at, diffs = migrate.current(engine), migrate.check(engine)
    else:
        store = _db_store()
        try:
            at, diffs = migrate.current(store.engine), migrate.check(store.engine)
        finally:
            store.dispose()
    lines = [migrate.describe(d) for d in diffs]
    if as_json:
        _print_json({"current": at, "head": migrate.head(), "differences": lines})
    else:
        for line in lines:
            console.print(f"drift: {line}", markup=False, highlight=False, soft_wrap=True)
        pending = "" if at == migrate.head() else f"; the database is at {at or 'no revision'}, head is {migrate.head()}"
        console.print(f"{len(lines)} difference(s) between the tables in code and the database{pending}",
                      markup=False, highlight=False, soft_wrap=True)
    if lines:
        raise typer.Exit(1)


# --------------------------------------------------------------------------- serve (webhook ingress)


@app.command()
def serve(
    config: Annotated[Path, typer.Argument(help="Hub config YAML (its vendors are the webhook senders).")],
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port (0 = any free port).")] = 8080,
) -> None:
    """Serve the webhook ingress until Ctrl-C: POST /webhooks/{vendor} verifies, deduplicates and records vendor
    events in the outbox; GET /healthz. Bodies over LOCKERHUB_INGRESS_MAX_BODY_BYTES (256 KiB) are refused.

    Example: [bold]LOCKERHUB_SIMLOCKER_WEBHOOK_SECRET=... lockerhub serve examples/pilot/lockerhub.yaml --port 8080[/bold]
    """
    from lockerhub.ingress.server import serve as serve_ingress

    def ready(url: str, vendors: list[str]) -> None:
        _line(f"lockerhub ingress listening on {url}")
        for name in vendors:
            _line(f"  POST {url}/webhooks/{name}")
        sys.stdout.flush()

    serve_ingress(config, host=host, port=port, on_ready=ready)


# --------------------------------------------------------------------------- access (ops API tokens and users)

access_app = typer.Typer(no_args_is_help=True, help="Who may use the ops API (/ops): API tokens and users with TOTP.")
token_app = typer.Typer(no_args_is_help=True, help="API tokens for scripts and services (shown once, stored hashed).")
user_app = typer.Typer(no_args_is_help=True, help="Interactive users: password + TOTP code at POST /ops/login.")
app.add_typer(access_app, name="access")
access_app.add_typer(token_app, name="token")
access_app.add_typer(user_app, name="user")
RoleOpt = Annotated[str, typer.Option(help="viewer, operator, integrator or admin (see docs/security.md).")]


@token_app.command("create")
def access_token_create(
    name: Annotated[str, typer.Option(help="What the token is for; the audit log names it token:<name>.")],
    role: RoleOpt,
    actor: ActorOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Create an API token and print it once (only its hash is kept; a lost token is revoked and made again).

    Example: [bold]lockerhub access token create --name airflow --role operator[/bold]
    """
    from lockerhub.security.access import create_token

    _, store = _store()
    info, token = create_token(store, name=name, role=role, actor=actor)
    if as_json:
        _print_json({"id": info.id, "name": info.name, "role": info.role, "token": token})
        return
    _line(f"token {info.id} ({info.name}, {info.role}); shown once, store it now:")
    sys.stdout.write(token + "\n")


@token_app.command("list")
def access_token_list(
    include_revoked: Annotated[bool, typer.Option("--all", help="Include revoked tokens.")] = False,
    sessions: Annotated[bool, typer.Option("--sessions", help="Include login sessions.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """List API tokens: id, name, role, created, last used, revoked (never the token).

    Example: [bold]lockerhub access token list --all[/bold]
    """
    from dataclasses import asdict

    from lockerhub.security.access import list_tokens

    _, store = _store()
    tokens = list_tokens(store, include_revoked=include_revoked, sessions=sessions)
    if as_json:
        _print_json([asdict(t) for t in tokens])
        return
    table = Table(title=f"Ops API tokens ({len(tokens)})")
    for col in ("id", "kind", "name", "role", "created", "last used", "revoked"):
        table.add_column(col)
    for t in tokens:
        table.add_row(str(t.id), t.kind, t.name, t.role, f"{t.created_at:%Y-%m-%d %H:%M}",
                      f"{t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "-",
                      f"{t.revoked_at:%Y-%m-%d %H:%M}" if t.revoked_at else "-")
    console.print(table)


@token_app.command("revoke")
def access_token_revoke(
    token_id: Annotated[int, typer.Argument(help="The token's id (see `lockerhub access token list`).")],
    actor: ActorOpt = None,
) -> None:
    """Revoke a token at once (API token or login session).

    Example: [bold]lockerhub access token revoke 3[/bold]
    """
    from lockerhub.security.access import revoke_token

    _, store = _store()
    info = revoke_token(store, token_id, actor=actor)
    _line(f"token {info.id} ({info.name}) revoked")


@user_app.command("add")
def access_user_add(
    name: Annotated[str, typer.Argument(help="The user's login name.")],
    role: RoleOpt,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from the first line "
                                                                          "of stdin instead of asking.")] = False,
    actor: ActorOpt = None,
) -> None:
    """Add a user; asks for their password (at least 12 characters, never an option: it would stay in the shell
    history) and prints the TOTP provisioning URI once (otpauth://..., for the user's authenticator app).

    Example: [bold]lockerhub access user add alice --role operator[/bold]
    """
    from lockerhub.security.access import add_user

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True, err=True)
    settings, store = _store()
    info, uri = add_user(store, _cipher(settings), name, role=role, password=password, actor=actor)
    _line(f"user {info.name} ({info.role}) added; give them this URI once (it holds their TOTP secret):")
    sys.stdout.write(uri + "\n")


@user_app.command("list")
def access_user_list(as_json: JsonOpt = False) -> None:
    """List users: name, role, enabled.

    Example: [bold]lockerhub access user list --json[/bold]
    """
    from dataclasses import asdict

    from lockerhub.security.access import list_users

    _, store = _store()
    users = list_users(store)
    if as_json:
        _print_json([asdict(u) for u in users])
        return
    table = Table(title=f"Ops users ({len(users)})")
    for col in ("name", "role", "enabled", "created"):
        table.add_column(col)
    for u in users:
        table.add_row(u.name, u.role, "yes" if u.enabled else "no", f"{u.created_at:%Y-%m-%d %H:%M}")
    console.print(table)


@user_app.command("disable")
def access_user_disable(
    name: Annotated[str, typer.Argument(help="The user's login name.")],
    actor: ActorOpt = None,
) -> None:
    """Disable a user and end their sessions at once.

    Example: [bold]lockerhub access user disable alice[/bold]
    """
    from lockerhub.security.access import disable_user

    _, store = _store()
    disable_user(store, name, actor=actor)
    _line(f"user {name} disabled; their sessions are revoked")


def main() -> None:
    """Entry point: run the app, turning lockerhub errors into compiler-style lines."""
    try:
        code = app(standalone_mode=False)  # click returns the code of typer.Exit instead of raising it
        sys.exit(code if isinstance(code, int) else 0)
    except ErrorGroup as group:
        for e in group.errors:
            err_console.print(e.render(), markup=False, highlight=False, soft_wrap=True)
        _maybe_trace()
        sys.exit(1)
    except LockerhubError as exc:
        err_console.print(exc.render(), markup=False, highlight=False, soft_wrap=True)
        _maybe_trace()
        sys.exit(1)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        err_console.print("aborted")
        sys.exit(130)
    except Exception as exc:  # usage errors arrive as a ClickException: click's, or the copy typer ships
        if _is_click_exception(exc):
            exc.show()  # type: ignore[attr-defined]
            sys.exit(exc.exit_code)  # type: ignore[attr-defined]
        raise


def _is_click_exception(exc: Exception) -> bool:
    import click

    classes: list[type] = [click.ClickException]
    with contextlib.suppress(ImportError):  # typer >= 0.25 raises its vendored click's exceptions
        from typer._click.exceptions import ClickException as TyperClickException

        classes.append(TyperClickException)
    return isinstance(exc, tuple(classes))


def _maybe_trace() -> None:
    if _state["debug"]:
        import traceback

        traceback.print_exc()


if __name__ == "__main__":  # pragma: no cover
    main()
