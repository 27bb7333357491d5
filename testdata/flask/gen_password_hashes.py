"""Generate testdata/flask/password_hashes.json with the real libraries.

Usage (from the repository root):

    /usr/bin/python3 -B testdata/flask/gen_password_hashes.py > testdata/flask/password_hashes.json

Needs Debian's python3-passlib, python3-argon2 (argon2-cffi, passlib's
argon2 backend), python3-flask-security and python3-flask-sqlalchemy. The
output differs on every run (fresh salts); every entry is checked with the
producing library, against the password and the wrong passwords, before it
is written.

Entry fields: name, scheme (passlib name), library, password, hash,
wrong_passwords, and for hashes made through Flask-Security a "flask" object
with the settings the Go Manager needs to verify them:

    {"password_salt": SECURITY_PASSWORD_SALT,
     "single_hash": SECURITY_PASSWORD_SINGLE_HASH (true, false or a list),
     "prehashed": whether Flask-Security applied the HMAC pre-hash}
"""

import json
import sys
import warnings

sys.dont_write_bytecode = True
warnings.simplefilter("ignore", DeprecationWarning)

import flask_security  # noqa: E402
import passlib  # noqa: E402
from flask_security.utils import hash_password, use_double_hash, verify_password  # noqa: E402
from passlib import hash as ph  # noqa: E402

from flaskapp import make_app  # noqa: E402

try:
    import crypt  # glibc/libxcrypt crypt(3); deprecated, gone in Python 3.13
except ImportError:  # pragma: no cover
    crypt = None

WRONG = ["test124", "Test123", "test123 ", ""]
FLASK_SALT = "something_super_secret_change_in_production"

entries = []


def add(name, scheme, library, password, h, verify, wrong=WRONG, **extra):
    if not verify(password, h):
        raise SystemExit(f"{name}: the producing library does not verify its own hash")
    for w in wrong:
        if verify(w, h):
            raise SystemExit(f"{name}: wrong password {w!r} verifies")
    e = {"name": name, "scheme": scheme, "library": library, "password": password,
         "hash": h, "wrong_passwords": list(wrong)}
    e.update(extra)
    entries.append(e)


def passlib_entries():
    lib = f"passlib {passlib.__version__}"
    long_pw = "long-password-" + "x" * 136  # 150 bytes: over two SHA-512 blocks
    cases = [
        ("passlib_sha512_crypt_rounds_5000_implicit", "sha512_crypt", ph.sha512_crypt.using(rounds=5000), "test123"),
        ("passlib_sha512_crypt_rounds_1000", "sha512_crypt", ph.sha512_crypt.using(rounds=1000), "test123"),
        ("passlib_sha512_crypt_default_rounds", "sha512_crypt", ph.sha512_crypt, "test123"),
        ("passlib_sha512_crypt_unicode", "sha512_crypt", ph.sha512_crypt.using(rounds=1000), "pässwörd-🔑"),
        ("passlib_sha512_crypt_long_password", "sha512_crypt", ph.sha512_crypt.using(rounds=1000), long_pw),
        ("passlib_sha512_crypt_empty_salt", "sha512_crypt", ph.sha512_crypt.using(rounds=1000, salt=""), "test123"),
        ("passlib_sha512_crypt_short_salt", "sha512_crypt", ph.sha512_crypt.using(rounds=1000, salt="ab"), "test123"),
        ("passlib_sha256_crypt_rounds_5000_implicit", "sha256_crypt", ph.sha256_crypt.using(rounds=5000), "test123"),
        ("passlib_sha256_crypt_rounds_1000", "sha256_crypt", ph.sha256_crypt.using(rounds=1000), "test123"),
        ("passlib_sha256_crypt_long_password", "sha256_crypt", ph.sha256_crypt.using(rounds=1000), long_pw),
        ("passlib_pbkdf2_sha1_default", "pbkdf2_sha1", ph.pbkdf2_sha1, "test123"),
        ("passlib_pbkdf2_sha512_rounds_1", "pbkdf2_sha512", ph.pbkdf2_sha512.using(rounds=1), "test123"),
        ("passlib_pbkdf2_sha256_salt_32", "pbkdf2_sha256", ph.pbkdf2_sha256.using(rounds=1000, salt_size=32), "test123"),
        ("passlib_argon2_default", "argon2", ph.argon2, "test123"),
        ("passlib_argon2_small", "argon2", ph.argon2.using(memory_cost=8192, rounds=1, parallelism=1), "test123"),
        ("passlib_argon2_flask_security_rounds_10", "argon2", ph.argon2.using(rounds=10), "test123"),
    ]
    for name, scheme, handler, pw in cases:
        add(name, scheme, lib, pw, handler.hash(pw), handler.verify)
    if crypt is not None:
        for name, setting in [
            ("crypt_module_sha512_rounds_1000", "$6$rounds=1000$saltsaltsaltsalt"),
            ("crypt_module_sha512_implicit_5000", "$6$shortsalt"),
            ("crypt_module_sha256_rounds_1000", "$5$rounds=1000$saltsaltsaltsalt"),
        ]:
            scheme = "sha512_crypt" if setting.startswith("$6$") else "sha256_crypt"
            add(name, scheme, "Python crypt module (libxcrypt crypt(3))", "test123",
                crypt.crypt("test123", setting), lambda p, h: crypt.crypt(p, h) == h)


def flask_entries():
    lib = f"Flask-Security-Too {flask_security.__version__} (passlib {passlib.__version__})"
    # Low costs keep the Go tests fast; "pbkdf2_sha512_default_rounds" is
    # at Flask-Security's defaults (the Go tests check one costly hash per
    # scheme, and none in -short mode).
    pbkdf2_low = {"pbkdf2_sha512__rounds": 1000}
    configs = [
        # (name, SECURITY_PASSWORD_HASH, SECURITY_PASSWORD_SINGLE_HASH, passlib options)
        ("pbkdf2_sha512", "pbkdf2_sha512", None, pbkdf2_low),
        ("pbkdf2_sha512_default_rounds", "pbkdf2_sha512", None, {}),
        ("pbkdf2_sha256", "pbkdf2_sha256", None, {"pbkdf2_sha256__rounds": 1000}),
        ("sha512_crypt", "sha512_crypt", None, {"sha512_crypt__rounds": 1000}),
        ("sha256_crypt", "sha256_crypt", None, {"sha256_crypt__rounds": 1000}),
        ("argon2", "argon2", None, {"argon2__rounds": 1, "argon2__memory_cost": 8192, "argon2__parallelism": 1}),
        ("bcrypt_cost_4", "bcrypt", None, {"bcrypt__rounds": 4}),
        ("single_hash_false_pbkdf2_sha512", "pbkdf2_sha512", False, pbkdf2_low),
        ("single_hash_true_pbkdf2_sha512", "pbkdf2_sha512", True, pbkdf2_low),
        ("single_hash_true_bcrypt_cost_4", "bcrypt", True, {"bcrypt__rounds": 4}),
        ("single_hash_list_sha512_crypt", "sha512_crypt", ["sha512_crypt"], {"sha512_crypt__rounds": 1000}),
        ("single_hash_list_other_pbkdf2_sha512", "pbkdf2_sha512", ["sha512_crypt"], pbkdf2_low),
    ]
    for name, scheme, single, opts in configs:
        app, _, _ = make_app(
            "unused-secret-key",
            password_salt=FLASK_SALT,
            single_hash=set(single) if isinstance(single, list) else single,
            password_hash=scheme,
        )
        if opts:
            app.config["SECURITY_PASSWORD_HASH_PASSLIB_OPTIONS"] = opts
            # The CryptContext is built at init; rebuild it with the options.
            from flask_security.core import _get_pwd_context
            app.security.pwd_context = _get_pwd_context(app)
        with app.app_context():
            for pw_name, pw in [("", "test123"), ("_unicode", "pässwörd-🔑")]:
                h = hash_password(pw)
                add("flask_security_" + name + pw_name, scheme, lib, pw, h, verify_password,
                    flask={"password_salt": FLASK_SALT,
                           "single_hash": single if single is not None else False,
                           "prehashed": bool(use_double_hash(h))})


def main():
    passlib_entries()
    flask_entries()
    json.dump({
        "libraries": {
            "passlib": passlib.__version__,
            "flask_security": flask_security.__version__,
            "argon2_backend": ph.argon2.get_backend(),
            "bcrypt_backend": ph.bcrypt.get_backend(),
        },
        "generator": "testdata/flask/gen_password_hashes.py",
        "entries": entries,
    }, sys.stdout, indent=1, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
