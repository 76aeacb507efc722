#!/usr/bin/env python3
# zipquine.py [OUT] - write a zip file that contains itself: r.zip whose
# one member, r.zip, unpacks to exactly the same bytes, CRC and all.
# scripts/make-bombs attaches it to the "zip-quine" bomb; a scanner or
# converter that follows members without a depth limit never ends.
#
# The construction is Russ Cox's ("Zip Files All The Way Down", 2010),
# worked out again here.  DEFLATE gets two operations:
#   L(n)    a stored block: 5 header bytes, then n bytes copied to the
#           output as they are;
#   R(n)    a fixed-Huffman block that copies the last n bytes of output
#           again (distance n, length n, as one or more copies).
# The program below prints P (the zip bytes before the compressed data),
# then itself, then S (the bytes after); its comments say which bytes
# of the output each line catches up.  Every R must take an exact number
# of bytes, so its copies are chosen to fill them; an empty stored block
# after a Huffman block brings it back to a byte boundary.
#
# The CRC-32 of the file is stored in the file four times (in P and S,
# each present twice).  CRC-32 is affine over GF(2) for inputs of one
# length, so the value that is its own checksum solves a 32 x 32 linear
# system; when that has no solution another modification time is tried.
import struct
import sys
import zlib

LEN_BASE = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43,
            51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258]
LEN_EXTRA = [0] * 8 + [1] * 4 + [2] * 4 + [3] * 4 + [4] * 4 + [5] * 4 + [0]
DIST_BASE = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257,
             385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289,
             16385, 24577]
DIST_EXTRA = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9,
              9, 10, 10, 11, 11, 12, 12, 13, 13]


class Bits:
    """DEFLATE's bit order: values LSB first, Huffman codes MSB first."""

    def __init__(self):
        self.bits = []

    def put(self, value, n):
        self.bits += [(value >> i) & 1 for i in range(n)]

    def code(self, value, n):
        self.bits += [(value >> i) & 1 for i in range(n - 1, -1, -1)]

    def align(self):
        self.bits += [0] * (-len(self.bits) % 8)

    def bytes(self):
        self.align()
        return bytes(sum(b << j for j, b in enumerate(self.bits[i:i + 8]))
                     for i in range(0, len(self.bits), 8))


def fixed_symbol(b, sym):
    if sym < 144:
        b.code(0x30 + sym, 8)
    elif sym < 256:
        b.code(0x190 + sym - 144, 9)
    elif sym < 280:
        b.code(sym - 256, 7)
    else:
        b.code(0xc0 + sym - 280, 8)


def put_copy(b, length, dist):
    i = max(k for k in range(28) if LEN_BASE[k] <= length)
    if length == 258:
        i = 28
    fixed_symbol(b, 257 + i)
    b.put(length - LEN_BASE[i], LEN_EXTRA[i])
    j = max(k for k in range(30) if DIST_BASE[k] <= dist)
    b.code(j, 5)
    b.put(dist - DIST_BASE[j], DIST_EXTRA[j])


def copy_bits(length, dist):
    b = Bits()
    put_copy(b, length, dist)
    return len(b.bits)


def L(n):
    return b'\0' + struct.pack('<HH', n, n ^ 0xffff)


def R(n, size, final=False):
    """Copy n bytes from n back, in exactly size bytes; None if it can't."""
    cost = {k: copy_bits(k, n) for k in range(3, min(258, n) + 1)}
    # ways[(bytes copied, bits used)] = the copy lengths that get there
    ways = {(0, 0): []}
    frontier = dict(ways)
    for _ in range(7):
        nxt = {}
        for (total, bits), lengths in frontier.items():
            for k, c in cost.items():
                key = (total + k, bits + c)
                if total + k <= n and key not in ways and key not in nxt:
                    nxt[key] = lengths + [k]
        ways.update(nxt)
        frontier = nxt
    done = sorted((v for (t, _), v in ways.items() if t == n), key=len)
    for lengths in done:
        bits = 3 + 7 + sum(cost[k] for k in lengths)
        for tail in (False, True):
            nbytes = (bits + 10) // 8 + 4 if tail else (bits + 7) // 8
            if nbytes != size or (not tail and bits % 8 and not final):
                continue
            b = Bits()
            b.put(1 if final and not tail else 0, 1)
            b.put(1, 2)
            for k in lengths:
                put_copy(b, k, n)
            fixed_symbol(b, 256)
            if not tail:
                return b.bytes()
            b.put(1 if final else 0, 1)
            b.put(0, 2)
            return b.bytes() + struct.pack('<HH', 0, 0xffff)
    return None


def program(P, S):
    """The DEFLATE stream that inflates to P + itself + S."""
    p, s = len(P), len(S)
    # The self-similar core: R(x) in rx bytes with x == 2*rx + 10, and
    # x == rx + 5*3 + 5 so that three empty L(0) fill the line before S.
    x, rx = 30, 10
    for g in range(3):
        rp = x - 15 - 5 * g
        Rp = R(p + 5, rp)
        if Rp:
            break
    else:
        raise ValueError('no R(%d) in 5 to 15 bytes' % (p + 5))
    Rx = R(x, rx)
    for rz in range(5, 64):
        Rz = R(rz + s, rz, final=True)
        if Rz:
            break
    else:
        raise ValueError('no R(%d + S) found' % s)
    z = rz + s
    L0 = L(0) * g
    lp = L(rp + 5 * g)
    return b''.join([
        L(p + 5), P, L(p + 5),                  # P, then this line's head
        Rp, L0,                                 # this line again
        lp, Rp, L0,                             # the R line
        L(5), lp,                               # the head of the line above
        L(x), Rp, L0, L(5), lp, L(x),           # the lines above, and mine
        Rx,                                     # my body again
        L(x), Rx, L(x), Rx, L(x),               # self-similar: half of me
        Rx,                                     # the other half
        L(x), Rx, L(0) * 3, L(z),               # the R, fillers, S's head
        Rx,                                     # that again
        L(0) * 3,
        L(z), Rz, S,                            # the last R, and S
        Rz,                                     # that again, and the end
    ])


def zip_parts(name, crc, dlen, mtime, mdate):
    usize = 30 + len(name) + dlen + 46 + len(name) + 22
    P = struct.pack('<IHHHHHIIIHH', 0x04034b50, 20, 0, 8, mtime, mdate, crc,
                    dlen, usize, len(name), 0) + name
    S = struct.pack('<IHHHHHHIIIHHHHHII', 0x02014b50, 20, 20, 0, 8, mtime,
                    mdate, crc, dlen, usize, len(name), 0, 0, 0, 0, 0,
                    0) + name
    S += struct.pack('<IHHHHIIH', 0x06054b50, 0, 0, 1, 1, 46 + len(name),
                     len(P) + dlen, 0)
    return P, S


def own_crc(build):
    """The c with crc32(build(c)) == c, or None."""
    f0 = zlib.crc32(build(0))
    cols = [zlib.crc32(build(1 << i)) ^ f0 for i in range(32)]
    # Row r of (M + I) c = f0, as a bit mask over c and a right side.
    rows = []
    for r in range(32):
        mask = sum((((cols[i] >> r) & 1) ^ (i == r)) << i for i in range(32))
        rows.append([mask, (f0 >> r) & 1])
    pivots = []
    for col in range(32):
        rank = len(pivots)
        sel = next((k for k in range(rank, 32) if rows[k][0] >> col & 1),
                   None)
        if sel is None:
            continue
        rows[rank], rows[sel] = rows[sel], rows[rank]
        for k in range(32):
            if k != rank and rows[k][0] >> col & 1:
                rows[k][0] ^= rows[rank][0]
                rows[k][1] ^= rows[rank][1]
        pivots.append(col)
    if any(rows[k][1] for k in range(len(pivots), 32)):
        return None
    return sum(rows[k][1] << col for k, col in enumerate(pivots))


def zip_quine(name=b'r.zip'):
    mdate = 0x5821                              # 2024-01-01
    for mtime in range(0, 0xbf7d):
        P, S = zip_parts(name, 0, 0, mtime, mdate)
        dlen = len(program(P, S))

        def build(crc):
            P, S = zip_parts(name, crc, dlen, mtime, mdate)
            return P + program(P, S) + S
        crc = own_crc(build)
        if crc is None:
            continue
        z = build(crc)
        assert zlib.crc32(z) == crc
        assert zlib.decompress(z[30 + len(name):-(68 + len(name))], -15) == z
        return z
    raise ValueError('no modification time gives a CRC fixed point')


if __name__ == '__main__':
    data = zip_quine()
    if len(sys.argv) > 1:
        with open(sys.argv[1], 'wb') as f:
            f.write(data)
    else:
        sys.stdout.buffer.write(data)
