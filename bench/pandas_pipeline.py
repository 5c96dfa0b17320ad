#!/usr/bin/python3
"""The keystroke pipeline written the way teams write it today: pandas, one json.load per file,
DataFrame ops and groupby. The peer that bench/keystroke-bench.ts measures pipe's DuckDB stages
against (clean + keypairs + features; pipe's download has no counterpart here: this reads the
uploads folder directly).

Same rules as stages/clean*.sql, keypairs.sql and features.sql (docs/data-tables.md), so on the same
input it must give the same numbers; the bench checks that by joining both outputs in DuckDB.

Install (Debian/Ubuntu; uses the system Python, not a virtualenv or pyenv):
    sudo apt-get update && sudo apt-get install -y python3-pandas
Run:
    /usr/bin/python3 bench/pandas_pipeline.py --uploads DIR --format webapp|aalto --out DIR \
        [--max-hold-ms 5000] [--min-keystrokes 10] [--m 50] [--min-sessions 15]
Writes DIR/keypairs.csv, DIR/sequences.csv and DIR/result.json (counts, rejects per rule, and
seconds per step; CSV writing is timed on its own so the bench can leave it out of the ratio).
"""
import argparse
import csv
import glob
import gzip
import io
import json
import os
import time

import numpy as np
import pandas as pd

REQUIRED = ["session_id", "user_id", "prompt", "text", "client", "time_origin", "events"]
EVENT_FIELDS = ["t", "type", "key", "code", "keyCode", "repeat", "composing"]
AALTO_HEADER = ["PARTICIPANT_ID", "TEST_SECTION_ID", "SENTENCE", "USER_INPUT", "KEYSTROKE_ID",
                "PRESS_TIME", "RELEASE_TIME", "LETTER", "KEYCODE"]


def load_webapp(folder, rejects):
    """Web-app uploads -> keystroke candidates: pair each keydown with the next event of its code."""
    frames, files, seen = [], [], {}
    for path in sorted(glob.glob(os.path.join(folder, "*.session.json*"))):
        name = os.path.basename(path)
        try:
            opener = gzip.open if name.endswith(".gz") else open
            with opener(path, "rb") as f:
                raw = f.read()
            doc = json.loads(raw)
        except (OSError, ValueError):
            rejects["invalid_json"] = rejects.get("invalid_json", 0) + 1
            continue
        if not isinstance(doc, dict) or any(k not in doc for k in REQUIRED):
            rejects["schema_mismatch"] = rejects.get("schema_mismatch", 0) + 1
            continue
        if doc["session_id"] in seen:
            rule = "duplicate_upload" if seen[doc["session_id"]] == raw else "session_id_conflict"
            rejects[rule] = rejects.get(rule, 0) + 1
            continue
        seen[doc["session_id"]] = raw
        frames.append(pd.DataFrame(doc["events"], columns=EVENT_FIELDS))
        files.append((name, doc["user_id"], doc["session_id"], doc["client"].get("device"), float(doc["time_origin"])))
    # One concat; the keys level names each event's file, the inner index is its event index.
    events = pd.concat(frames, keys=range(len(frames)), names=["file", "event_index"]).reset_index()
    meta = pd.DataFrame(files, columns=["source_file", "user_id", "session_id", "platform", "time_origin"])
    events = events.join(meta, on="file")
    events_in = len(events)

    is_repeat = (events["type"] == "down") & events["repeat"]
    is_ime = events["composing"] | (events["keyCode"] == 229)
    rejects["repeat_keydown"] = rejects.get("repeat_keydown", 0) + int(is_repeat.sum())
    rejects["ime_composing"] = rejects.get("ime_composing", 0) + int((is_ime & ~is_repeat).sum())
    kept = events[~(is_repeat | is_ime)].sort_values(["source_file", "code", "t", "event_index"])
    by_key = kept.groupby(["source_file", "code"], sort=False)
    next_type = by_key["type"].shift(-1)
    next_t = by_key["t"].shift(-1)
    prev_type = by_key["type"].shift(1)
    down = kept["type"] == "down"
    paired = down & (next_type == "up")
    rejects["unmatched_keydown"] = rejects.get("unmatched_keydown", 0) + int((down & ~paired).sum())
    rejects["unmatched_keyup"] = rejects.get("unmatched_keyup", 0) + int((~down & (prev_type != "down")).sum())
    k = kept[paired]
    candidates = pd.DataFrame({
        "source": "webapp", "platform": k["platform"], "user_id": k["user_id"], "session_id": k["session_id"],
        "press_ms": k["time_origin"] + k["t"], "release_ms": k["time_origin"] + next_t[paired],
        "key": k["key"], "keycode": k["keyCode"], "source_file": k["source_file"], "source_line": k["event_index"],
    })
    return candidates, events_in


def load_aalto(folder, rejects):
    """Aalto 136M files -> keystroke candidates, one per data line (quoting off: `"` is a LETTER)."""
    frames, rows_in = [], 0
    for path in sorted(glob.glob(os.path.join(folder, "*_keystrokes.txt"))):
        with open(path, "rb") as f:
            raw = f.read()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("cp1252")
        lines = text.count("\n") - (0 if text.endswith("\n") else -1)
        df = pd.read_csv(io.StringIO(text), sep="\t", quoting=csv.QUOTE_NONE, dtype=str,
                         keep_default_na=False, on_bad_lines="skip")
        rows_in += lines - 1
        # Rows without 9 fields are skipped by the reader; count them, as pipe rejects them.
        rejects["aalto_field_count"] = rejects.get("aalto_field_count", 0) + (lines - 1 - len(df))
        df["source_file"] = os.path.basename(path)
        df["source_line"] = np.arange(2, len(df) + 2)  # header is line 1
        frames.append(df)
    rows = pd.concat(frames, ignore_index=True)
    nums = {c: pd.to_numeric(rows[c], errors="coerce") for c in ["KEYSTROKE_ID", "PRESS_TIME", "RELEASE_TIME", "KEYCODE"]}
    missing_id = (rows["PARTICIPANT_ID"] == "") | (rows["TEST_SECTION_ID"] == "")
    bad_number = ~missing_id & (pd.concat(nums, axis=1).isna().any(axis=1) | (nums["KEYCODE"] != np.floor(nums["KEYCODE"])))
    out_of_range = ~missing_id & ~bad_number & ((nums["KEYCODE"] < 0) | (nums["KEYCODE"] > 255))
    for rule, mask in [("aalto_missing_id", missing_id), ("aalto_bad_number", bad_number), ("keycode_out_of_range", out_of_range)]:
        rejects[rule] = rejects.get(rule, 0) + int(mask.sum())
    ok = ~(missing_id | bad_number | out_of_range)
    candidates = pd.DataFrame({
        "source": "aalto", "platform": "desktop", "user_id": rows["PARTICIPANT_ID"][ok],
        "session_id": rows["TEST_SECTION_ID"][ok], "press_ms": nums["PRESS_TIME"][ok],
        "release_ms": nums["RELEASE_TIME"][ok], "key": rows["LETTER"][ok], "keycode": nums["KEYCODE"][ok].astype(int),
        "source_file": rows["source_file"][ok], "source_line": rows["source_line"][ok],
    })
    return candidates, rows_in


def clean(candidates, rejects, max_hold_ms, min_keystrokes):
    """Hold rules, then sessions with too few keystrokes; seq = order by press time in a session."""
    hold = candidates["release_ms"] - candidates["press_ms"]
    for rule, mask in [("hold_negative", hold < 0), ("hold_zero", hold == 0), ("hold_over_max", hold > max_hold_ms)]:
        rejects[rule] = rejects.get(rule, 0) + int(mask.sum())
    ks = candidates[(hold > 0) & (hold <= max_hold_ms)]
    session = ["source", "user_id", "session_id"]
    size = ks.groupby(session)["press_ms"].transform("size")
    rejects["session_too_few_keystrokes"] = rejects.get("session_too_few_keystrokes", 0) + int((size < min_keystrokes).sum())
    ks = ks[size >= min_keystrokes].sort_values(session + ["press_ms", "source_line"], kind="mergesort")
    ks["seq"] = ks.groupby(session).cumcount()
    return ks.reset_index(drop=True)


def keypairs(ks):
    """Consecutive keystrokes within a session: HL, IL, PL, RL in ms."""
    g = ks.groupby(["source", "user_id", "session_id"], sort=False)
    nxt = pd.DataFrame({"keycode2": g["keycode"].shift(-1), "press2": g["press_ms"].shift(-1), "release2": g["release_ms"].shift(-1)})
    has_next = nxt["keycode2"].notna()
    k, n = ks[has_next], nxt[has_next]
    return pd.DataFrame({
        "source": k["source"], "user_id": k["user_id"], "session_id": k["session_id"], "seq": k["seq"],
        "keycode1": k["keycode"], "keycode2": n["keycode2"].astype(int),
        "hl_ms": k["release_ms"] - k["press_ms"], "il_ms": n["press2"] - k["release_ms"],
        "pl_ms": n["press2"] - k["press_ms"], "rl_ms": n["release2"] - k["release_ms"],
    }).reset_index(drop=True)


def features(kp, m, min_sessions):
    """TypeNet sequences: M rows per session of users with enough sessions, zero-padded at the end."""
    per_user = kp.groupby("user_id")["session_id"].nunique()
    users = per_user[per_user >= min_sessions]
    sessions = kp[["user_id", "session_id"]].drop_duplicates()
    sessions = sessions[sessions["user_id"].isin(users.index)]
    grid = sessions.loc[sessions.index.repeat(m)].reset_index(drop=True)
    grid["position"] = np.tile(np.arange(m), len(sessions))
    first = kp[kp["seq"] < m].rename(columns={"seq": "position"})
    seq = grid.merge(first, on=["user_id", "session_id", "position"], how="left")
    out = pd.DataFrame({"user_id": seq["user_id"], "session_id": seq["session_id"], "position": seq["position"]})
    out["is_padding"] = seq["keycode1"].isna()
    out["keycode_norm"] = (seq["keycode1"] / 255).fillna(0.0)
    for f in ["hl", "il", "pl", "rl"]:
        out[f"{f}_s"] = (seq[f"{f}_ms"] / 1000).fillna(0.0)
    return out.sort_values(["user_id", "session_id", "position"]), users


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--uploads", required=True)
    p.add_argument("--format", choices=["webapp", "aalto"], required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--max-hold-ms", type=float, default=5000)
    p.add_argument("--min-keystrokes", type=int, default=10)
    p.add_argument("--m", type=int, default=50)
    p.add_argument("--min-sessions", type=int, default=15)
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)
    seconds, rejects = {}, {}
    t = time.perf_counter()
    candidates, units_in = (load_webapp if a.format == "webapp" else load_aalto)(a.uploads, rejects)
    ks = clean(candidates, rejects, a.max_hold_ms, a.min_keystrokes)
    del candidates
    seconds["clean"] = time.perf_counter() - t
    t = time.perf_counter()
    kp = keypairs(ks)
    seconds["keypairs"] = time.perf_counter() - t
    t = time.perf_counter()
    seqs, users = features(kp, a.m, a.min_sessions)
    seconds["features"] = time.perf_counter() - t
    t = time.perf_counter()
    kp.to_csv(os.path.join(a.out, "keypairs.csv"), index=False)
    seqs.to_csv(os.path.join(a.out, "sequences.csv"), index=False)
    seconds["write_csv"] = time.perf_counter() - t
    result = {
        "format": a.format, "units_in": units_in, "keystrokes": len(ks), "sessions": int(ks.groupby(["source", "user_id", "session_id"]).ngroups),
        "keypairs": len(kp), "sequence_rows": len(seqs), "users_kept": len(users),
        "rejects": {k: v for k, v in sorted(rejects.items()) if v > 0}, "seconds": seconds,
        "pandas": pd.__version__, "numpy": np.__version__,
    }
    with open(os.path.join(a.out, "result.json"), "w") as f:
        json.dump(result, f, indent=2)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
