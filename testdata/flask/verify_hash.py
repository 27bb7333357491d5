"""Check password hashes with the real Flask-Security and passlib.

Usage: /usr/bin/python3 -B verify_hash.py < request.json

The request is a JSON list of groups, each checked by an app with its own
settings:

    [{"password_salt": "<SECURITY_PASSWORD_SALT>" or null,
      "single_hash": true | false | ["<passlib scheme>", ...] | null,
      "cases": [{"hash": "...", "password": "..."}, ...]}, ...]

single_hash null keeps Flask-Security's default for
SECURITY_PASSWORD_SINGLE_HASH. For each case the script normalizes the
password as the login form does (SECURITY_PASSWORD_NORMALIZE_FORM, NFKD),
asks flask_security.utils.verify_password (which applies the HMAC pre-hash
exactly when Flask-Security would) and prints one JSON object:

    {"flask_security": "<version>", "passlib": "<version>",
     "groups": [[{"ok": bool, "scheme": "<passlib scheme>",
                  "double_hash": bool, "needs_update": bool}, ...], ...]}
"""

import json
import sys

sys.dont_write_bytecode = True

import flask_security  # noqa: E402
import passlib  # noqa: E402
from flask_security.utils import use_double_hash, verify_password  # noqa: E402

from flaskapp import make_app  # noqa: E402


def check_group(group):
    single = group.get("single_hash")
    if isinstance(single, list):
        single = set(single)
    app, _, _ = make_app(
        "unused-secret-key", password_salt=group.get("password_salt"), single_hash=single
    )
    results = []
    with app.app_context():
        ctx = app.security.pwd_context
        for case in group["cases"]:
            h, pw = case["hash"], app.security._password_util.normalize(case["password"])
            results.append({
                "ok": bool(verify_password(pw, h)),
                "scheme": ctx.identify(h),
                "double_hash": bool(use_double_hash(h)),
                "needs_update": bool(ctx.needs_update(h)),
            })
    return results


def main():
    groups = [check_group(g) for g in json.load(sys.stdin)]
    print(json.dumps({
        "flask_security": flask_security.__version__,
        "passlib": passlib.__version__,
        "groups": groups,
    }))


if __name__ == "__main__":
    main()
