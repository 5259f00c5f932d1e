#!/usr/bin/env python3
"""Draws two 28×28 gray PNGs in the style of Fashion-MNIST (light object on
black) for `make demo`: a pair of trousers and a bag. Standard library only."""
import struct
import sys
import zlib


def png(path, pixels):
    height, width = len(pixels), len(pixels[0])
    raw = b"".join(b"\x00" + bytes(row) for row in pixels)

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    with open(path, "wb") as handle:
        handle.write(b"\x89PNG\r\n\x1a\n")
        handle.write(chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)))
        handle.write(chunk(b"IDAT", zlib.compress(raw)))
        handle.write(chunk(b"IEND", b""))


def trousers():
    image = [[0] * 28 for _ in range(28)]
    for y in range(2, 27):
        for x in range(8, 20):
            waist = y < 9
            legs = (8 <= x <= 12 or 15 <= x <= 19)
            if waist or legs:
                image[y][x] = 200
    return image


def bag():
    image = [[0] * 28 for _ in range(28)]
    for y in range(10, 25):
        for x in range(4, 24):
            image[y][x] = 170
    for y in range(4, 10):
        for x in range(9, 19):
            if y == 4 or x in (9, 18):
                image[y][x] = 210
    return image


if __name__ == "__main__":
    folder = sys.argv[1]
    png(f"{folder}/trousers.png", trousers())
    png(f"{folder}/bag.png", bag())
