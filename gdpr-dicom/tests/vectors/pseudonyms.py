#!/usr/bin/env python3
"""Independent reference for the keyed pseudonyms of gdpr-dicom (format v1).

Writes pseudonyms.json next to this file. Written from the format's
description (docs/deidentification.md, "Format v1, exactly"), not from the
Rust code:

    digest(domain, value) = HMAC-SHA256(key, domain || 0x00 || value)
    uid(o)        = "2.25." + decimal(UUIDv8(digest("uid", o without trailing NUL/space)[0:16]))
    patient(i, p) = "PSN" + HEX(digest("patient", i || 0x00 || p)[0:12])
    shift(i, p)   = -(u64be(digest("date-shift", i || 0x00 || p)[0:8]) mod 3652) - 1
    token(d, o, x) = x + HEX(digest(d, o)[0:6])

Run: python3 gdpr-dicom/tests/vectors/pseudonyms.py
"""
import hashlib
import hmac
import json
import os

KEYS = [bytes(32), bytes([0x42] * 32), bytes(range(32))]
UIDS = ["1.2.840.10008.1.2", "1.2.3", "1.2.3\0", "1.2.3 ", "2.25.0", "1.2.826.0.1.3680043.2.1125.1.34918616334675294961310878457227"]
PATIENTS = [("HOSPITAL-A", "MRN-3001"), ("HOSPITAL-A", "Mrn-3001"), ("", "PID 7"), ("Ä-Issuer", "ü-ß")]
TOKENS = [("study-id", "S-1001", "SID"), ("accession", "ACC 42", "ACC")]


def digest(key, domain, value):
    return hmac.new(key, domain + b"\0" + value, hashlib.sha256).digest()


def uid(key, original):
    b = bytearray(digest(key, b"uid", original.rstrip("\0 ").encode())[:16])
    b[6] = (b[6] & 0x0F) | 0x80
    b[8] = (b[8] & 0x3F) | 0x80
    return "2.25." + str(int.from_bytes(b, "big"))


def patient(key, issuer, pid):
    return "PSN" + digest(key, b"patient", (issuer + "\0" + pid).encode())[:12].hex().upper()


def shift(key, issuer, pid):
    d = digest(key, b"date-shift", (issuer + "\0" + pid).encode())
    return -(int.from_bytes(d[:8], "big") % 3652) - 1


def token(key, domain, original, prefix):
    return prefix + digest(key, domain.encode(), original.encode())[:6].hex().upper()


vectors = []
for key in KEYS:
    vectors.append({
        "key": key.hex(),
        "uids": [[o, uid(key, o)] for o in UIDS],
        "patients": [[i, p, patient(key, i, p), shift(key, i, p)] for i, p in PATIENTS],
        "tokens": [[d, o, x, token(key, d, o, x)] for d, o, x in TOKENS],
    })
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pseudonyms.json")
with open(out, "w", encoding="utf-8") as f:
    json.dump({"format": "gdpr-dicom keyed pseudonyms v1", "vectors": vectors}, f, ensure_ascii=False, indent=1)
    f.write("\n")
