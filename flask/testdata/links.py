"""Make and check the tokens of Flask-Security's mailed links.

Usage: /usr/bin/python3 -B links.py < request.json

Run with Debian's /usr/bin/python3 and python3-flask-security,
python3-flask-sqlalchemy and python3-passlib (Flask-Security-Too 5.1.2 on
bookworm). The request is one JSON object:

    {"secret_key": "<SECRET_KEY>",
     "config": {"SECURITY_...": ..., ...},    settings to add, optional
     "db": "<SQLite file>" or null,
     "token_uniquifier": false,               with "db" null: give the
                                              model fs_token_uniquifier
     "user": {"email", "password", "fs_uniquifier", "fs_token_uniquifier"},
     "new_email": "<address for the change-email token>",
     "read": [{"purpose": "confirm" | "reset" | "change-email",
               "token": "<token>"}, ...]}

With "db" null the app keeps its users in an in-memory SQLite database
and "user" is created in it, its "password" stored as given (a hash, or
null). With "db" the app opens that file's existing tables (mapping
fs_token_uniquifier if the user table has it) and "user" needs only
"email", the user to make tokens for.

It prints one JSON object:

    {"flask_security": "<version>",
     "fs_uniquifier": "<the user's>",
     "confirm": "<generate_confirmation_token(user)>",
     "reset": "<generate_reset_password_token(user)>",
     "change-email": "<change-email token for new_email>",
     "read": [{"expired": bool, "invalid": bool, "user": "<fs_uniquifier>"
               or null, "new_email": "<address>" or null}, ...]}

"confirm" and "reset" tokens are read with confirm_email_token_status and
reset_password_token_status. Flask-Security 5.1.2 has no email change: the
"change-email" token is made, and read, the way later versions' change
email feature does, from 5.1.2's own parts: a URLSafeTimedSerializer
under SECURITY_CHANGE_EMAIL_SALT (set here to those versions' default,
"change-email-salt", unless "config" gives it), a payload of
[fs_uniquifier, hash_data(email), new email], and a check with
check_and_get_token_status, find_user(fs_uniquifier=...) and
verify_hash of the user's email, within SECURITY_CHANGE_EMAIL_WITHIN
(default here "2 hours"). A check that raises (passlib refusing a
malformed hash, say) counts as invalid, where the application would
answer 500.
"""

import json
import os
import sys
import warnings

sys.dont_write_bytecode = True
# confirm_email_token_status and reset_password_token_status call the
# deprecated get_token_status themselves.
warnings.simplefilter("ignore", DeprecationWarning)

import flask_security  # noqa: E402
import sqlalchemy  # noqa: E402
from flask import Flask, current_app  # noqa: E402
from flask_security import Security, SQLAlchemyUserDatastore  # noqa: E402
from flask_security.confirmable import (  # noqa: E402
    confirm_email_token_status,
    generate_confirmation_token,
)
from flask_security.core import _get_serializer  # noqa: E402
from flask_security.models import fsqla_v3 as fsqla  # noqa: E402
from flask_security.recoverable import (  # noqa: E402
    generate_reset_password_token,
    reset_password_token_status,
)
from flask_security.utils import (  # noqa: E402
    check_and_get_token_status,
    get_within_delta,
    hash_data,
    verify_hash,
)
from flask_sqlalchemy import SQLAlchemy  # noqa: E402
from sqlalchemy import Column, String  # noqa: E402


def make_app(req):
    """Return (app, db, datastore) for the request."""
    db_path = req.get("db")
    uri = "sqlite:///" + os.path.abspath(db_path) if db_path else "sqlite://"
    token_uniquifier = bool(req.get("token_uniquifier"))
    if db_path:
        engine = sqlalchemy.create_engine(uri)
        try:
            columns = sqlalchemy.inspect(engine).get_columns("user")
        finally:
            engine.dispose()
        token_uniquifier = any(c["name"] == "fs_token_uniquifier" for c in columns)

    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=req["secret_key"],
        SQLALCHEMY_DATABASE_URI=uri,
        SQLALCHEMY_TRACK_MODIFICATIONS=False,
        SECURITY_PASSWORD_SALT="unused password salt",
        SECURITY_CHANGE_EMAIL_SALT="change-email-salt",
        SECURITY_CHANGE_EMAIL_WITHIN="2 hours",
        TESTING=True,
    )
    app.config.update(req.get("config") or {})

    db = SQLAlchemy(app)
    fsqla.FsModels.set_db_info(db)

    class Role(db.Model, fsqla.FsRoleMixin):
        pass

    attrs = {}
    if token_uniquifier:
        attrs["fs_token_uniquifier"] = Column(String(64), unique=True, nullable=True)
    User = type("User", (db.Model, fsqla.FsUserMixin), attrs)

    datastore = SQLAlchemyUserDatastore(db, User, Role)
    app.security = Security(app, datastore)
    # What later versions set up for their email change.
    app.security.change_email_serializer = _get_serializer(app, "change_email")
    return app, db, datastore


def change_email_token(user, new_email):
    """Make a change-email token as later Flask-Security versions do."""
    data = [str(user.fs_uniquifier), hash_data(user.email), new_email]
    return current_app.security.change_email_serializer.dumps(data)


def change_email_token_status(datastore, token):
    """Check a change-email token as later Flask-Security versions do,
    short of their check that the new email is still free."""
    expired, invalid, data = check_and_get_token_status(
        token, "change_email", get_within_delta("CHANGE_EMAIL_WITHIN")
    )
    if invalid or expired:
        return expired, invalid, None, None
    if not isinstance(data, list) or len(data) != 3:
        return False, True, None, None
    user = datastore.find_user(fs_uniquifier=data[0])
    if user is None or not verify_hash(data[1], user.email):
        return False, True, None, None
    return False, False, user, data[2]


def read(datastore, purpose, token):
    """Return what the application says of token for purpose."""
    new_email = None
    try:
        if purpose == "confirm":
            expired, invalid, user = confirm_email_token_status(token)
        elif purpose == "reset":
            expired, invalid, user = reset_password_token_status(token)
        elif purpose == "change-email":
            expired, invalid, user, new_email = change_email_token_status(datastore, token)
        else:
            sys.exit("links.py: unknown purpose " + purpose)
    except (ValueError, TypeError):
        return {"expired": False, "invalid": True, "user": None, "new_email": None}
    return {
        "expired": bool(expired),
        "invalid": bool(invalid),
        "user": user.fs_uniquifier if user is not None else None,
        "new_email": new_email,
    }


def main():
    req = json.load(sys.stdin)
    app, db, datastore = make_app(req)
    spec = req["user"]
    with app.app_context():
        if req.get("db"):
            user = datastore.find_user(email=spec["email"])
            if user is None:
                sys.exit("links.py: no user " + spec["email"])
        else:
            db.create_all()
            fields = {
                "email": spec["email"],
                "password": spec.get("password"),
                "fs_uniquifier": spec["fs_uniquifier"],
                "active": True,
            }
            if spec.get("fs_token_uniquifier"):
                fields["fs_token_uniquifier"] = spec["fs_token_uniquifier"]
            user = datastore.create_user(**fields)
            db.session.commit()
        out = {
            "flask_security": flask_security.__version__,
            "fs_uniquifier": user.fs_uniquifier,
            "confirm": generate_confirmation_token(user),
            "reset": generate_reset_password_token(user),
            "change-email": change_email_token(user, req.get("new_email") or "new@example.com"),
            "read": [read(datastore, r["purpose"], r["token"]) for r in req.get("read", [])],
        }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
