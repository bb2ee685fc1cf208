"""Links two CSV files with Splink, for the side-by-side matching benchmark.

Called by `cargo bench --bench matching -- splink` (benches/matching.rs), which writes the
files and reads the pairs back. The model is a standard one, as in Splink's tutorials:
comparisons by kind of column (names: Jaro-Winkler levels with term frequencies; dates:
Splink's date-of-birth comparison; numbers: exact and Levenshtein; emails and domains: exact
and fuzzy), u by random sampling, the prior from deterministic rules, m by EM over several
blocking rules (columns in turn), blocking for prediction on pairs of columns, name prefixes
and exact columns. Pairs at a match
probability of 0.5 or more are reduced one to one, greedily by descending probability.

Usage: python splink_runner.py SPEC.json
SPEC: {"left": path, "right": path, "out": path,
       "columns": [{"name": "c0", "kind": "name|date|number|text|email|domain"}, ...]}
Writes OUT (left_id,right_id,probability) and prints one JSON line: seconds, peak_bytes,
pairs_scored, pairs.
"""

import json
import re
import resource
import sys
import time

import duckdb  # noqa: F401  (the backend)
import pandas as pd

import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on

DOMAIN = re.compile(r"^(?:[a-z]+://)?(?:www\.)?([^/?#:]+)")


def clean(kind, v):
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return None
    v = str(v).strip().lower()
    if not v:
        return None
    if kind == "number":
        v = re.sub(r"\D", "", v)
    elif kind == "domain":
        m = DOMAIN.match(v)
        v = m.group(1) if m else v
    elif kind in ("name", "text"):
        v = re.sub(r"[^0-9a-z ]+", " ", v)
        v = re.sub(r"\s+", " ", v).strip()
    return v or None


def comparison(col, kind):
    if kind == "name":
        return cl.NameComparison(col).configure(term_frequency_adjustments=True)
    if kind == "date":
        return cl.DateOfBirthComparison(col, input_is_string=True)
    if kind == "number":
        return cl.LevenshteinAtThresholds(col, [1, 2])
    if kind == "email":
        return cl.EmailComparison(col)
    if kind == "domain":
        return cl.ExactMatch(col)
    return cl.JaroWinklerAtThresholds(col, [0.9, 0.7])


def main():
    spec = json.load(open(sys.argv[1]))
    cols = spec["columns"]
    frames = []
    for side in ("left", "right"):
        df = pd.read_csv(spec[side], dtype=str, keep_default_na=False)
        for c in cols:
            df[c["name"]] = [clean(c["kind"], v) for v in df[c["name"]]]
        for c in cols:
            if c["kind"] == "name":
                s = df[c["name"]].fillna("")
                df[c["name"] + "_p"] = [x[:3] or None for x in s]
                df[c["name"] + "_s"] = [x[-3:] or None for x in s]
        frames.append(df)

    start = time.perf_counter()
    db = DuckDBAPI()
    left = db.register(frames[0], dataset_display_name="a_left")
    right = db.register(frames[1], dataset_display_name="b_right")

    names = [c["name"] for c in cols if c["kind"] == "name"]
    exact = [c["name"] for c in cols if c["kind"] in ("date", "number", "email", "domain")]
    every = [c["name"] for c in cols]
    # Blocking for prediction: with one or two columns, each name's first and last three
    # letters (and each exact column); with more, every two columns agreeing exactly, a name's
    # first three letters with another column, and each exact column alone.
    blocking = []
    if len(every) <= 2:
        for n in names:
            blocking += [block_on(n + "_p"), block_on(n + "_s")]
    else:
        for i, a in enumerate(every):
            for b in every[i + 1:]:
                blocking.append(block_on(a, b))
        for n in names:
            for o in every:
                if o != n:
                    blocking.append(block_on(n + "_p", o))
    blocking += [block_on(e) for e in exact]
    # EM sessions, each blocking on some columns and training the others' m: with one column,
    # its first three letters; with two, each column in turn (a name on its first three
    # letters); with more, pairs of columns in turn, so that every column is trained.
    def alone(c):
        return block_on(c + "_p") if c in names else block_on(c)

    if len(every) <= 2:
        training = [alone(c) for c in every]
    else:
        training = [block_on(every[i], every[(i + 1) % len(every)]) for i in range(0, len(every), 2)]
    settings = SettingsCreator(
        link_type="link_only",
        unique_id_column_name="unique_id",
        comparisons=[comparison(c["name"], c["kind"]) for c in cols],
        blocking_rules_to_generate_predictions=blocking,
        retain_intermediate_calculation_columns=False,
    )
    linker = Linker([left, right], settings, log_level=40)
    # The prior: pairs that agree on every name exactly (or on an exact column), recall 0.6.
    deterministic = [block_on(*names)] if names else []
    deterministic += [block_on(e) for e in exact]
    phase = time.perf_counter()

    def done(what):
        nonlocal_phase[0] = time.perf_counter() - nonlocal_phase[1]
        nonlocal_phase[1] = time.perf_counter()
        print(f"{what}: {nonlocal_phase[0]:.1f} s", file=sys.stderr)

    nonlocal_phase = [0.0, phase]
    linker.training.estimate_probability_two_random_records_match(deterministic, recall=0.6)
    done("prior")
    linker.training.estimate_u_using_random_sampling(max_pairs=1e7, seed=1)
    done("u")
    # m by EM, one session per blocking rule (each leaves its own columns untrained).
    for rule in training:
        try:
            linker.training.estimate_parameters_using_expectation_maximisation(rule)
        except Exception as e:  # a rule that blocks too few pairs
            print(f"EM with {rule} skipped: {e}", file=sys.stderr)
    done("m")
    preds = linker.inference.predict(threshold_match_probability=0.5).as_pandas_dataframe()
    done("predict")
    scored = len(preds)
    preds = preds.sort_values("match_probability", ascending=False, kind="stable")
    # Each pair with the left file's record first.
    flip = preds["source_dataset_l"] != "a_left"
    lefts = preds["unique_id_l"].where(~flip, preds["unique_id_r"])
    rights = preds["unique_id_r"].where(~flip, preds["unique_id_l"])
    used_l, used_r, pairs = set(), set(), []
    for l, r, p in zip(lefts, rights, preds["match_probability"]):
        if l in used_l or r in used_r:
            continue
        used_l.add(l)
        used_r.add(r)
        pairs.append((l, r, p))
    secs = time.perf_counter() - start
    pd.DataFrame(pairs, columns=["left_id", "right_id", "probability"]).to_csv(
        spec["out"], index=False
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"seconds": secs, "peak_bytes": peak, "pairs_scored": scored,
                      "pairs": len(pairs)}))


if __name__ == "__main__":
    main()
