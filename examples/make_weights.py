"""Writes the bundled example's weights (examples/model): float32 values drawn from a
normal distribution, like a real checkpoint, as a .npy file (format 1.0, no pickle),
which code/inference.py loads with numpy.load(allow_pickle=False). Standard library only.

    python3 examples/make_weights.py MODEL_DIR/weights.npy [--mib 64]
"""

import argparse
import random
import struct

VALUES_PER_BLOCK = 65536  # 256 KiB of float32


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path")
    parser.add_argument("--mib", type=int, default=64, help="size of the weights (default 64)")
    args = parser.parse_args()
    rng = random.Random(0)
    block = struct.pack(f"<{VALUES_PER_BLOCK}f", *(rng.gauss(0.0, 0.02) for _ in range(VALUES_PER_BLOCK)))
    blocks = args.mib * 4
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (%d,), }" % (VALUES_PER_BLOCK * blocks)
    header += " " * (-(10 + len(header) + 1) % 64) + "\n"  # the data starts 64-byte aligned
    with open(args.path, "wb") as out:
        out.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode())
        for i in range(blocks):
            # Each block rotated by a few values, so that no two blocks are the same bytes.
            out.write(block[i % 7 * 4:] + block[:i % 7 * 4])


if __name__ == "__main__":
    main()
