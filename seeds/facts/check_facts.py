#!/usr/bin/env python3
"""Validate the seed fact files (000.toml ... 004.toml).

Checks, per file:
  * it parses as TOML (tomllib, TOML 1.0);
  * every string stored under a key ending in ``_ar`` (or every string of a
    list under such a key) occurs byte for byte in the article it describes,
    unless the enclosing table says ``verbatim = false`` (whole table) or lists
    the key in ``non_verbatim = [...]`` (that key only);
  * cross references resolve: organisation keys used by people posts,
    unnamed participants, agreements, programmes, points and organisation
    parents; person keys used by points/event; programme keys;
  * region codes come from the closed list; budgets/figures are integers;
  * dates have sane ranges and stated weekdays are compared with the calendar
    (a mismatch is reported as a WARNING, which the file must acknowledge in
    an [[ambiguities]] entry whose topic mentions "weekday").

Usage: python3 check_facts.py [--articles DIR] [FILE.toml ...]
Exit status 1 on any error.
"""
import argparse
import datetime
import pathlib
import sys
import tomllib

HERE = pathlib.Path(__file__).resolve().parent
DEFAULT_ARTICLES = pathlib.Path("/work/shared/seed-documents")
REGIONS = {
    "tanger-tetouan-al-hoceima", "oriental", "fes-meknes", "rabat-sale-kenitra",
    "beni-mellal-khenifra", "casablanca-settat", "marrakech-safi",
    "draa-tafilalet", "souss-massa", "guelmim-oued-noun",
    "laayoune-sakia-el-hamra", "dakhla-oued-ed-dahab",
}
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday",
            "saturday", "sunday"]


class Report:
    def __init__(self, name):
        self.name, self.errors, self.warnings, self.checked = name, [], [], 0

    def err(self, msg):
        self.errors.append(msg)

    def warn(self, msg):
        self.warnings.append(msg)


def walk_ar(node, path, text, rep):
    """Recursively check *_ar strings against the article text."""
    if isinstance(node, dict):
        skip_all = node.get("verbatim") is False
        skip = set(node.get("non_verbatim", []))
        for k, v in node.items():
            p = f"{path}.{k}" if path else k
            if k.endswith("_ar") and not skip_all and k not in skip:
                vals = v if isinstance(v, list) else [v]
                for i, s in enumerate(vals):
                    if not isinstance(s, str):
                        rep.err(f"{p}: non-string value under *_ar key")
                        continue
                    rep.checked += 1
                    if s not in text:
                        rep.err(f"{p}{'' if not isinstance(v, list) else f'[{i}]'}: "
                                f"not verbatim in article: {s!r}")
            if isinstance(v, (dict, list)):
                walk_ar(v, p, text, rep)
    elif isinstance(node, list):
        for i, item in enumerate(node):
            walk_ar(item, f"{path}[{i}]", text, rep)


def check_date(d, where, rep, ambiguities):
    y, m, day, wd = d.get("year"), d.get("month"), d.get("day"), d.get("weekday")
    if m is not None and not 1 <= m <= 12:
        rep.err(f"{where}: bad month {m}")
    if day is not None and not 1 <= day <= 31:
        rep.err(f"{where}: bad day {day}")
    if wd is not None and wd not in WEEKDAYS:
        rep.err(f"{where}: bad weekday {wd!r}")
    if None not in (y, m, day):
        real = WEEKDAYS[datetime.date(y, m, day).weekday()]
        if d.get("weekday_actual") not in (None, real):
            rep.err(f"{where}: weekday_actual {d['weekday_actual']} but "
                    f"{y}-{m:02}-{day:02} is a {real}")
        if "weekday_stated" in d and d["weekday_stated"] != real and not any(
                "weekday" in a.get("topic", "") for a in ambiguities):
            rep.err(f"{where}: stated weekday {d['weekday_stated']} != {real} "
                    "and not acknowledged in [[ambiguities]]")
        if wd is not None and wd != real:
            msg = f"{where}: weekday {wd} but {y}-{m:02}-{day:02} is a {real}"
            if any("weekday" in a.get("topic", "") for a in ambiguities):
                rep.warn(msg + " (acknowledged in [[ambiguities]])")
            else:
                rep.err(msg + " (not acknowledged in [[ambiguities]])")


def check_file(path, articles_dir):
    rep = Report(path.name)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except Exception as e:  # noqa: BLE001
        rep.err(f"TOML parse error: {e}")
        return rep, None
    art = articles_dir / data["article"]
    text = art.read_text(encoding="utf-8")
    walk_ar(data, "", text, rep)

    orgs = {o["key"] for o in data.get("organisations", [])}
    people = {p["key"] for p in data.get("people", [])}
    progs = {p["key"] for p in data.get("programmes", [])}
    for coll in ("organisations", "people", "programmes", "agreements"):
        keys = [x["key"] for x in data.get(coll, [])]
        if len(keys) != len(set(keys)):
            rep.err(f"{coll}: duplicate keys")

    def need(kind, key, where):
        pool = {"org": orgs, "person": people, "programme": progs}[kind]
        if key not in pool:
            rep.err(f"{where}: unknown {kind} key {key!r}")

    for o in data.get("organisations", []):
        if "parent" in o:
            need("org", o["parent"], f"organisations[{o['key']}].parent")
    for p in data.get("people", []):
        for post in p.get("posts", []):
            if "organisation" in post:
                need("org", post["organisation"], f"people[{p['key']}].posts")
    for u in data.get("participants_unnamed", []):
        if "organisation" in u:
            need("org", u["organisation"], "participants_unnamed")
    for a in data.get("agreements", []):
        for s in a.get("signatories", []):
            need("org", s, f"agreements[{a['key']}].signatories")
        if "programme" in a:
            need("programme", a["programme"], f"agreements[{a['key']}].programme")
        b = a.get("budget_mad")
        if b is not None and not isinstance(b, int):
            rep.err(f"agreements[{a['key']}].budget_mad must be an integer")
        if "date" in a:
            check_date(a["date"], f"agreements[{a['key']}].date", rep,
                       data.get("ambiguities", []))
    for pr in data.get("programmes", []):
        for o in pr.get("owners", []):
            need("org", o, f"programmes[{pr['key']}].owners")
    for i, pt in enumerate(data.get("points", [])):
        if "speaker" in pt:
            need("person", pt["speaker"], f"points[{i}].speaker")
        for sp in pt.get("speakers", []):
            need("person", sp, f"points[{i}].speakers")
        if "speaker_org" in pt:
            need("org", pt["speaker_org"], f"points[{i}].speaker_org")
        if pt.get("kind") not in {"context", "point_raised", "commitment",
                                  "follow_up", "past_result", "quote",
                                  "assessment", "objective", "plan"}:
            rep.err(f"points[{i}]: bad kind {pt.get('kind')!r}")
    for i, r in enumerate(data.get("recommendations", [])):
        for t in r.get("themes", []):
            if t != t.lower() or " " in t:
                rep.err(f"recommendations[{i}]: theme {t!r} is not a lowercase slug")
        if "speaker" in r:
            need("person", r["speaker"], f"recommendations[{i}].speaker")
    for i, k in enumerate(data.get("key_figures", [])):
        if not isinstance(k.get("value"), int):
            rep.err(f"key_figures[{i}].value must be an integer (exact decimal)")

    ev = data.get("event", {})
    if ev.get("region") not in REGIONS:
        rep.err(f"event.region {ev.get('region')!r} not in the region list")
    for k in ("organisers", "co_organisers", "supervisors"):
        for o in ev.get(k, []):
            need("org", o, f"event.{k}")
    for k in ("chair", "host", "guest", "patron"):
        if k in ev:
            need("person", ev[k], f"event.{k}")
    for sp in ev.get("speakers", []):
        need("person", sp, "event.speakers")
    for re_ in data.get("related_events", []):
        for k in ("visitor", "presided_by"):
            if k in re_:
                need("person", re_[k], f"related_events[{re_['key']}].{k}")
    for p in data.get("people", []):
        if "statement_to" in p:
            need("org", p["statement_to"], f"people[{p['key']}].statement_to")
    for pr in data.get("programmes", []):
        if "parent_programme" in pr:
            need("programme", pr["parent_programme"], f"programmes[{pr['key']}].parent_programme")
    for a in data.get("agreements", []):
        for ob in a.get("objectives", []):
            if "fund" in ob:
                need("programme", ob["fund"], f"agreements[{a['key']}].objectives.fund")
    for k in ("date", "date_resolved"):
        if k in ev:
            check_date(ev[k], f"event.{k}", rep, data.get("ambiguities", []))
    if "date" in ev and ev["date"].get("inferred") is not False:
        rep.err("event.date must be the article's own date (inferred = false)")
    if "date_resolved" in ev and ev["date_resolved"].get("inferred") is not True:
        rep.err("event.date_resolved must carry inferred = true")
    return rep, data


def summary(data):
    amounts = [a["budget_mad"] for a in data.get("agreements", []) if "budget_mad" in a]
    amounts += [k["value"] for k in data.get("key_figures", []) if k.get("unit") == "MAD"]
    return {
        "people": len(data.get("people", [])),
        "organisations": len(data.get("organisations", [])),
        "unnamed": len(data.get("participants_unnamed", [])),
        "recommendations": len(data.get("recommendations", [])),
        "agreements": len(data.get("agreements", [])),
        "distinct_mad_amounts": len(set(amounts)),
        "key_figures": len(data.get("key_figures", [])),
        "points": len(data.get("points", [])),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--articles", type=pathlib.Path, default=DEFAULT_ARTICLES)
    ap.add_argument("files", nargs="*", type=pathlib.Path)
    a = ap.parse_args()
    files = a.files or sorted(HERE.glob("[0-9][0-9][0-9].toml"))
    bad = False
    for f in files:
        rep, data = check_file(f, a.articles)
        status = "OK" if not rep.errors else "FAIL"
        extra = f" {summary(data)}" if data else ""
        print(f"{status} {f.name}: {rep.checked} *_ar strings verbatim{extra}")
        for w in rep.warnings:
            print(f"  WARNING {w}")
        for e in rep.errors:
            print(f"  ERROR {e}")
        bad |= bool(rep.errors)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
