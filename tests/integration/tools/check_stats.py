"""Checks a statistics dump with real parsers: JSON with the json module
(every field of the spec, calls = hits + misses + bypassed) and the
Prometheus text exposition with prometheus_client's own parser."""
import json
import sys

METHOD_FIELDS = ["name", "object", "hook", "mode", "calls", "hits", "misses", "bypassed",
                 "stored", "stale", "mismatches", "uncacheable", "coalesced", "shared_hits",
                 "expired", "evicted", "invalidated", "entries", "bytes", "miss_ns", "saved_ns",
                 "negative"]
TOP_FIELDS = ["version", "pid", "program", "uptime_s", "backend", "entries", "bytes",
              "methods", "invalidators"]


def check_json(text):
    docs = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    assert docs, "no JSON object"
    for d in docs:
        assert [k for k in d if k != "host"] == TOP_FIELDS, list(d)
        for m in d["methods"]:
            assert list(m) == METHOD_FIELDS, list(m)
            assert m["calls"] == m["hits"] + m["misses"] + m["bypassed"], m
        for w in d["invalidators"]:
            assert list(w) == ["name", "object", "hook", "calls", "dropped"], list(w)
    print(json.dumps(docs[-1]["methods"][0]))


def check_prom(text):
    from prometheus_client.parser import text_string_to_metric_families
    values = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            assert set(s.labels) == {"method", "program"}, s
            values[(s.name, s.labels["method"])] = s.value
    calls = {m: v for (n, m), v in values.items() if n == "ldmemo_calls_total"}
    assert calls, "no ldmemo_calls_total"
    for m, c in calls.items():
        parts = sum(values[(n, m)] for n in
                    ("ldmemo_hits_total", "ldmemo_misses_total", "ldmemo_bypassed_total"))
        assert c == parts, (m, c, parts)
    print(json.dumps({f"{n}{{{m}}}": v for (n, m), v in sorted(values.items())}))


kind, path = sys.argv[1], sys.argv[2]
text = open(path).read()
check_json(text) if kind == "json" else check_prom(text)
