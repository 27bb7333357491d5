"""Check Flask-Security's password normalization against hashes made
elsewhere, and make hashes as its registration does.

Usage: /usr/bin/python3 -B normalized_passwords.py < request.json

The request is {"password_salt": "...", "hashes": [{"hash": "...",
"password": "..."}], "passwords": ["...", ...]}. For each entry of hashes,
a user holding that hash logs in through the real JSON /login with that
password as typed (Flask-Security normalizes it first); for each of
passwords the script hashes it as registration and password changes do:
hash_password of the normalized password (pbkdf2_sha512). It prints

    {"logins": [<HTTP status>, ...], "bodies": ["<response body>", ...],
     "hashes": ["...", ...]}
"""

import json
import sys

sys.dont_write_bytecode = True

from flask_security.utils import hash_password  # noqa: E402

from flaskapp import make_app  # noqa: E402


def main():
    req = json.load(sys.stdin)
    app, db, datastore = make_app(
        "unused-secret-key", password_salt=req["password_salt"], password_hash="pbkdf2_sha512"
    )
    # example.com addresses, with no DNS to ask.
    app.config["SECURITY_EMAIL_VALIDATOR_ARGS"] = {"check_deliverability": False}
    logins, bodies, hashes = [], [], []
    with app.app_context():
        db.create_all()
        for i, case in enumerate(req["hashes"]):
            email = f"user{i}@example.com"
            datastore.create_user(email=email, password=case["hash"], active=True)
        db.session.commit()
        for pw in req["passwords"]:
            hashes.append(hash_password(app.security._password_util.normalize(pw)))
    for i, case in enumerate(req["hashes"]):
        client = app.test_client()  # a client of its own: no session left by the last login
        resp = client.post("/login", json={"email": f"user{i}@example.com", "password": case["password"]})
        logins.append(resp.status_code)
        bodies.append(resp.get_data(as_text=True))
    print(json.dumps({"logins": logins, "bodies": bodies, "hashes": hashes}))


if __name__ == "__main__":
    main()
