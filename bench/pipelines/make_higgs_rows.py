#!/usr/bin/python3
"""Writes N rows in the UCI HIGGS.csv.gz layout (no header, label first, 28 features, '%.18e')
by resampling the rows of ../shared/datasets/higgs_synthetic_10k.csv.gz with a little seeded
Gaussian jitter, so a benchmark can read a file of the real one's shape at any size.

    make_higgs_rows.py SOURCE.csv.gz OUT.csv.gz ROWS
"""
import gzip
import random
import struct
import sys


def f32(x):
    return struct.unpack("f", struct.pack("f", x))[0]


def main():
    source, out, rows = sys.argv[1], sys.argv[2], int(sys.argv[3])
    with gzip.open(source, "rt") as f:
        base = [[float(v) for v in line.split(",")] for line in f if line.strip()]
    rng = random.Random(20261126)
    with gzip.open(out, "wt", compresslevel=1) as f:
        for i in range(rows):
            row = base[rng.randrange(len(base))]
            values = [row[0]] + [f32(v + rng.gauss(0.0, 0.02) * (abs(v) + 0.1)) for v in row[1:]]
            f.write(",".join("%.18e" % v for v in values))
            f.write("\n")
            if i % 200_000 == 0:
                print(f"  {i:,} rows", file=sys.stderr)


if __name__ == "__main__":
    main()
