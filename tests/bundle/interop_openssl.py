#!/usr/bin/env python3
"""Interop proof for docs/bundle-format.md: an independent implementation
reads and writes bundles from the documented layout alone.

Direction 1 (read): for the committed test vectors and for a bundle packed
just now by `tinymlops bundle pack`, this script parses the container and
the manifest, certificate and wraps itself (Python, from the spec), then
lets the openssl command line do the cryptography:
  - ECDSA P-256 signatures of the certificate (root) and of the bundle
    (signing key), raw r||s converted to DER     -> openssl dgst -verify
  - SHA-256 of the payload                        -> openssl dgst -sha256
  - recipient key ids from the PEM public keys    -> openssl pkey -outform DER
  - ECDH shared secret with the device key        -> openssl pkeyutl -derive
  - HKDF-SHA256 to KEK || nonce                   -> openssl kdf HKDF
  - content key unwrap and payload decryption
    (GCM = CTR from counter block nonce||00000002) -> openssl enc -aes-256-ctr
and compares the plaintext with the original model; python3-cryptography
checks the two GCM tags, which `openssl enc` cannot.

Direction 2 (write): a bundle written here from the spec with
python3-cryptography and openssl-generated keys must pass
`tinymlops bundle verify`; the same bundle with one byte changed must not.

Usage: interop_openssl.py --cli TINYMLOPS --vectors DIR --work DIR
Exit 0 = pass, 1 = fail, 77 = skipped (openssl or python3-cryptography missing).
"""
import argparse
import hashlib
import json
import os
import shutil
import struct
import subprocess
import sys

try:
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF
except ImportError:
    print("SKIP: python3-cryptography is not installed")
    sys.exit(77)

SPKI_P256_PREFIX = bytes.fromhex("3059301306072a8648ce3d020106082a8648ce3d030107034200")
TAGS = {0x0000: "PAD", 0x0001: "MANIFEST", 0x0002: "CERT", 0x0003: "WRAP", 0x0010: "PROFILE",
        0x0011: "KAT", 0x00F0: "SIGNATURE", 0x00FF: "PAYLOAD"}


class Fail(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Fail(what)


def run(args, data=None):
    p = subprocess.run(args, input=data, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode != 0:
        raise Fail("%s failed: %s" % (" ".join(args[:3]), p.stderr.decode(errors="replace").strip()))
    return p.stdout


# ---------------------------------------------------------------- parsing from the spec

def parse_bundle(b):
    """[B-2] header, [B-3] sections. Returns dict with sections and signed length."""
    check(len(b) >= 32, "shorter than a header")
    magic, ver, hsize, total, count, flags, poff, plen, reserved = struct.unpack_from("<4sHHIHHIIQ", b, 0)
    check(magic == b"TMOB" and ver == 1 and hsize == 32, "B-2.1..3 magic/version/header size")
    check(total == len(b), "B-2.4 total length")
    check(flags & ~1 == 0 and reserved == 0, "B-2.6/2.8 flags, reserved")
    check(poff % 16 == 0 and poff + plen == len(b), "B-2.7 payload position")
    off, sections = 32, []
    for i in range(count):
        tag, sflags, length = struct.unpack_from("<HHI", b, off)
        value = off + 8
        end = value + length
        padded = end if tag == 0x00FF else (end + 7) & ~7
        check(padded <= len(b), "B-3.1 section inside the file")
        check(b[end:padded] == bytes(padded - end), "B-3.2 zero padding")
        sections.append({"tag": tag, "flags": sflags, "offset": off, "value": b[value:end]})
        off = padded
    order = [TAGS.get(s["tag"], "?") for s in sections]
    check(order[0] == "MANIFEST" and order[1] == "CERT" and order[-2] == "SIGNATURE" and order[-1] == "PAYLOAD",
          "B-3.4 section order %s" % order)
    check(sections[-1]["offset"] + 8 == poff and len(sections[-1]["value"]) == plen, "B-2.7 payload section")
    sig = sections[-2]
    return {"flags": flags, "sections": sections, "signed": b[:sig["offset"]], "signature": sig["value"],
            "payload": sections[-1]["value"],
            "manifest": parse_manifest(sections[0]["value"]), "cert": parse_cert(sections[1]["value"]),
            "wraps": [parse_wrap(s["value"]) for s in sections if s["tag"] == 0x0003]}


def parse_manifest(m):
    """[B-4.2] (u16 id, u16 len, value)*, ascending ids."""
    fields, pos, last = {}, 0, -1
    while pos < len(m):
        fid, flen = struct.unpack_from("<HH", m, pos)
        check(fid > last, "B-4.2 ascending field ids")
        last = fid
        fields[fid] = m[pos + 4:pos + 4 + flen]
        pos += 4 + flen
    check(pos == len(m), "B-4.2 fields fill the manifest")
    ver = lambda v: "%d.%d.%d" % struct.unpack_from("<HHH", v)
    enc = fields[0x0023]
    out = {"name": fields[0x0001].decode(), "version": ver(fields[0x0002]),
           "security_counter": struct.unpack("<Q", fields[0x0003])[0],
           "created": struct.unpack("<Q", fields[0x0004])[0],
           "expires": struct.unpack("<Q", fields[0x0005])[0] if 0x0005 in fields else None,
           "payload_size": struct.unpack("<Q", fields[0x0020])[0],
           "payload_digest": fields[0x0021], "model_digest": fields[0x0022], "encryption": enc[0]}
    arch, a = [], fields.get(0x0010, b"")
    while a:
        arch.append(a[1:1 + a[0]].decode())
        a = a[1 + a[0]:]
    out["arch"] = arch
    if enc[0] == 1:
        check(len(enc) == 29, "B-4.3 encryption field")
        out["nonce"], out["tag"] = enc[1:13], enc[13:29]
    return out


def parse_cert(c):
    """[B-5.1] "TMOC" v alg usage plen issuer[16] subject[16] key[65] 000 nb na prefix || sig[64]."""
    check(c[:4] == b"TMOC" and c[4:7] == b"\x01\x01\x01", "B-5.1 certificate header")
    plen = c[7]
    check(len(c) == 124 + plen + 64, "B-5.1 certificate length")
    nb, na = struct.unpack_from("<QQ", c, 108)
    return {"issuer": c[8:24], "subject": c[24:40], "key": c[40:105], "not_before": nb, "not_after": na,
            "prefix": c[124:124 + plen].decode(), "tbs": c[:124 + plen], "sig": c[124 + plen:]}


def parse_wrap(w):
    """[B-6.3] scheme(1) recipient id(16) ephemeral key(65) wrapped key(32) tag(16)."""
    check(len(w) == 130 and w[0] == 1, "B-6.3 wrap layout")
    return {"recipient": w[1:17], "ephemeral": w[17:82], "wrapped": w[82:114], "tag": w[114:130]}


# ---------------------------------------------------------------- openssl helpers

def der_int(x):
    b = x.to_bytes(32, "big").lstrip(b"\x00") or b"\x00"
    if b[0] & 0x80:
        b = b"\x00" + b
    return b"\x02" + bytes([len(b)]) + b


def raw_to_der(sig):
    body = der_int(int.from_bytes(sig[:32], "big")) + der_int(int.from_bytes(sig[32:], "big"))
    return b"\x30" + bytes([len(body)]) + body


def pem_from_point(point, path):
    der = SPKI_P256_PREFIX + point
    run(["openssl", "pkey", "-pubin", "-inform", "DER", "-in", "/dev/stdin", "-out", path], der)


def openssl_verify(work, name, pub_pem, data, raw_sig):
    dpath, spath = os.path.join(work, name + ".data"), os.path.join(work, name + ".sig")
    open(dpath, "wb").write(data)
    open(spath, "wb").write(raw_to_der(raw_sig))
    out = run(["openssl", "dgst", "-sha256", "-verify", pub_pem, "-signature", spath, dpath])
    check(b"Verified OK" in out, name + ": openssl did not verify the signature")


def point_of_pem(pem_path, private=False):
    args = ["openssl", "pkey", "-in", pem_path, "-pubout", "-outform", "DER"] if private else \
        ["openssl", "pkey", "-pubin", "-in", pem_path, "-outform", "DER"]
    der = run(args)
    check(der.startswith(SPKI_P256_PREFIX) and len(der) == 91, "not a P-256 SPKI key")
    return der[-65:]


def ctr(key, nonce, data):
    iv = nonce + b"\x00\x00\x00\x02"  # [B-6.5] GCM's first payload counter block
    return run(["openssl", "enc", "-d", "-aes-256-ctr", "-nopad", "-K", key.hex(), "-iv", iv.hex()], data)


def sha256_openssl(data):
    out = run(["openssl", "dgst", "-sha256", "-binary"], data)
    check(len(out) == 32, "openssl dgst output")
    return out


# ---------------------------------------------------------------- direction 1: read

def verify_with_openssl(work, bundle_bytes, root_pub, devices, model):
    """devices: list of (private key PEM path, public key PEM path). Returns the parsed bundle and content key."""
    b = parse_bundle(bundle_bytes)
    m, c = b["manifest"], b["cert"]
    root_point = point_of_pem(root_pub)
    check(hashlib.sha256(root_point).digest()[:16] == c["issuer"], "B-5.2 issuer key id")
    check(hashlib.sha256(c["key"]).digest()[:16] == c["subject"], "B-5.2 subject key id")
    openssl_verify(work, "cert", root_pub, c["tbs"], c["sig"])                  # [B-5.3]
    signing_pem = os.path.join(work, "signing_from_cert.pem")
    pem_from_point(c["key"], signing_pem)
    openssl_verify(work, "bundle", signing_pem, b["signed"], b["signature"])     # [B-3.6]
    check(m["name"].startswith(c["prefix"]), "B-5.4 name under the certificate prefix")
    check(sha256_openssl(b["payload"]) == m["payload_digest"], "B-4.3 payload digest")
    check(m["payload_size"] == len(b["payload"]) == len(model), "B-4.3 payload size")
    if m["encryption"] == 0:
        check(b["payload"] == model and sha256_openssl(model) == m["model_digest"], "plain payload is the model")
        return b, None
    check(b["flags"] & 1, "B-2.6 encrypted flag")
    ceks = []
    for key_pem, pub_pem in devices:
        rid = hashlib.sha256(point_of_pem(pub_pem)).digest()[:16]                # [B-5.2]
        wraps = [w for w in b["wraps"] if w["recipient"] == rid]
        check(len(wraps) == 1, "B-6.2 one wrap for the device")
        w = wraps[0]
        eph_pem = os.path.join(work, "ephemeral.pem")
        pem_from_point(w["ephemeral"], eph_pem)
        z = run(["openssl", "pkeyutl", "-derive", "-inkey", key_pem, "-peerkey", eph_pem])
        check(len(z) == 32, "ECDH secret length")
        info = b"TMOB-WRAP-v1" + w["recipient"] + w["ephemeral"]                  # [B-6.4]
        okm = run(["openssl", "kdf", "-binary", "-keylen", "44", "-kdfopt", "digest:SHA256",
                   "-kdfopt", "hexkey:" + z.hex(), "-kdfopt", "hexinfo:" + info.hex(), "HKDF"])
        kek, wnonce = okm[:32], okm[32:44]
        cek = ctr(kek, wnonce, w["wrapped"])
        check(AESGCM(kek).decrypt(wnonce, w["wrapped"] + w["tag"], None) == cek, "B-6.3 wrap GCM tag")
        plain = ctr(cek, m["nonce"], b["payload"])
        check(plain == model, "decrypted payload differs from the model")
        check(sha256_openssl(plain) == m["model_digest"], "B-4.3 model digest")
        check(AESGCM(cek).decrypt(m["nonce"], b["payload"] + m["tag"], None) == model, "B-6.1 payload GCM tag")
        ceks.append(cek)
    check(len(set(ceks)) == 1, "all recipients unwrap the same content key")
    return b, ceks[0]


def check_vectors(work, vdir):
    exp = json.load(open(os.path.join(vdir, "expected.json")))
    model = open(os.path.join(vdir, "model.tflite"), "rb").read()
    check(hashlib.sha256(model).hexdigest() == exp["model_sha256"], "vector model digest")
    for name, kid in exp["key_ids"].items():
        check(hashlib.sha256(point_of_pem(os.path.join(vdir, name + ".pub"))).hexdigest()[:32] == kid,
              "key id of " + name)
    root = os.path.join(vdir, "root.pub")
    for e in exp["bundles"]:
        devs = [(os.path.join(vdir, d + ".key"), os.path.join(vdir, d + ".pub")) for d in e["recipients"]]
        b, cek = verify_with_openssl(work, open(os.path.join(vdir, e["file"]), "rb").read(), root, devs, model)
        m = b["manifest"]
        for k in ("name", "version", "security_counter", "arch"):
            check(m[k] == e[k], "%s: manifest %s" % (e["file"], k))
        if e["encrypted"]:
            check(cek.hex() == e["content_key"], e["file"] + ": content key")
        print("ok   vector %s (%s)" % (e["file"], "encrypted for %d" % len(devs) if devs else "plain"))


def check_fresh(work, cli, model_path):
    def tmo(*args):
        return run([cli] + list(args))
    os.chdir(work)
    for k, role in (("root", "root"), ("sign", "signing"), ("dev1", "device"), ("dev2", "device")):
        tmo("key", "gen", "--role", role, "--out", k)
    tmo("key", "certify", "--root", "root.key", "--key", "sign.pub", "--models", "fresh/", "--out", "sign.cert")
    for enc in (False, True):
        extra = ["--encrypt-for", "dev1.pub", "--encrypt-for", "dev2.pub"] if enc else []
        out = "fresh_%s.tmb" % ("enc" if enc else "plain")
        tmo("bundle", "pack", model_path, "--name", "fresh/model", "--version", "2.0.1", "--counter", "11",
            "--sign", "sign.key", "--cert", "sign.cert", "--expires", "2199-01-01", "--out", out, *extra)
        devs = [("dev1.key", "dev1.pub"), ("dev2.key", "dev2.pub")] if enc else []
        verify_with_openssl(work, open(out, "rb").read(), "root.pub", devs, open(model_path, "rb").read())
        print("ok   fresh bundle from `tinymlops bundle pack` (%s)" % ("encrypted for 2" if enc else "plain"))


# ---------------------------------------------------------------- direction 2: write

def raw_sig(priv, data):
    r, s = decode_dss_signature(priv.sign(data, ec.ECDSA(hashes.SHA256())))
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def point(pub):
    return pub.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)


def section(tag, flags, value, pad=True):
    out = struct.pack("<HHI", tag, flags, len(value)) + value
    return out + bytes((-len(out)) % 8) if pad else out


def write_bundle(work, cli, model, model_path):
    def genkey(name):
        path = os.path.join(work, name + ".key")
        run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", path])
        run(["openssl", "pkey", "-in", path, "-pubout", "-out", os.path.join(work, name + ".pub")])
        return serialization.load_pem_private_key(open(path, "rb").read(), None)
    root, signing, device = genkey("py_root"), genkey("py_sign"), genkey("py_dev")
    kid = lambda k: hashlib.sha256(point(k.public_key())).digest()[:16]
    tbs = b"TMOC\x01\x01\x01" + bytes([4]) + kid(root) + kid(signing) + point(signing.public_key()) + bytes(3) + \
        struct.pack("<QQ", 1700000000, 4000000000) + b"py/m"
    cert = tbs + raw_sig(root, tbs)
    cek, nonce = os.urandom(32), os.urandom(12)
    ct_tag = AESGCM(cek).encrypt(nonce, model, None)
    ct, tag = ct_tag[:-16], ct_tag[-16:]
    eph = ec.generate_private_key(ec.SECP256R1())
    eph_pt, rid = point(eph.public_key()), kid(device)
    okm = HKDF(hashes.SHA256(), 44, None, b"TMOB-WRAP-v1" + rid + eph_pt).derive(eph.exchange(ec.ECDH(), device.public_key()))
    wrapped = AESGCM(okm[:32]).encrypt(okm[32:], cek, None)
    wrap = b"\x01" + rid + eph_pt + wrapped
    inspect = json.loads(run([cli, "model", "inspect", model_path, "--json"]))
    f = lambda fid, v: struct.pack("<HH", fid, len(v)) + v
    u64 = lambda v: struct.pack("<Q", v)
    manifest = b"".join([
        f(0x0001, b"py/model"), f(0x0002, struct.pack("<HHHH", 3, 1, 4, 0)), f(0x0003, u64(5)),
        f(0x0004, u64(1750000000)), f(0x0011, struct.pack("<HHHH", 0, 1, 0, 0)),
        f(0x0012, u64(inspect["arena_bytes"])), f(0x0013, u64(len(model))), f(0x0014, struct.pack("<H", 9)),
        f(0x0020, u64(len(model))), f(0x0021, hashlib.sha256(ct).digest()), f(0x0022, hashlib.sha256(model).digest()),
        f(0x0023, b"\x01" + nonce + tag), f(0x8123, b"an optional field from the future")])
    body = section(0x0001, 1, manifest) + section(0x0002, 1, cert) + section(0x0003, 1, wrap) + \
        section(0x0777, 0, b"non-critical section of a newer writer")
    if (32 + len(body)) % 16:
        body += section(0x0000, 0, b"")
    sig_off = 32 + len(body)
    payload_off = sig_off + 72 + 8
    total = payload_off + len(ct)
    count = sum(1 for _ in iter_sections(body)) + 2
    header = struct.pack("<4sHHIHHIIQ", b"TMOB", 1, 32, total, count, 1, payload_off, len(ct), 0)
    signed = header + body
    bundle = signed + section(0x00F0, 1, raw_sig(signing, signed)) + section(0x00FF, 1, ct, pad=False)
    check(len(bundle) == total, "writer arithmetic")
    path = os.path.join(work, "python_written.tmb")
    open(path, "wb").write(bundle)
    args = [cli, "bundle", "verify", path, "--root", os.path.join(work, "py_root.pub"),
            "--device-key", os.path.join(work, "py_dev.key")]
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    check(p.returncode == 0, "tinymlops rejected the Python-written bundle: " + p.stderr.decode())
    print("ok   bundle written from the spec by python3-cryptography passes `tinymlops bundle verify`")
    for pos in (20, 40, sig_off - 3, sig_off + 20, total - 1):
        bad = bytearray(bundle)
        bad[pos] ^= 0x04
        open(path, "wb").write(bad)
        p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        check(p.returncode == 1 and b"REJECTED" in p.stderr, "a changed byte %d was not rejected" % pos)
    print("ok   ... and with any one of 5 bytes changed it is rejected (exit 1)")


def iter_sections(body):
    off = 0
    while off < len(body):
        tag, flags, length = struct.unpack_from("<HHI", body, off)
        yield tag
        off += (8 + length + 7) & ~7


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", required=True)
    ap.add_argument("--vectors", required=True)
    ap.add_argument("--work", required=True)
    a = ap.parse_args()
    if shutil.which("openssl") is None:
        print("SKIP: openssl is not installed")
        return 77
    cli, vdir = os.path.abspath(a.cli), os.path.abspath(a.vectors)
    shutil.rmtree(a.work, ignore_errors=True)
    os.makedirs(a.work)
    work = os.path.abspath(a.work)
    try:
        check_vectors(work, vdir)
        model_path = os.path.join(vdir, "model.tflite")
        check_fresh(work, cli, model_path)
        write_bundle(work, cli, open(model_path, "rb").read(), model_path)
    except Fail as e:
        print("FAIL: %s" % e)
        return 1
    print("interop: PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
