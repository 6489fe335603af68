#!/usr/bin/env python3
"""Writes crypto.apdu and crypto-padding.apdu, the crypto conformance applet's APDU scripts.

The expected values are published known answers typed in from their sources (FIPS 180-4
examples, FIPS 197 appendix C, SP 800-38A F.1/F.2, SP 800-67 example, SP 800-20 table A.1,
RFC 2202, RFC 4231, RFC 6979 A.2.5, NIST CAVP ECC CDH; ISO/IEC 9797-1 methods 1 and 2 and
PKCS#5 paddings applied by hand to SP 800-38A plaintexts; RFC 4493 and SP 800-38B D.3
AES-CMAC), each checked here against Python
`cryptography` (OpenSSL) before it is written; the RSA-2048 PKCS#1 v1.5 values use the
golden test key (../shared/golden/crypto/keys) and are computed by `cryptography`. The
InitializedMessageDigest vectors continue from intermediate hash values computed here by the
SHA compression functions written from FIPS 180-4 (checked against hashlib first) and expect
hashlib's digest of the whole message.
Run from the repository: python3 applets/conformance/crypto/gen_script.py
"""
import hashlib
import hmac
import os
import sys

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, utils
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

try:
    from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
except ImportError:  # older cryptography
    TripleDES = algorithms.TripleDES

HERE = os.path.dirname(os.path.abspath(__file__))
KEY_PEM = os.path.join(HERE, "../../../../shared/golden/crypto/keys/rsa2048-test-key.pem")

lines = []


def h(s):
    return bytes.fromhex("".join(s.split()))


def x(b):
    return b.hex().upper()


def comment(text):
    lines.append("")
    lines.append("# " + text)


def apdu(ins, p1, p2, data=b"", le=False, expect=b"", sw="9000"):
    cmd = "80 %02X %02X %02X" % (ins, p1 & 0xFF, p2 & 0xFF)
    if data:
        cmd += " %02X %s" % (len(data), x(data))
    if le:
        cmd += " 00"
    lines.append("> " + cmd)
    lines.append("< " + (x(expect) + " " if expect else "") + sw)


def s2(*values):
    return b"".join(v.to_bytes(2, "big") for v in values)


def put(off, data):
    for i in range(0, len(data), 255):
        chunk = data[i:i + 255]
        apdu(0x10, (off + i) >> 8, (off + i) & 0xFF, chunk)


# API constants
MD = {"SHA-1": 1, "SHA-256": 4, "SHA-384": 5, "SHA-512": 6, "SHA-224": 7}
TYPE_DES, TYPE_RSA_PUBLIC, TYPE_RSA_CRT_PRIVATE = 3, 4, 6
TYPE_EC_FP_PUBLIC, TYPE_EC_FP_PRIVATE, TYPE_AES, TYPE_HMAC = 11, 12, 15, 21
DES_CBC, DES_ECB, AES_CBC, AES_ECB = 1, 5, 13, 14
ENCRYPT, DECRYPT = 2, 1
C_SECRET, C_MODULUS, C_EXPONENT, C_P, C_Q, C_DP1, C_DQ1, C_PQ, C_S, C_W = range(1, 11)
SIG_HMAC_SHA1, SIG_HMAC_SHA256, SIG_HMAC_SHA384, SIG_HMAC_SHA512 = 24, 25, 26, 27
SIG_RSA_SHA_PKCS1, SIG_RSA_SHA256_PKCS1, SIG_ECDSA_SHA256 = 10, 40, 33
KA_EC_SVDP_DH_PLAIN = 3


def build(slot, ktype, bits):
    apdu(0x30, slot, 0, bytes([ktype]) + s2(bits))


def set_key(slot, comp, off, value):
    put(off, value)
    apdu(0x31, slot, comp, s2(off, len(value)))


# ---------------------------------------------------------------- SHA
ABC448 = b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
ABC896 = (b"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopq"
          b"klmnopqrlmnopqrsmnopqrstnopqrstu")
SHA = [  # FIPS 180-4 examples (NIST CSRC "Examples with intermediate values")
    ("SHA-1", b"abc", "A9993E364706816ABA3E25717850C26C9CD0D89D"),
    ("SHA-1", ABC448, "84983E441C3BD26EBAAE4AA1F95129E5E54670F1"),
    ("SHA-224", b"abc", "23097D223405D8228642A477BDA255B32AADBCE4BDA0B3F7E36C9DA7"),
    ("SHA-224", ABC448, "75388B16512776CC5DBA5DA1FD890150B0C6455CB4F58B1952522525"),
    ("SHA-256", b"abc", "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"),
    ("SHA-256", ABC448, "248D6A61D20638B8E5C026930C3E6039A33CE45964FF2167F6ECEDD419DB06C1"),
    ("SHA-384", b"abc", "CB00753F45A35E8BB5A03D699AC65007272C32AB0EDED1631A8B605A43FF5BED"
                        "8086072BA1E7CC2358BAECA134C825A7"),
    ("SHA-384", ABC896, "09330C33F71147E83D192FC782CD1B4753111B173B3B05D22FA08086E3B0F712"
                        "FCC7C71A557E2DB966C3E9FA91746039"),
    ("SHA-512", b"abc", "DDAF35A193617ABACC417349AE20413112E6FA4E89A97EA20A9EEEE64B55D39A"
                        "2192992A274FC1A836BA3C23A3FEEBBD454D4423643CE80E2A9AC94FA54CA49F"),
    ("SHA-512", ABC896, "8E959B75DAE313DA8CF4F72814FC143F8F7779C6EB9F7FA17299AEADB6889018"
                        "501D289E4900F7E4331B99DEC4B5433AC7D329EEB6DD26545E96E55B874BE909"),
]
for name, msg, want in SHA:
    assert hashlib.new(name.replace("-", "").lower(), msg).hexdigest().upper() == want, name
    comment("%s FIPS 180-4 example, %d-byte message: one doFinal, then update(%d) + doFinal"
            % (name, len(msg), len(msg) // 2 + 1))
    put(0, msg)
    apdu(0x20, MD[name], 0, s2(0, len(msg), 0), True, h(want))
    apdu(0x20, MD[name], 0, s2(0, len(msg), len(msg) // 2 + 1), True, h(want))

# ---------------------------------------------------------------- InitializedMessageDigest
# The intermediate hash value after the first N bytes (N a whole number of blocks) comes from
# the compression functions below, written from the FIPS 180-4 definitions (sections 4.1,
# 4.2, 5.3, 6.1, 6.2, 6.4); the expected digest is hashlib's of the whole message, so the
# card must continue exactly where the state and the byte count N say.


def _rotr(x, n, bits):
    return ((x >> n) | (x << (bits - n))) & ((1 << bits) - 1)


def _rotl32(x, n):
    return ((x << n) | (x >> (32 - n))) & 0xFFFFFFFF


def _primes(count):
    found, n = [], 2
    while len(found) < count:
        if all(n % p for p in found):
            found.append(n)
        n += 1
    return found


def _root_frac(p, root, bits):
    """The first `bits` bits of the fractional part of p^(1/root) (exact integer root)."""
    scaled = p << (root * bits)
    lo, hi = 0, 1 << (bits + 8)
    while lo < hi:  # the largest r with r^root <= scaled
        mid = (lo + hi + 1) // 2
        if mid ** root <= scaled:
            lo = mid
        else:
            hi = mid - 1
    return lo & ((1 << bits) - 1)


# FIPS 180-4 4.2.2 / 4.2.3 constants and 5.3.2 / 5.3.3 / 5.3.5 initial values, derived as
# the standard defines them (cube and square roots of the first primes)
K256 = [_root_frac(p, 3, 32) for p in _primes(64)]
K512 = [_root_frac(p, 3, 64) for p in _primes(80)]
H256 = [_root_frac(p, 2, 32) for p in _primes(8)]
H512 = [_root_frac(p, 2, 64) for p in _primes(8)]
H384 = [_root_frac(p, 2, 64) for p in _primes(16)[8:]]
assert K256[0] == 0x428A2F98 and H256[0] == 0x6A09E667 and H512[0] == 0x6A09E667F3BCC908
H224 = [0xC1059ED8, 0x367CD507, 0x3070DD17, 0xF70E5939,  # 5.3.2 (not derived from primes)
        0xFFC00B31, 0x68581511, 0x64F98FA7, 0xBEFA4FA4]
H1 = [0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0]  # 5.3.1


def sha1_compress(hv, block):
    w = [int.from_bytes(block[i:i + 4], "big") for i in range(0, 64, 4)]
    for t in range(16, 80):
        w.append(_rotl32(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1))
    a, b, c, d, e = hv
    for t in range(80):
        if t < 20:
            f, k = (b & c) ^ (~b & d), 0x5A827999
        elif t < 40:
            f, k = b ^ c ^ d, 0x6ED9EBA1
        elif t < 60:
            f, k = (b & c) ^ (b & d) ^ (c & d), 0x8F1BBCDC
        else:
            f, k = b ^ c ^ d, 0xCA62C1D6
        tmp = (_rotl32(a, 5) + f + e + k + w[t]) & 0xFFFFFFFF
        a, b, c, d, e = tmp, a, _rotl32(b, 30), c, d
    return [(x + y) & 0xFFFFFFFF for x, y in zip(hv, (a, b, c, d, e))]


def sha2_compress(hv, block, wide):
    bits, rounds, kk = (64, 80, K512) if wide else (32, 64, K256)
    mask, n = (1 << bits) - 1, bits // 8
    s0, s1, S0, S1 = ((1, 8, 7), (19, 61, 6), (28, 34, 39), (14, 18, 41)) if wide else \
        ((7, 18, 3), (17, 19, 10), (2, 13, 22), (6, 11, 25))
    r = lambda x, k: _rotr(x, k, bits)
    w = [int.from_bytes(block[i:i + n], "big") for i in range(0, 16 * n, n)]
    for t in range(16, rounds):
        g0 = r(w[t - 15], s0[0]) ^ r(w[t - 15], s0[1]) ^ (w[t - 15] >> s0[2])
        g1 = r(w[t - 2], s1[0]) ^ r(w[t - 2], s1[1]) ^ (w[t - 2] >> s1[2])
        w.append((g1 + w[t - 7] + g0 + w[t - 16]) & mask)
    a, b, c, d, e, f, g, hh = hv
    for t in range(rounds):
        t1 = (hh + (r(e, S1[0]) ^ r(e, S1[1]) ^ r(e, S1[2])) + ((e & f) ^ (~e & g)) + kk[t] + w[t]) & mask
        t2 = ((r(a, S0[0]) ^ r(a, S0[1]) ^ r(a, S0[2])) + ((a & b) ^ (a & c) ^ (b & c))) & mask
        a, b, c, d, e, f, g, hh = (t1 + t2) & mask, a, b, c, (d + t1) & mask, e, f, g
    return [(x + y) & mask for x, y in zip(hv, (a, b, c, d, e, f, g, hh))]


# name: (initial value, block length, word bytes)
STATE = {"SHA-1": (H1, 64, 4), "SHA-224": (H224, 64, 4), "SHA-256": (H256, 64, 4),
         "SHA-384": (H384, 128, 8), "SHA-512": (H512, 128, 8)}


def intermediate(name, data):
    """The intermediate hash value (big-endian bytes) after the whole blocks of `data`."""
    hv, bs, wb = STATE[name]
    assert len(data) % bs == 0
    for i in range(0, len(data), bs):
        block = data[i:i + bs]
        hv = sha1_compress(hv, block) if name == "SHA-1" else sha2_compress(hv, block, wb == 8)
    return b"".join(v.to_bytes(wb, "big") for v in hv)


def hashlib_digest(name, data=b""):
    return hashlib.new(name.replace("-", "").lower(), data).digest()


for name, (hv, bs, wb) in STATE.items():  # the compression functions against hashlib
    msg = ABC896 * 3
    whole = len(msg) // bs * bs
    hv = [int.from_bytes(intermediate(name, msg[:whole])[i:i + wb], "big")
          for i in range(0, len(hv) * wb, wb)]
    pad = msg[whole:] + b"\x80"
    pad += b"\x00" * ((bs - 2 * wb - len(pad)) % bs) + (8 * len(msg)).to_bytes(2 * wb, "big")
    for i in range(0, len(pad), bs):
        block = pad[i:i + bs]
        hv = sha1_compress(hv, block) if name == "SHA-1" else sha2_compress(hv, block, wb == 8)
    out = b"".join(v.to_bytes(wb, "big") for v in hv)
    assert out[:len(hashlib_digest(name))] == hashlib_digest(name, msg), name

STATE_AT, COUNT_AT = 0x300, 0x380
IMSG = ABC896 * 3  # 336 bytes


def idigest(name, hashed, count=None, state=None, split=0, mode=0, sw="9000"):
    """INS 21: setInitialDigest(the intermediate hash value after `hashed` bytes of IMSG,
    `count`) on the InitializedMessageDigest of `name`, then the rest of IMSG (modes 1 and 2:
    the whole of IMSG); the expected digest is hashlib's of IMSG."""
    if state is None:
        state = intermediate(name, IMSG[:hashed])
    if count is None:
        count = hashed.to_bytes(8, "big")
    put(STATE_AT, state)
    put(COUNT_AT, count)
    start = 0 if mode else hashed
    expect = hashlib_digest(name, IMSG) if sw == "9000" else b""
    apdu(0x21, MD[name], mode, s2(STATE_AT, len(state), COUNT_AT, len(count), start, len(IMSG) - start, split),
         True, expect, sw)


def initialized_digests(names):
    """The InitializedMessageDigest vectors of the algorithms `names`."""
    put(0, IMSG)
    for name in names:
        bs = STATE[name][1]
        comment("InitializedMessageDigest %s: getAlgorithm, getLength" % name)
        apdu(0x22, MD[name], 0, b"", True, bytes([MD[name], len(hashlib_digest(name))]))
        for blocks, count_len, split in ((1, 2, 0), (2, 8, 7), (len(IMSG) // bs, 16, 1)):
            hashed = blocks * bs
            comment("%s of a %d-byte message (ABC896 x 3, hashlib): setInitialDigest(the FIPS 180-4"
                    " intermediate hash value after %d bytes, the count in %d bytes), update(%d),"
                    " doFinal(the rest)" % (name, len(IMSG), hashed, count_len, split))
            idigest(name, hashed, count=hashed.to_bytes(count_len, "big"), split=split)
        comment("%s: doFinal went back to the initial state: the whole message, no setInitialDigest"
                % name)
        idigest(name, bs, mode=2, split=5)
        comment("%s: setInitialDigest, then reset() restores the algorithm's initial value" % name)
        idigest(name, bs, mode=1)
        comment("%s: ILLEGAL_VALUE for a byte count of 0, not a multiple of %d, 2^61 or more (8 and"
                " 9 bytes)" % (name, bs))
        for bad in (0, bs - 1, bs + 1, bs + bs // 2):
            idigest(name, bs, count=bad.to_bytes(4, "big"), sw="6F01")
        idigest(name, bs, count=(1 << 61).to_bytes(8, "big"), sw="6F01")
        idigest(name, bs, count=b"\x01" + bytes(8), sw="6F01")
        state = intermediate(name, IMSG[:bs])
        if len(state) != len(hashlib_digest(name)):
            comment("%s: ILLEGAL_VALUE for a state of the digest's length (%d bytes), not the"
                    " intermediate hash value's (%d)" % (name, len(hashlib_digest(name)), len(state)))
            idigest(name, bs, state=state[:len(hashlib_digest(name))], sw="6F01")
        comment("%s: ILLEGAL_VALUE for a state one byte too long" % name)
        idigest(name, bs, state=state + b"\x00", sw="6F01")


# SHA-224 and SHA-384 are in crypto-padding.apdu: five more digest engines would not leave the
# rest of this script enough transient memory
initialized_digests(("SHA-1", "SHA-256", "SHA-512"))
comment("getInitializedMessageDigestInstance of MD5 (not implemented): NO_SUCH_ALGORITHM")
apdu(0x22, 2, 0, b"", True, b"", "6F03")

# ---------------------------------------------------------------- AES


def aes_check(key, iv, pt, ct):
    mode = modes.CBC(iv) if iv else modes.ECB()
    enc = Cipher(algorithms.AES(key), mode).encryptor()
    assert enc.update(pt) + enc.finalize() == ct


SP38A_PT = h("6BC1BEE22E409F96E93D7E117393172A AE2D8A571E03AC9C9EB76FAC45AF8E51"
             "30C81C46A35CE411E5FBC1191A0A52EF F69F2445DF4F9B17AD2B417BE66C3710")
IV = h("000102030405060708090A0B0C0D0E0F")
AES = [  # (source, key, iv, plaintext, ciphertext)
    ("FIPS 197 C.1 AES-128", h("000102030405060708090A0B0C0D0E0F"), None,
     h("00112233445566778899AABBCCDDEEFF"), h("69C4E0D86A7B0430D8CDB78070B4C55A")),
    ("FIPS 197 C.2 AES-192", h("000102030405060708090A0B0C0D0E0F1011121314151617"), None,
     h("00112233445566778899AABBCCDDEEFF"), h("DDA97CA4864CDFE06EAF70A0EC0D7191")),
    ("FIPS 197 C.3 AES-256", h("000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F"),
     None, h("00112233445566778899AABBCCDDEEFF"), h("8EA2B7CA516745BFEAFC49904B496089")),
    ("SP 800-38A F.1.1 ECB-AES128", h("2B7E151628AED2A6ABF7158809CF4F3C"), None, SP38A_PT,
     h("3AD77BB40D7A3660A89ECAF32466EF97 F5D3D58503B9699DE785895A96FDBAAF"
       "43B1CD7F598ECE23881B00E3ED030688 7B0C785E27E8AD3F8223207104725DD4")),
    ("SP 800-38A F.1.5 ECB-AES256",
     h("603DEB1015CA71BE2B73AEF0857D77811F352C073B6108D72D9810A30914DFF4"), None, SP38A_PT,
     h("F3EED1BDB5D2A03C064B5A7E3DB181F8 591CCB10D410ED26DC5BA74A31362870"
       "B6ED21B99CA6F4F9F153E7B1BEAFED1D 23304B7A39F9F3FF067D8D8F9E24ECC7")),
    ("SP 800-38A F.2.1 CBC-AES128", h("2B7E151628AED2A6ABF7158809CF4F3C"), IV, SP38A_PT,
     h("7649ABAC8119B246CEE98E9B12E9197D 5086CB9B507219EE95DB113A917678B2"
       "73BED6B8E3C1743B7116E69E22229516 3FF1CAA1681FAC09120ECA307586E1A7")),
    ("SP 800-38A F.2.5 CBC-AES256",
     h("603DEB1015CA71BE2B73AEF0857D77811F352C073B6108D72D9810A30914DFF4"), IV, SP38A_PT,
     h("F58C4C04D6E5F1BA779EABFB5F7BFBD6 9CFC4E967EDB808D679F777BC6702C7D"
       "39F23369A9D9BACFA530E26304231461 B2EB05E2C39BE9FCDA6C19078C6A9D1B")),
]
KEYS, IVS, DATA = 0x200, 0x1F0, 0
for i, (src, key, iv, pt, ct) in enumerate(AES):
    aes_check(key, iv, pt, ct)
    alg = AES_CBC if iv else AES_ECB
    ivlen = len(iv) if iv else 0
    comment(src + ": encrypt (update of 1 block + doFinal when longer), then decrypt")
    build(i % 8, TYPE_AES, len(key) * 8)
    set_key(i % 8, C_SECRET, KEYS, key)
    if iv:
        put(IVS, iv)
    put(DATA, pt)
    split = 16 if len(pt) > 16 else 0
    apdu(0x40, i % 8, alg, bytes([ENCRYPT]) + s2(IVS, ivlen, DATA, len(pt), split), True, ct)
    put(DATA, ct)
    apdu(0x40, i % 8, alg, bytes([DECRYPT]) + s2(IVS, ivlen, DATA, len(ct), 0), True, pt)

# ---------------------------------------------------------------- TDES


def tdes_check(key, pt, ct):
    key = key if len(key) == 24 else key + key[:8]  # 2-key TDEA as cryptography wants it
    enc = Cipher(TripleDES(key), modes.ECB()).encryptor()
    assert enc.update(pt) + enc.finalize() == ct


TDES = [
    ("SP 800-67 rev 1 example (its plaintext reads \"qufck\"), 3-key TDEA ECB",
     h("0123456789ABCDEF 23456789ABCDEF01 456789ABCDEF0123"),
     b"The qufck brown fox jump", h("A826FD8CE53B855F CCE21C8112256FE6 68D5C05DD9B6B900")),
    ("SP 800-20 table A.1 (variable plaintext), round 0, as 2-key TDEA ECB",
     h("0101010101010101 0101010101010101"), h("8000000000000000"), h("95F8A5E5DD31D900")),
    ("SP 800-20 table A.1 (variable plaintext), round 63, as 2-key TDEA ECB",
     h("0101010101010101 0101010101010101"), h("0000000000000001"), h("166B40B44ABA4BD6")),
]
for src, key, pt, ct in TDES:
    tdes_check(key, pt, ct)
    comment(src + ": encrypt, then decrypt")
    build(0, TYPE_DES, len(key) * 8)
    set_key(0, C_SECRET, KEYS, key)
    put(DATA, pt)
    apdu(0x40, 0, DES_ECB, bytes([ENCRYPT]) + s2(0, 0, DATA, len(pt), 0), True, ct)
    put(DATA, ct)
    apdu(0x40, 0, DES_ECB, bytes([DECRYPT]) + s2(0, 0, DATA, len(ct), 0), True, pt)

comment("TDEA CBC round trip of the SP 800-67 plaintext (ciphertext from OpenSSL)")
key, pt, iv8 = TDES[0][1], TDES[0][2], h("0001020304050607")
enc = Cipher(TripleDES(key), modes.CBC(iv8)).encryptor()
ct = enc.update(pt) + enc.finalize()
build(0, TYPE_DES, 192)
set_key(0, C_SECRET, KEYS, key)
put(IVS, iv8)
put(DATA, pt)
apdu(0x40, 0, DES_CBC, bytes([ENCRYPT]) + s2(IVS, 8, DATA, len(pt), 8), True, ct)
put(DATA, ct)
apdu(0x40, 0, DES_CBC, bytes([DECRYPT]) + s2(IVS, 8, DATA, len(ct), 0), True, pt)

# ---------------------------------------------------------------- Cipher paddings
# (with the AES MACs, their own script, crypto-padding.apdu, replayed on a fresh card: twelve more Cipher
# engines would not leave the rest of this script enough transient memory)
main_lines, lines = lines, []
# ISO/IEC 9797-1 padding methods 1 and 2 and PKCS#5, padded by hand here (as the standards
# define them) and encrypted by OpenSSL without padding; the plaintexts are SP 800-38A's.
def iso9797_m1(m, bs):
    return m + b"\x00" * ((-len(m)) % bs if m else bs)


def iso9797_m2(m, bs):
    m = m + b"\x80"
    return m + b"\x00" * ((-len(m)) % bs)


def pkcs5(m, bs):
    n = bs - len(m) % bs
    return m + bytes([n]) * n


PADS = {"ISO9797_M1": iso9797_m1, "ISO9797_M2": iso9797_m2, "PKCS5": pkcs5}
PADDED = [  # (name, Cipher alg, block algorithm, cbc, padding)
    ("ALG_AES_CBC_ISO9797_M1", 22, "AES", True, "ISO9797_M1"),
    ("ALG_AES_CBC_ISO9797_M2", 23, "AES", True, "ISO9797_M2"),
    ("ALG_AES_CBC_PKCS5", 24, "AES", True, "PKCS5"),
    ("ALG_AES_ECB_ISO9797_M1", 25, "AES", False, "ISO9797_M1"),
    ("ALG_AES_ECB_ISO9797_M2", 26, "AES", False, "ISO9797_M2"),
    ("ALG_AES_ECB_PKCS5", 27, "AES", False, "PKCS5"),
    ("ALG_DES_CBC_ISO9797_M1", 2, "DES", True, "ISO9797_M1"),
    ("ALG_DES_CBC_ISO9797_M2", 3, "DES", True, "ISO9797_M2"),
    ("ALG_DES_CBC_PKCS5", 4, "DES", True, "PKCS5"),
    ("ALG_DES_ECB_ISO9797_M1", 6, "DES", False, "ISO9797_M1"),
    ("ALG_DES_ECB_ISO9797_M2", 7, "DES", False, "ISO9797_M2"),
    ("ALG_DES_ECB_PKCS5", 8, "DES", False, "PKCS5"),
]
AES_KEY = h("2B7E151628AED2A6ABF7158809CF4F3C")
TDES_KEY = h("0123456789ABCDEF 23456789ABCDEF01 456789ABCDEF0123")
build(0, TYPE_AES, 128)
set_key(0, C_SECRET, KEYS, AES_KEY)
build(1, TYPE_DES, 192)
set_key(1, C_SECRET, KEYS, TDES_KEY)
for name, alg, block, cbc, pad in PADDED:
    bs = 16 if block == "AES" else 8
    slot = 0 if block == "AES" else 1
    algo = algorithms.AES(AES_KEY) if block == "AES" else TripleDES(TDES_KEY)
    iv = IV[:bs] if cbc else None
    ivlen = bs if cbc else 0
    if cbc:
        put(IVS, iv)
    for length in (0, 5, bs, bs + 3, 2 * bs):
        msg = SP38A_PT[:length]
        padded = PADS[pad](msg, bs)
        enc = Cipher(algo, modes.CBC(iv) if cbc else modes.ECB()).encryptor()
        ct = enc.update(padded) + enc.finalize()
        comment("%s, %d-byte message: encrypt (update of %d bytes + doFinal), decrypt%s"
                % (name, length, length // 2, " (M1 keeps the zero padding)" if pad == "ISO9797_M1" else ""))
        put(DATA, msg)
        apdu(0x40, slot, alg, bytes([ENCRYPT]) + s2(IVS, ivlen, DATA, length, length // 2), True, ct)
        put(DATA, ct)
        want = padded if pad == "ISO9797_M1" else msg
        apdu(0x40, slot, alg, bytes([DECRYPT]) + s2(IVS, ivlen, DATA, len(ct), len(ct) - bs), True, want)
    if pad != "ISO9797_M1":
        comment("%s: a decrypted last block without valid padding: ILLEGAL_USE" % name)
        bad = Cipher(algo, modes.CBC(iv) if cbc else modes.ECB()).encryptor()
        bad_ct = bad.update(b"\x11" * bs) + bad.finalize()
        put(DATA, bad_ct)
        apdu(0x40, slot, alg, bytes([DECRYPT]) + s2(IVS, ivlen, DATA, bs, 0), True, b"", "6F05")
    comment("%s: decrypting input that is not block aligned: ILLEGAL_USE" % name)
    apdu(0x40, slot, alg, bytes([DECRYPT]) + s2(IVS, ivlen, DATA, bs + 1, 0), True, b"", "6F05")

# ---------------------------------------------------------------- AES MACs
from cryptography.hazmat.primitives import cmac as cmac_mod  # noqa: E402

SIG_AES_MAC_128_NOPAD, SIG_AES_CMAC_128 = 18, 49
CMAC_VECTORS = [  # (source, key, message length of SP38A_PT, tag)
    ("RFC 4493 example 1 (AES-128, empty)", AES_KEY, 0, "BB1D6929E95937287FA37D129B756746"),
    ("RFC 4493 example 2 (AES-128, 16 bytes)", AES_KEY, 16, "070A16B46B4D4144F79BDD9DD04A287C"),
    ("RFC 4493 example 3 (AES-128, 40 bytes)", AES_KEY, 40, "DFA66747DE9AE63030CA32611497C827"),
    ("RFC 4493 example 4 (AES-128, 64 bytes)", AES_KEY, 64, "51F0BEBF7E3B9D92FC49741779363CFE"),
    ("SP 800-38B D.3 example 9 (AES-256, empty)",
     h("603DEB1015CA71BE2B73AEF0857D77811F352C073B6108D72D9810A30914DFF4"), 0,
     "028962F61B7BF89EFC6B551F4667D983"),
    ("SP 800-38B D.3 example 12 (AES-256, 64 bytes)",
     h("603DEB1015CA71BE2B73AEF0857D77811F352C073B6108D72D9810A30914DFF4"), 64,
     "E1992190549F6ED5696A2C056C315410"),
]
for src, key, length, tag in CMAC_VECTORS:
    msg = SP38A_PT[:length]
    c = cmac_mod.CMAC(algorithms.AES(key))
    c.update(msg)
    assert c.finalize() == h(tag), src
    comment("ALG_AES_CMAC_128 %s: sign (update of %d bytes + sign), verify, verify a flipped tag"
            % (src, length // 3))
    build(2, TYPE_AES, len(key) * 8)
    set_key(2, C_SECRET, KEYS, key)
    put(DATA, msg)
    apdu(0x41, 2, SIG_AES_CMAC_128, s2(DATA, length, length // 3), True, h(tag))
    put(0x100, h(tag))
    apdu(0x42, 2, SIG_AES_CMAC_128, s2(DATA, length, 0x100, 16), True, b"\x01")
    put(0x100, bytes([h(tag)[0] ^ 1]))
    apdu(0x42, 2, SIG_AES_CMAC_128, s2(DATA, length, 0x100, 16), True, b"\x00")
for length in (16, 48, 64):
    msg = SP38A_PT[:length]
    enc = Cipher(algorithms.AES(AES_KEY), modes.CBC(b"\x00" * 16)).encryptor()
    tag = (enc.update(msg) + enc.finalize())[-16:]
    comment("ALG_AES_MAC_128_NOPAD (CBC-MAC, IV zero) of SP 800-38A's first %d plaintext bytes:"
            " the last block of OpenSSL's AES-128-CBC encryption; verify; verify a flipped tag"
            % length)
    put(DATA, msg)
    apdu(0x41, 0, SIG_AES_MAC_128_NOPAD, s2(DATA, length, 5), True, tag)
    put(0x100, tag)
    apdu(0x42, 0, SIG_AES_MAC_128_NOPAD, s2(DATA, length, 0x100, 16), True, b"\x01")
    put(0x10F, bytes([tag[-1] ^ 0x80]))
    apdu(0x42, 0, SIG_AES_MAC_128_NOPAD, s2(DATA, length, 0x100, 16), True, b"\x00")
comment("ALG_AES_MAC_128_NOPAD of an empty or unaligned message: ILLEGAL_USE")
apdu(0x41, 0, SIG_AES_MAC_128_NOPAD, s2(DATA, 0, 0), True, b"", "6F05")
apdu(0x41, 0, SIG_AES_MAC_128_NOPAD, s2(DATA, 40, 0), True, b"", "6F05")
comment("an AES MAC with a DES key: ILLEGAL_VALUE")
apdu(0x41, 1, SIG_AES_CMAC_128, s2(DATA, 16, 0), True, b"", "6F01")

# ---------------------------------------------------------------- InitializedMessageDigest
initialized_digests(("SHA-224", "SHA-384"))

padding_lines, lines = lines, main_lines

# ---------------------------------------------------------------- HMAC
HMAC = [
    ("RFC 4231 case 1", SIG_HMAC_SHA256, "sha256", h("0B" * 20), b"Hi There",
     "B0344C61D8DB38535CA8AFCEAF0BF12B881DC200C9833DA726E9376C2E32CFF7"),
    ("RFC 4231 case 2", SIG_HMAC_SHA256, "sha256", b"Jefe", b"what do ya want for nothing?",
     "5BDCC146BF60754E6A042426089575C75A003F089D2739839DEC58B964EC3843"),
    ("RFC 4231 case 4", SIG_HMAC_SHA256, "sha256", h("0102030405060708090A0B0C0D0E0F10111213141516171819"),
     h("CD" * 50), "82558A389A443C0EA4CC819899F2083A85F0FAA3E578F8077A2E3FF46729665B"),
    ("RFC 4231 case 2", SIG_HMAC_SHA384, "sha384", b"Jefe", b"what do ya want for nothing?",
     "AF45D2E376484031617F78D2B58A6B1B9C7EF464F5A01B47E42EC3736322445E"
     "8E2240CA5E69E2C78B3239ECFAB21649"),
    ("RFC 4231 case 2", SIG_HMAC_SHA512, "sha512", b"Jefe", b"what do ya want for nothing?",
     "164B7A7BFCF819E2E395FBE73B56E0A387BD64222E831FD610270CD7EA250554"
     "9758BF75C05A994A6D034F65F8F0E6FDCAEAB1A34D4A6B4B636E070A38BCE737"),
    ("RFC 2202 case 1", SIG_HMAC_SHA1, "sha1", h("0B" * 20), b"Hi There",
     "B617318655057264E28BC0B6FB378C8EF146BE00"),
]
for src, alg, name, key, msg, mac in HMAC:
    assert hmac.new(key, msg, name).hexdigest().upper() == mac, src
    comment("HMAC-%s %s: sign (update + sign), verify, verify of a flipped MAC" % (name.upper(), src))
    build(1, TYPE_HMAC, 512)
    set_key(1, C_SECRET, KEYS, key)
    put(DATA, msg)
    apdu(0x41, 1, alg, s2(DATA, len(msg), 3), True, h(mac))
    put(0x100, h(mac))
    apdu(0x42, 1, alg, s2(DATA, len(msg), 0x100, len(h(mac))), True, b"\x01")
    put(0x100, bytes([h(mac)[0] ^ 1]))
    apdu(0x42, 1, alg, s2(DATA, len(msg), 0x100, len(h(mac))), True, b"\x00")

# ---------------------------------------------------------------- ECDSA P-256 verify
X = h("C9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721")
W = h("04 60FED4BA255A9D31C961EB74C6356D68C049B8923B61FA6CE669622E60F29FB6"
      "7903FE1008B8BC99A41AE9E95628BC64F2F1B20C2D7E9F5177A3C294D4462299")
pub = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), W)
assert ec.derive_private_key(int.from_bytes(X, "big"), ec.SECP256R1()).public_key().public_numbers() \
    == pub.public_numbers()
RFC6979 = [
    (b"sample", "EFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716",
     "F7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8"),
    (b"test", "F1ABB023518351CD71D881567B1EA663ED3EFCF6C5132B354F28D3B0B7D38367",
     "019F4113742A2B14BD25926B49C649155F267E60D3814B4C0CC84250E46F0083"),
]
comment("ECDSA P-256: the RFC 6979 A.2.5 public key U")
build(2, TYPE_EC_FP_PUBLIC, 256)
set_key(2, C_W, KEYS, W)
apdu(0x32, 2, C_W, b"", True, W)
for msg, r, s in RFC6979:
    der = utils.encode_dss_signature(int(r, 16), int(s, 16))
    pub.verify(der, msg, ec.ECDSA(hashes.SHA256()))
    comment("RFC 6979 A.2.5 ECDSA P-256 SHA-256 %r: verify, then verify a tampered message" % msg.decode())
    put(DATA, msg)
    put(0x100, der)
    apdu(0x42, 2, SIG_ECDSA_SHA256, s2(DATA, len(msg), 0x100, len(der)), True, b"\x01")
    put(DATA, bytes([msg[0] ^ 1]))
    apdu(0x42, 2, SIG_ECDSA_SHA256, s2(DATA, len(msg), 0x100, len(der)), True, b"\x00")

# ---------------------------------------------------------------- ECDH P-256
comment("NIST CAVP ECC CDH primitive (KAS ECC CDH) P-256 COUNT = 0: ALG_EC_SVDP_DH_PLAIN")
D_IUT = h("7D7DC5F71EB29DDAF80D6214632EEAE03D9058AF1FB6D22ED80BADB62BC1A534")
Q_CAVS = h("04 700C48F77F56584C5CC632CA65640DB91B6BACCE3A4DF6B42CE7CC838833D287"
           "DB71E509E3FD9B060DDB20BA5C51DCC5948D46FBF640DFE0441782CAB85FA4AC")
Z = h("46FC62106420FF012E54A434FBDD2D25CCC5852060561E68040DD7778997BD7B")
priv = ec.derive_private_key(int.from_bytes(D_IUT, "big"), ec.SECP256R1())
assert priv.exchange(ec.ECDH(), ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), Q_CAVS)) == Z
build(3, TYPE_EC_FP_PRIVATE, 256)
set_key(3, C_S, KEYS, D_IUT)
put(DATA, Q_CAVS)
apdu(0x50, 3, KA_EC_SVDP_DH_PLAIN, s2(DATA, len(Q_CAVS)), True, Z)
comment("the same CAVP vector with ALG_EC_SVDP_DH: SHA-1 of Z (hashlib)")
KA_EC_SVDP_DH = 1
apdu(0x50, 3, KA_EC_SVDP_DH, s2(DATA, len(Q_CAVS)), True, hashlib.sha1(Z).digest())

# ---------------------------------------------------------------- RSA-2048
with open(KEY_PEM, "rb") as f:
    rsa_key = serialization.load_pem_private_key(f.read(), password=None)
pn = rsa_key.private_numbers()
n = pn.public_numbers.n
b = lambda v, size: v.to_bytes(size, "big")
comment("RSA-2048 PKCS#1 v1.5 with the golden test key (golden/crypto/keys): public key (e = 65537)")
build(4, TYPE_RSA_PUBLIC, 2048)
set_key(4, C_MODULUS, KEYS, b(n, 256))
set_key(4, C_EXPONENT, KEYS, b(pn.public_numbers.e, 3))
comment("the CRT private key")
build(5, TYPE_RSA_CRT_PRIVATE, 2048)
for comp, v in ((C_P, pn.p), (C_Q, pn.q), (C_DP1, pn.dmp1), (C_DQ1, pn.dmq1), (C_PQ, pn.iqmp)):
    set_key(5, comp, KEYS, b(v, 128))
for alg, halg, msg in ((SIG_RSA_SHA256_PKCS1, hashes.SHA256(), b"abc"),
                       (SIG_RSA_SHA_PKCS1, hashes.SHA1(), b"The quick brown fox jumps over the lazy dog"),
                       (SIG_RSA_SHA256_PKCS1, hashes.SHA256(), ABC896)):
    sig = rsa_key.sign(msg, padding.PKCS1v15(), halg)
    comment("RSA %s PKCS#1 v1.5, %d-byte message: sign (deterministic: OpenSSL's signature), verify,"
            " verify a flipped signature" % (halg.name.upper(), len(msg)))
    put(DATA, msg)
    apdu(0x41, 5, alg, s2(DATA, len(msg), 1), True, sig)
    put(0x100, sig)
    apdu(0x42, 4, alg, s2(DATA, len(msg), 0x100, 256), True, b"\x01")
    put(0x1FF, bytes([sig[-1] ^ 0x80]))
    apdu(0x42, 4, alg, s2(DATA, len(msg), 0x100, 256), True, b"\x00")
    digest = hashlib.new(halg.name, msg).digest()
    comment("the same signature from signPreComputedHash of the message's %s (hashlib)"
            % halg.name.upper())
    put(0x300, digest)
    apdu(0x43, 5, alg, s2(0x300, len(digest)), True, sig)
comment("signPreComputedHash with a hash of the wrong length: ILLEGAL_USE")
apdu(0x43, 5, SIG_RSA_SHA256_PKCS1, s2(0x300, 31), True, b"", "6F05")
comment("signPreComputedHash with the public key: init for signing refuses it (ILLEGAL_VALUE)")
apdu(0x43, 4, SIG_RSA_SHA256_PKCS1, s2(0x300, 32), True, b"", "6F01")


# ---------------------------------------------------------------- RSA-2048 Cipher
CIPHER_RSA_PKCS1, CIPHER_RSA_NOPAD = 10, 12
d = pn.d
m = int.from_bytes(hashlib.sha256(b"nopad").digest() * 8, "big") % n
comment("RSA-2048 Cipher ALG_RSA_NOPAD: public-key encryption is m^e mod n (Python pow), the"
        " private key decrypts it")
put(DATA, b(m, 256))
c = pow(m, pn.public_numbers.e, n)
apdu(0x40, 4, CIPHER_RSA_NOPAD, bytes([ENCRYPT]) + s2(0, 0, DATA, 256, 0), True, b(c, 256))
put(DATA, b(c, 256))
apdu(0x40, 5, CIPHER_RSA_NOPAD, bytes([DECRYPT]) + s2(0, 0, DATA, 256, 0), True, b(m, 256))
comment("RSA-2048 Cipher ALG_RSA_PKCS1: the private key decrypts OpenSSL's RSAES-PKCS1-v1_5"
        " ciphertext")
secret = b"attack at dawn"
ct = rsa_key.public_key().encrypt(secret, padding.PKCS1v15())
put(DATA, ct)
apdu(0x40, 5, CIPHER_RSA_PKCS1, bytes([DECRYPT]) + s2(0, 0, DATA, 256, 0), True, secret)
comment("a ciphertext whose padding is wrong (NOPAD encryption of a random block): ILLEGAL_VALUE")
put(DATA, b(c, 256))
apdu(0x40, 5, CIPHER_RSA_PKCS1, bytes([DECRYPT]) + s2(0, 0, DATA, 256, 0), True, b"", "6F01")
comment("ALG_RSA_PKCS1 with the private key pads with block type 01 (deterministic):"
        " 00 01 FF..FF 00 M, then the public key decrypts it")
em = b"\x00\x01" + b"\xff" * (256 - 3 - len(secret)) + b"\x00" + secret
sig = pow(int.from_bytes(em, "big"), d, n)
put(DATA, secret)
apdu(0x40, 5, CIPHER_RSA_PKCS1, bytes([ENCRYPT]) + s2(0, 0, DATA, len(secret), 0), True, b(sig, 256))
put(DATA, b(sig, 256))
apdu(0x40, 4, CIPHER_RSA_PKCS1, bytes([DECRYPT]) + s2(0, 0, DATA, 256, 0), True, secret)

header = """\
# Crypto conformance: published known answers through the Java Card API on the card.
# Generated by gen_script.py (each vector is checked against Python `cryptography` first);
# replayed by vm/jcre/tests/crypto_conformance.rs. Commands: see CryptoConformance.java.
load F00000030101
install F00000030101 F0000003010101
> 00 A4 04 00 07 F0000003010101
< 9000"""
for name, body in (("crypto.apdu", lines), ("crypto-padding.apdu", padding_lines)):
    out = os.path.join(HERE, name)
    with open(out, "w") as f:
        f.write(header + "\n" + "\n".join(body) + "\n")
    kats = sum(1 for l in body if l.startswith("< "))
    print("wrote %s (%d exchanges)" % (out, kats), file=sys.stderr)
