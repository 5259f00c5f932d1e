#!/usr/bin/env python3
"""Writes a small float32 .npy of token sequences for `make demo`.

Standard library only, so the demo runs on a machine without numpy.
Sequence 1 is sequence 0 plus a little noise; sequence 2 is unrelated, so the
demo can show that nearby inputs give nearby embeddings.
"""
import random
import struct
import sys

BATCH, TOKENS, DIM = 3, 16, 192


def main(path: str, seed: int = 0) -> None:
    rng = random.Random(seed)
    first = [rng.gauss(0, 1) for _ in range(TOKENS * DIM)]
    near = [value + rng.gauss(0, 0.1) for value in first]
    other = [rng.gauss(0, 1) for _ in range(TOKENS * DIM)]
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d, %d), }" % (BATCH, TOKENS, DIM)
    # Pad so that magic (6) + version (2) + length (2) + header + newline is a multiple of 64.
    header += " " * (63 - (10 + len(header)) % 64) + "\n"
    with open(path, "wb") as output:
        output.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode("latin1"))
        output.write(struct.pack("<%df" % (BATCH * TOKENS * DIM), *(first + near + other)))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 0)
