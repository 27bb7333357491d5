"""Issue a Flask-Security auth token, and check tokens against the app.

Usage: /usr/bin/python3 issue_token.py SECRET_KEY FS_UNIQUIFIER [TOKEN...]

Builds the app of flaskapp.py with SECRET_KEY, creates an active user whose
fs_uniquifier is FS_UNIQUIFIER, and prints one JSON object:

    {"flask_security": "<version>",
     "token": "<user.get_auth_token()>",
     "status": {"<TOKEN>": <HTTP status of GET /protected with it>, ...}}

The Go tests use "token" to check that the Go Manager accepts what
Flask-Security issues, and "status" to check that Flask-Security accepts
(200) or refuses (401) what the Go Manager minted.
"""

import json
import sys

sys.dont_write_bytecode = True

import flask_security  # noqa: E402
from flask_security import hash_password  # noqa: E402

from flaskapp import make_app  # noqa: E402


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    secret, uniquifier, tokens = argv[1], argv[2], argv[3:]
    app, db, datastore = make_app(secret, password_salt="unused-salt")
    with app.app_context():
        user = datastore.create_user(
            email="flask@example.com",
            password=hash_password("unused password"),
            fs_uniquifier=uniquifier,
            active=True,
        )
        db.session.commit()
        token = user.get_auth_token()
    client = app.test_client()
    status = {}
    for t in tokens:
        resp = client.get(
            "/protected",
            headers={"Authentication-Token": t, "Accept": "application/json"},
        )
        status[t] = resp.status_code
    print(json.dumps({
        "flask_security": flask_security.__version__,
        "token": token,
        "status": status,
    }))


if __name__ == "__main__":
    main(sys.argv)
