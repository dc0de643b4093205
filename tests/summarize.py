#!/usr/bin/python3
"""summarize.py RESULTS_DIR: sums every JUnit XML report in RESULTS_DIR
(cmocka's and pytest's alike) and every STEP file (a build or a suite that
failed before it could report, written by tests/run.sh), prints one line
per suite and then the closing line "N passed, N failed, N skipped".
Exits 1 when anything failed."""
import glob
import os
import sys
import xml.etree.ElementTree as ET


def suites(root):
    if root.tag == "testsuite":
        yield root
    for s in root.iter("testsuite"):
        if s is not root:
            yield s


def count(path):
    passed = failed = skipped = 0
    tree = ET.parse(path)
    for s in suites(tree.getroot()):
        cases = s.findall("testcase")
        if cases:
            for c in cases:
                if c.find("failure") is not None or c.find("error") is not None:
                    failed += 1
                elif c.find("skipped") is not None:
                    skipped += 1
                else:
                    passed += 1
        else:
            n = int(s.get("tests", 0))
            f = int(s.get("failures", 0)) + int(s.get("errors", 0))
            k = int(s.get("skipped", 0))
            passed += n - f - k
            failed += f
            skipped += k
    return passed, failed, skipped


def main():
    results = sys.argv[1]
    total = [0, 0, 0]
    for path in sorted(glob.glob(os.path.join(results, "*.xml"))):
        name = os.path.basename(path)[:-4]
        try:
            p, f, s = count(path)
        except ET.ParseError as e:
            p, f, s = 0, 1, 0
            print(f"{name}: unreadable report ({e})")
        print(f"  {name}: {p} passed, {f} failed, {s} skipped")
        for i, v in enumerate((p, f, s)):
            total[i] += v
    for path in sorted(glob.glob(os.path.join(results, "*.step"))):
        with open(path) as fh:
            print(f"  FAILED STEP {os.path.basename(path)[:-5]}: {fh.read().strip()}")
        total[1] += 1
    print(f"{total[0]} passed, {total[1]} failed, {total[2]} skipped")
    return 1 if total[1] or total[0] == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
