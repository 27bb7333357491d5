"""Generate passhash/testdata/hashes.json with the real passlib.

Usage (from the repository root):

    /usr/bin/python3 -B passhash/testdata/gen_hashes.py > passhash/testdata/hashes.json

Needs Debian's python3-passlib (1.7.4), python3-argon2 (argon2-cffi,
passlib's argon2 backend) and python3-bcrypt (passlib's bcrypt backend).
The output differs on every run (fresh salts); every entry is checked with
passlib, against its password and its wrong passwords, before it is written.

Most hashes are at the lowest cost passlib allows (bcrypt rounds 4, argon2
8 KiB and one pass, pbkdf2 1000 rounds, SHA-crypt 1000 rounds), so that the
Go tests are fast; exactly one entry per scheme ("full_cost": true) is at
passlib's default parameters, which the Go tests check only without -short.

Entry fields: name, scheme (passlib's name; "argon2" is argon2id), library,
password (verifies), hash, wrong_passwords (must not verify), full_cost.
"""

import json
import sys
import warnings

sys.dont_write_bytecode = True
warnings.simplefilter("ignore", DeprecationWarning)

import passlib  # noqa: E402
from passlib import hash as ph  # noqa: E402

WRONG = ["test124", "Test123", "test123 ", ""]
UNICODE = "pässwörd-🔑"
LONG = "long-password-" + "x" * 136  # 150 bytes: over two SHA-512 blocks

SCHEMES = {
    # passlib name: (handler at the lowest cost, handler at passlib's defaults)
    "bcrypt": (ph.bcrypt.using(rounds=4), ph.bcrypt),
    "argon2": (ph.argon2.using(memory_cost=8, rounds=1, parallelism=1), ph.argon2),
    "pbkdf2_sha512": (ph.pbkdf2_sha512.using(rounds=1000), ph.pbkdf2_sha512),
    "pbkdf2_sha256": (ph.pbkdf2_sha256.using(rounds=1000), ph.pbkdf2_sha256),
    "pbkdf2_sha1": (ph.pbkdf2_sha1.using(rounds=1000), ph.pbkdf2_sha1),
    "sha512_crypt": (ph.sha512_crypt.using(rounds=1000), ph.sha512_crypt),
    "sha256_crypt": (ph.sha256_crypt.using(rounds=1000), ph.sha256_crypt),
}

entries = []


def add(name, scheme, handler, password, full_cost=False, wrong=WRONG):
    h = handler.hash(password)
    if not handler.verify(password, h):
        raise SystemExit(f"{name}: passlib does not verify its own hash")
    for w in wrong:
        if w != password and handler.verify(w, h):
            raise SystemExit(f"{name}: wrong password {w!r} verifies")
    entries.append({"name": name, "scheme": scheme, "library": f"passlib {passlib.__version__}",
                    "password": password, "hash": h, "wrong_passwords": [w for w in wrong if w != password],
                    "full_cost": full_cost})


def main():
    for scheme, (cheap, default) in SCHEMES.items():
        add(f"{scheme}_low_cost", scheme, cheap, "test123")
        add(f"{scheme}_low_cost_unicode", scheme, cheap, UNICODE, wrong=WRONG + ["pässwörd-🔒", "passwörd-🔑"])
        add(f"{scheme}_low_cost_empty", scheme, cheap, "", wrong=["x", " ", "test123"])
        if scheme != "bcrypt":  # passlib truncates bcrypt at 72 bytes; that is checked elsewhere
            add(f"{scheme}_low_cost_long", scheme, cheap, LONG, wrong=[LONG[:-1], LONG + "x"])
        add(f"{scheme}_passlib_default", scheme, default, "test123", full_cost=True)
    add("sha512_crypt_rounds_5000_implicit", "sha512_crypt", ph.sha512_crypt.using(rounds=5000), "test123")
    add("sha256_crypt_rounds_5000_implicit", "sha256_crypt", ph.sha256_crypt.using(rounds=5000), "test123")
    add("sha512_crypt_short_salt", "sha512_crypt", ph.sha512_crypt.using(rounds=1000, salt="ab"), "test123")
    add("pbkdf2_sha256_salt_32", "pbkdf2_sha256", ph.pbkdf2_sha256.using(rounds=1000, salt_size=32), "test123")
    add("argon2_two_threads", "argon2", ph.argon2.using(memory_cost=16, rounds=2, parallelism=2), "test123")
    json.dump({
        "libraries": {
            "passlib": passlib.__version__,
            "argon2_backend": ph.argon2.get_backend(),
            "bcrypt_backend": ph.bcrypt.get_backend(),
        },
        "generator": "passhash/testdata/gen_hashes.py",
        "entries": entries,
    }, sys.stdout, indent=1, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
