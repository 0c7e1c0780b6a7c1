#!/usr/bin/env python3
"""filters_cover.py BINARY FILTER...: every GoogleTest suite in BINARY (--gtest_list_tests) is run by exactly one
of the meson tests' --gtest_filter values (tests/integration/meson.build). The integration tests share one
executable, so a suite added to a file but to no filter would otherwise never run, and one in two filters would
run twice against the same testbed accounts."""
import fnmatch
import subprocess
import sys

binary, filters = sys.argv[1], sys.argv[2:]
listing = subprocess.run([binary, "--gtest_list_tests"], check=True, capture_output=True, text=True).stdout
cases = []
suite = None
for line in listing.splitlines():
    if not line.strip():
        continue
    if not line.startswith(" "):
        suite = line.split()[0].rstrip(".")
    else:
        cases.append(f"{suite}.{line.split()[0]}")


def matches(pattern, case):
    return fnmatch.fnmatchcase(case, pattern)


bad = []
for case in cases:
    owners = [f for f in filters if any(matches(p, case) for p in f.split(":"))]
    if len(owners) != 1:
        bad.append(f"{case}: in {len(owners)} filters")
for f in filters:
    if not any(matches(p, c) for p in f.split(":") for c in cases):
        bad.append(f"filter {f} matches no test case")
if not cases:
    bad.append(f"{binary} lists no test case")
for b in bad:
    print("filters_cover:", b, file=sys.stderr)
print(f"filters_cover: {len(cases)} test cases, {len(filters)} filters")
sys.stdout.flush()
sys.exit(1 if bad else 0)
