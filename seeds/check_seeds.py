#!/usr/bin/env python3
"""Check the seed files (NN-*.toml) against the fact files (facts/NNN.toml).

Per seed file, in file-name order:
  * it parses as TOML and has `article`, `summary` and `[[commands]]`, each
    command with a known `aggregate` and a `type`;
  * references: every "@kind/key" string that is the id field of a creating
    command (organisation_id of register_organisation, person_id of
    register_person, post_id of start_post, consultation_id of
    plan_consultation, participant_id of register_participant,
    recommendation_id of propose_recommendation, agreement_id of
    record_agreement, key_figure_id of record_key_figure, point_id of
    raise_point, action_id of create_action) creates that id, once across
    all files; every other "@..." string must name an id created by an
    earlier command (of this or an earlier file);
  * verbatim: every *_ar string of the fact file (same rules as
    facts/check_facts.py: tables with `verbatim = false` and keys listed in
    `non_verbatim` are skipped; [[external_corroboration]] and [[page_extras]]
    are not article facts and are skipped) occurs as a substring of some
    string value of the seed's commands;
  * amounts: every integer `budget_mad` and `key_figures.value` of the fact
    file occurs as the exact decimal string of some `amount` or `value`;
  * provenance of Arabic: every `ar`/`arabic` string of the seed occurs in the
    article or is a string of the fact file (reconstructed names, marked
    non_verbatim there), so no Arabic is retyped;
  * a consultation's `sources` name the article file as `document`.

Usage: python3 check_seeds.py [--articles DIR]
Exit status 1 on any failure.
"""
import argparse
import collections
import pathlib
import re
import sys
import tomllib

HERE = pathlib.Path(__file__).resolve().parent
FACTS = HERE / "facts"
DEFAULT_ARTICLES = pathlib.Path("/work/shared/seed-documents")
AGGREGATES = {"organisation", "person", "consultation", "action"}
SKIP_TOP = {"external_corroboration", "page_extras"}
# (command type, id field) pairs that create an id.
CREATING = {
    ("register_organisation", "organisation_id"),
    ("register_person", "person_id"),
    ("start_post", "post_id"),
    ("plan_consultation", "consultation_id"),
    ("register_participant", "participant_id"),
    ("propose_recommendation", "recommendation_id"),
    ("record_agreement", "agreement_id"),
    ("record_key_figure", "key_figure_id"),
    ("raise_point", "point_id"),
    ("create_action", "action_id"),
}
REF = re.compile(r"^@[a-z_]+/[A-Za-z0-9._/-]+$")


def strings(node, path=""):
    """Yields (path, key, value) for every string in a parsed TOML value."""
    if isinstance(node, dict):
        for k, v in node.items():
            p = f"{path}.{k}" if path else k
            if isinstance(v, str):
                yield p, k, v
            else:
                yield from strings(v, p)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            p = f"{path}[{i}]"
            if isinstance(v, str):
                yield p, path.rsplit(".", 1)[-1], v
            else:
                yield from strings(v, p)


def fact_ar(node, path=""):
    """Yields (path, string) for every verbatim *_ar string of a fact file."""
    if isinstance(node, dict):
        skip_all = node.get("verbatim") is False
        skip = set(node.get("non_verbatim", []))
        for k, v in node.items():
            if not path and k in SKIP_TOP:
                continue
            p = f"{path}.{k}" if path else k
            if k.endswith("_ar") and not skip_all and k not in skip:
                for i, s in enumerate(v if isinstance(v, list) else [v]):
                    yield (f"{p}[{i}]" if isinstance(v, list) else p), s
            if isinstance(v, (dict, list)):
                yield from fact_ar(v, p)
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from fact_ar(item, f"{path}[{i}]")


def fact_integers(node, path=""):
    """Yields (path, int) for budget_mad anywhere and key_figures[].value."""
    if isinstance(node, dict):
        for k, v in node.items():
            if not path and k in SKIP_TOP:
                continue
            p = f"{path}.{k}" if path else k
            if k == "budget_mad" and isinstance(v, int):
                yield p, v
            if k == "value" and re.match(r"^key_figures\[\d+\]$", path) and isinstance(v, int):
                yield p, v
            if isinstance(v, (dict, list)):
                yield from fact_integers(v, p)
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from fact_integers(item, f"{path}[{i}]")


def all_fact_strings(node):
    return {v for _, _, v in strings(node)}


def check(seed_path, created, articles_dir):
    errors, stats = [], collections.Counter()
    try:
        seed = tomllib.loads(seed_path.read_text(encoding="utf-8"))
    except Exception as e:  # noqa: BLE001
        return [f"TOML parse error: {e}"], stats
    for key in ("article", "summary", "commands"):
        if key not in seed:
            errors.append(f"missing top-level `{key}`")
    if errors:
        return errors, stats
    article_name = seed["article"]
    fact_path = FACTS / f"{article_name[:3]}.toml"
    facts = tomllib.loads(fact_path.read_text(encoding="utf-8"))
    if facts["article"] != article_name:
        errors.append(f"article {article_name} but {fact_path.name} is about {facts['article']}")
    article = (articles_dir / article_name).read_text(encoding="utf-8")
    commands = seed["commands"]

    # ---- references, in command order
    for i, cmd in enumerate(commands):
        where = f"commands[{i}]"
        agg, typ = cmd.get("aggregate"), cmd.get("type")
        if agg not in AGGREGATES:
            errors.append(f"{where}: unknown aggregate {agg!r}")
        if not isinstance(typ, str):
            errors.append(f"{where}: missing type")
            continue
        stats[f"{agg}:{typ}"] += 1
        creates = {f for (t, f) in CREATING if t == typ}
        new_ids = []
        for p, key, v in strings(cmd):
            if not v.startswith("@"):
                continue
            if not REF.match(v):
                errors.append(f"{where}.{p}: malformed reference {v!r}")
                continue
            if p in creates:
                new_ids.append((p, v))
                continue
            stats["references"] += 1
            if v not in created:
                errors.append(f"{where}.{p}: {v} is not created by an earlier command")
        for p, v in new_ids:
            if v in created:
                errors.append(f"{where}.{p}: {v} already created by {created[v]}")
            else:
                created[v] = f"{seed_path.name} {where}"
                stats["ids created"] += 1
        for f in creates:
            if f not in cmd:
                errors.append(f"{where}: {typ} without {f}")
        if typ == "plan_consultation":
            docs = [s.get("document") for s in cmd.get("sources", [])]
            if article_name not in docs:
                errors.append(f"{where}: sources do not name document {article_name}")

    # ---- verbatim Arabic of the facts
    values = [v for _, _, v in strings(commands)]
    for p, s in fact_ar(facts):
        stats["fact *_ar strings"] += 1
        if not any(s in v for v in values):
            errors.append(f"facts {p}: not in any seed string: {s!r}")

    # ---- exact amounts
    amounts = {v for _, k, v in strings(commands) if k in ("amount", "value")}
    for p, n in fact_integers(facts):
        stats["fact integers"] += 1
        if str(n) not in amounts:
            errors.append(f"facts {p} = {n}: no seed amount/value \"{n}\"")

    # ---- Arabic in the seed comes from the article or the fact file
    fact_values = all_fact_strings(facts)
    for p, key, v in strings(commands):
        if key in ("ar", "arabic"):
            stats["seed Arabic strings"] += 1
            if v not in article and v not in fact_values:
                errors.append(f"commands{p}: Arabic neither in the article nor in the facts: {v!r}")
    return errors, stats


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--articles", type=pathlib.Path, default=DEFAULT_ARTICLES)
    a = ap.parse_args()
    files = sorted(HERE.glob("[0-9][0-9]-*.toml"))
    if not files:
        print("no seed files")
        sys.exit(1)
    created, bad = {}, False
    for f in files:
        errors, stats = check(f, created, a.articles)
        n = sum(v for k, v in stats.items() if ":" in k)
        by_agg = collections.Counter()
        for k, v in stats.items():
            if ":" in k:
                by_agg[k.split(":")[0]] += v
        print(f"{'OK' if not errors else 'FAIL'} {f.name}: {n} commands "
              f"({', '.join(f'{k} {v}' for k, v in sorted(by_agg.items()))}); "
              f"{stats['ids created']} ids created, {stats['references']} references; "
              f"{stats['fact *_ar strings']} fact *_ar strings found verbatim; "
              f"{stats['fact integers']} fact amounts/values matched; "
              f"{stats['seed Arabic strings']} seed Arabic strings traced")
        for e in errors:
            print(f"  ERROR {e}")
        bad |= bool(errors)
    print(f"{'OK' if not bad else 'FAIL'}: {len(files)} files, {len(created)} ids")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
