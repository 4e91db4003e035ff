#!/usr/bin/env python3
"""The mixture weights of a PocketSphinx model that ships them only quantised ("sendump"),
back as a SphinxTrain "mixture_weights" file, which bw needs to align the adaptation data.

sendump (written by SphinxTrain's mk_s2sendump, read by PocketSphinx's s2_semi_mgau.c):
length-prefixed strings (a format description, "key value" headers, an empty one), the
number of Gaussians and of senones, then, per feature stream and per Gaussian, one byte per
senone: the weight's -log base 1.0001, shifted
right by mixw_shift. The output is SphinxTrain's binary s3 format: a text header, the
byte-order word, the three dimensions (senones, streams, Gaussians), float32 weights
normalised per senone and stream. The Python 2 sendump.py of sphinxtrain does the same
with numpy; this one needs neither."""
import struct
import sys


def main(src, dst):
    data = open(src, "rb").read()
    pos = 0
    fmt = "<I"

    def nstr():
        nonlocal pos, fmt
        (n,) = struct.unpack_from(fmt, data, pos)
        if n > 65536:
            fmt = ">I"
            (n,) = struct.unpack_from(fmt, data, pos)
        pos += 4
        s = data[pos:pos + n - 1].decode() if n else None
        pos += n
        return s

    head = {}
    nstr()  # title
    while True:
        s = nstr()
        if s is None:
            break
        k, _, v = s.partition(" ")
        head[k] = v
    shift = int(head.get("mixw_shift", 10))
    n_feat = int(head.get("feature_count", 1))
    if int(head.get("cluster_count", 0)):
        sys.exit("sendump2mixw: clustered sendump files are not supported")
    n_gau, n_sen = struct.unpack_from(fmt[0] + "2I", data, pos)
    pos += 8
    if len(data) - pos != n_feat * n_gau * n_sen:
        sys.exit("sendump2mixw: %s is not the size its header says" % src)
    w = [[[0.0] * n_gau for _ in range(n_feat)] for _ in range(n_sen)]
    for f in range(n_feat):
        for g in range(n_gau):
            row = data[pos:pos + n_sen]
            pos += n_sen
            for s in range(n_sen):
                w[s][f][g] = 1.0001 ** -(row[s] << shift)
    out = bytearray()
    for s in range(n_sen):
        for f in range(n_feat):
            t = sum(w[s][f]) or 1.0
            out += struct.pack("<%df" % n_gau, *[x / t for x in w[s][f]])
    hdr = b"s3\nversion 1.0\n"
    pad = (4 - (len(hdr) + 7) % 4) % 4
    with open(dst, "wb") as o:
        o.write(hdr + b" " * pad + b"endhdr\n")
        o.write(struct.pack("<i", 0x11223344))
        o.write(struct.pack("<4I", n_sen, n_feat, n_gau, n_sen * n_feat * n_gau))
        o.write(out)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: sendump2mixw.py SENDUMP MIXTURE_WEIGHTS")
    main(sys.argv[1], sys.argv[2])
