"""A real Flask-Security(-Too) application over a database file or server,
for the tests of the Go package's Flask-Security compatibility
(sqlstore.OpenFlaskSecurity and examples/server -schema flask-security).

Run it with Debian's /usr/bin/python3 and the packages python3-flask-security,
python3-flask-sqlalchemy, python3-passlib and python3-bcrypt (and
python3-psycopg2 for PostgreSQL):

    make_app_db.py create --db DB [--token-uniquifier] [--webauthn] [--no-users]
    make_app_db.py serve  --db DB [--port N]
    make_app_db.py dump   --db DB
    make_app_db.py ddl    --dialect sqlite|postgresql [--token-uniquifier] [--webauthn]
    make_app_db.py webauthn-add  --db DB < credentials.json
    make_app_db.py webauthn-dump --db DB

DB is an SQLite file path or a postgresql:// URL; --pg-schema NAME puts the
PostgreSQL tables in that schema (it must exist). --user-table and
--role-table rename the tables, as FsModels.set_db_info does.

The app is configured from environment variables named as its config keys:
SECRET_KEY, SECURITY_PASSWORD_SALT, SECURITY_PASSWORD_HASH (default bcrypt),
SECURITY_REMEMBER_SALT and SECURITY_TOKEN_MAX_AGE (seconds).

create  makes the tables (fsqla_v3 models; --token-uniquifier adds the
        optional fs_token_uniquifier column; --webauthn a WebAuthn model,
        see below) and, unless --no-users, the users below, then prints one
        JSON object:
            {"flask_security": "<version>", "users": [{"id", "email",
             "password", "scheme", "fs_uniquifier", "fs_token_uniquifier",
             "confirmed", "roles", "token"}, ...]}
        where token is user.get_auth_token().
serve   serves the app on 127.0.0.1 (port 0: any free one) and prints
        {"port": N} once it listens. Routes: Flask-Security's own POST /login
        (JSON; ?include_auth_token returns a token) and GET /protected,
        which requires an auth token (Authentication-Token header) and
        answers {"email", "id"}. WTF_CSRF is disabled so JSON logins need no
        CSRF token. The model follows the table: fs_token_uniquifier is
        mapped when the column exists.
dump    prints the users as the app's models read them, as a JSON list.
ddl     prints the CREATE statements create_all runs, one per paragraph.

The WebAuthn model (--webauthn; dump, serve and the webauthn commands map
it when the table exists) is the app's class WebAuthn(db.Model,
fsqla.FsWebAuthnMixin), whose table Flask-SQLAlchemy names web_authn, and
the user's webauthn relationship that fsqla_v3 declares only when the
webauthn package (py_webauthn) is installed, which Debian's Flask-Security
does not need; the datastore is given the model. Bytes are base64url
without padding in the JSON below.

webauthn-add   reads {"credentials": [{"user_id", "credential_id",
               "public_key", "name", "sign_count", "usage", "device_type",
               "backup_state", "transports", "extensions"}, ...]} on stdin
               and registers each as the app's /wan-register/{state} view
               does: set_webauthn_user_handle if the user has no handle
               (as /wan-register does), then create_webauthn, and commits.
               It prints what webauthn-dump prints.
webauthn-dump  prints {"users": [{"id", "fs_webauthn_user_handle",
               "user_handle" (the handle's UTF-8, which the app compares
               with the one an authenticator returns), "registered_credentials"
               (user.webauthn as GET /wan-register lists it),
               "credentials" (every column of user.webauthn's rows),
               "found" (for each, find_webauthn(credential_id) and
               find_user_from_webauthn: {"credential_id", "name",
               "user_id"})}, ...]}.
"""

import argparse
import base64
import json
import os
import sys

sys.dont_write_bytecode = True

import flask_security  # noqa: E402
import sqlalchemy  # noqa: E402
from flask import Flask, jsonify  # noqa: E402
from flask_security import (  # noqa: E402
    Security,
    SQLAlchemyUserDatastore,
    auth_token_required,
    current_user,
)
from flask_security.models import fsqla_v3 as fsqla  # noqa: E402
from flask_security.utils import get_hmac  # noqa: E402
from flask_sqlalchemy import SQLAlchemy  # noqa: E402
from sqlalchemy import Column, String  # noqa: E402

# The users create makes: one per passlib scheme the Go side must read.
USERS = [
    {
        "email": "alice@example.com",
        "password": "alice-pbkdf2-password",
        "scheme": "pbkdf2_sha512",
        "confirmed": True,
        "roles": ["admin"],
    },
    {
        "email": "Bob.Mixed@Example.com",
        "password": "bob-bcrypt-password",
        "scheme": "bcrypt",
        "confirmed": False,
        "roles": [],
    },
]


def database_uri(db):
    """Return the SQLAlchemy URI of an SQLite path or a PostgreSQL URL."""
    if db.startswith("postgres://"):
        return "postgresql://" + db[len("postgres://"):]
    if db.startswith("postgresql://"):
        return db
    return "sqlite:///" + os.path.abspath(db)


def config_from_env():
    """Return the app settings taken from the environment."""
    cfg = {
        "SECRET_KEY": os.environ.get("SECRET_KEY", "make_app_db default secret key"),
        "SECURITY_PASSWORD_SALT": os.environ.get("SECURITY_PASSWORD_SALT"),
        "SECURITY_PASSWORD_HASH": os.environ.get("SECURITY_PASSWORD_HASH", "bcrypt"),
    }
    if os.environ.get("SECURITY_REMEMBER_SALT"):
        cfg["SECURITY_REMEMBER_SALT"] = os.environ["SECURITY_REMEMBER_SALT"]
    if os.environ.get("SECURITY_TOKEN_MAX_AGE"):
        cfg["SECURITY_TOKEN_MAX_AGE"] = int(os.environ["SECURITY_TOKEN_MAX_AGE"])
    return cfg


def has_token_column(args):
    """Report whether the existing user table has fs_token_uniquifier."""
    engine = sqlalchemy.create_engine(database_uri(args.db), **engine_options(args))
    try:
        columns = sqlalchemy.inspect(engine).get_columns(args.user_table, schema=args.pg_schema)
    finally:
        engine.dispose()
    return any(c["name"] == "fs_token_uniquifier" for c in columns)


def has_webauthn_table(args):
    """Report whether the database has the WebAuthn model's table."""
    engine = sqlalchemy.create_engine(database_uri(args.db), **engine_options(args))
    try:
        return sqlalchemy.inspect(engine).has_table("web_authn", schema=args.pg_schema)
    finally:
        engine.dispose()


def engine_options(args):
    if args.pg_schema:
        return {"connect_args": {"options": "-csearch_path=" + args.pg_schema}}
    return {}


def make_app(args, token_uniquifier, webauthn=False):
    """Return (app, db, datastore, User) over args.db."""
    app = Flask(__name__)
    app.config.update(config_from_env())
    app.config.update(
        SQLALCHEMY_DATABASE_URI=database_uri(args.db),
        SQLALCHEMY_ENGINE_OPTIONS=engine_options(args),
        SQLALCHEMY_TRACK_MODIFICATIONS=False,
        WTF_CSRF_ENABLED=False,
        # Logins validate the email's syntax only: no DNS lookups in tests.
        SECURITY_EMAIL_VALIDATOR_ARGS={"check_deliverability": False},
    )
    db = SQLAlchemy(app)
    fsqla.FsModels.set_db_info(db, user_table_name=args.user_table, role_table_name=args.role_table)

    class Role(db.Model, fsqla.FsRoleMixin):
        __tablename__ = args.role_table

    attrs = {"__tablename__": args.user_table}
    if token_uniquifier:
        attrs["fs_token_uniquifier"] = Column(String(64), unique=True, nullable=True)
    WebAuthn = None
    if webauthn:
        # fsqla_v3's FsUserMixin.webauthn, which it declares only when the
        # webauthn package is installed.
        attrs["webauthn"] = db.relationship("WebAuthn", backref="users", cascade="all, delete")

        class WebAuthn(db.Model, fsqla.FsWebAuthnMixin):
            pass

    User = type("User", (db.Model, fsqla.FsUserMixin), attrs)

    datastore = SQLAlchemyUserDatastore(db, User, Role, WebAuthn)
    app.security = Security(app, datastore)

    @app.route("/protected")
    @auth_token_required
    def protected():
        return jsonify(email=current_user.email, id=current_user.id)

    return app, db, datastore, User


def user_json(user):
    return {
        "id": user.id,
        "email": user.email,
        "active": bool(user.active),
        "confirmed_at": user.confirmed_at.isoformat() if user.confirmed_at else None,
        "roles": sorted(r.name for r in user.roles),
        "fs_uniquifier": user.fs_uniquifier,
        "fs_token_uniquifier": getattr(user, "fs_token_uniquifier", None),
        "login_count": user.login_count,
        "last_login_at": user.last_login_at.isoformat() if user.last_login_at else None,
        "current_login_at": user.current_login_at.isoformat() if user.current_login_at else None,
        "last_login_ip": user.last_login_ip,
        "current_login_ip": user.current_login_ip,
    }


def cmd_create(args):
    app, db, datastore, _ = make_app(args, args.token_uniquifier, args.webauthn)
    out = {"flask_security": flask_security.__version__, "users": []}
    with app.app_context():
        db.create_all()
        if args.no_users:
            print(json.dumps(out))
            return
        ctx = app.security.pwd_context
        for spec in USERS:
            for name in spec["roles"]:
                datastore.find_or_create_role(name)
            # hash_password hashes with SECURITY_PASSWORD_HASH only; this is
            # what it does for another of the app's schemes.
            password = spec["password"]
            if flask_security.utils.use_double_hash(ctx.hash("x", scheme=spec["scheme"])):
                password = get_hmac(password).decode("ascii")
            user = datastore.create_user(
                email=spec["email"],
                password=ctx.hash(password, scheme=spec["scheme"]),
                roles=list(spec["roles"]),
                confirmed_at=app.security.datetime_factory() if spec["confirmed"] else None,
            )
            db.session.commit()
            if not flask_security.verify_password(spec["password"], user.password):
                sys.exit("make_app_db: Flask-Security does not verify the hash it made for " + spec["email"])
            out["users"].append({
                "id": user.id,
                "email": user.email,
                "password": spec["password"],
                "scheme": ctx.identify(user.password),
                "fs_uniquifier": user.fs_uniquifier,
                "fs_token_uniquifier": getattr(user, "fs_token_uniquifier", None),
                "confirmed": user.confirmed_at is not None,
                "roles": sorted(r.name for r in user.roles),
                "token": user.get_auth_token(),
            })
    print(json.dumps(out))


def cmd_dump(args):
    app, _, _, User = make_app(args, has_token_column(args), has_webauthn_table(args))
    with app.app_context():
        users = User.query.order_by(User.id).all()
        print(json.dumps([dict(user_json(u), scheme=app.security.pwd_context.identify(u.password) if u.password else None) for u in users]))


def cmd_serve(args):
    from werkzeug.serving import make_server

    app, _, _, _ = make_app(args, has_token_column(args), has_webauthn_table(args))
    server = make_server("127.0.0.1", args.port, app, threaded=True)
    print(json.dumps({"port": server.server_port}), flush=True)
    server.serve_forever()


def cmd_ddl(args):
    args.db = "sqlite:///unused" if args.dialect == "sqlite" else "postgresql://unused/unused"
    app, db, _, _ = make_app(args, args.token_uniquifier, args.webauthn)
    statements = []

    def executor(sql, *_, **__):
        statements.append(str(sql.compile(dialect=engine.dialect)).strip())

    url = "sqlite://" if args.dialect == "sqlite" else "postgresql://"
    engine = sqlalchemy.create_mock_engine(url, executor)
    with app.app_context():
        db.metadata.create_all(engine, checkfirst=False)
    print(";\n\n".join(statements) + ";")


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def iso(dt):
    return dt.isoformat() if dt is not None else None


def registered_credential(cred):
    """Return cred as the app's GET /wan-register lists it (webauthn.py)."""
    cl = {
        "name": cred.name,
        "credential_id": b64(cred.credential_id),
        "transports": cred.transports,
        "lastuse": cred.lastuse_datetime.isoformat(),
        "usage": cred.usage,
        "backup_state": cred.backup_state if hasattr(cred, "backup_state") else False,
        "device_type": cred.device_type if hasattr(cred, "device_type") else "Unknown",
    }
    discoverable = "Unknown"
    if cred.extensions:
        extensions = json.loads(cred.extensions)
        if "credProps" in extensions:
            discoverable = extensions["credProps"].get("rk", "Unknown")
    cl["discoverable"] = discoverable
    return cl


def webauthn_json(app, datastore, User):
    users = []
    for user in User.query.order_by(User.id).all():
        handle = user.fs_webauthn_user_handle
        entry = {
            "id": user.id,
            "fs_webauthn_user_handle": handle,
            "user_handle": b64(handle.encode()) if handle is not None else None,
            "registered_credentials": [registered_credential(c) for c in user.webauthn],
            "credentials": [],
            "found": [],
        }
        for cred in user.webauthn:
            entry["credentials"].append({
                "credential_id": b64(cred.credential_id),
                "public_key": b64(cred.public_key),
                "sign_count": cred.sign_count,
                "transports": cred.transports,
                "backup_state": cred.backup_state,
                "device_type": cred.device_type,
                "extensions": cred.extensions,
                "create_datetime": iso(cred.create_datetime),
                "lastuse_datetime": iso(cred.lastuse_datetime),
                "name": cred.name,
                "usage": cred.usage,
                "user_id": cred.user_id,
            })
            found = datastore.find_webauthn(credential_id=cred.credential_id)
            owner = datastore.find_user_from_webauthn(found) if found else None
            entry["found"].append({
                "credential_id": b64(found.credential_id) if found else None,
                "name": found.name if found else None,
                "user_id": owner.id if owner else None,
            })
        users.append(entry)
    return {"users": users}


def cmd_webauthn_add(args):
    app, db, datastore, User = make_app(args, has_token_column(args), True)
    spec = json.load(sys.stdin)
    with app.app_context():
        for c in spec["credentials"]:
            user = datastore.find_user(id=c["user_id"])
            if not user.fs_webauthn_user_handle:
                datastore.set_webauthn_user_handle(user)
            datastore.create_webauthn(
                user,
                name=c["name"],
                credential_id=unb64(c["credential_id"]),
                public_key=unb64(c["public_key"]),
                sign_count=c["sign_count"],
                backup_state=c["backup_state"],
                device_type=c["device_type"],
                transports=c["transports"],
                extensions=c["extensions"],
                usage=c["usage"],
            )
            db.session.commit()
        print(json.dumps(webauthn_json(app, datastore, User)))


def cmd_webauthn_dump(args):
    app, _, datastore, User = make_app(args, has_token_column(args), True)
    with app.app_context():
        print(json.dumps(webauthn_json(app, datastore, User)))


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("create", "serve", "dump", "ddl", "webauthn-add", "webauthn-dump"):
        p = sub.add_parser(name)
        if name == "ddl":
            p.add_argument("--dialect", choices=["sqlite", "postgresql"], required=True)
        else:
            p.add_argument("--db", required=True)
            p.add_argument("--pg-schema")
        p.add_argument("--user-table", default="user")
        p.add_argument("--role-table", default="role")
        if name in ("create", "ddl"):
            p.add_argument("--token-uniquifier", action="store_true")
            p.add_argument("--webauthn", action="store_true")
        if name == "create":
            p.add_argument("--no-users", action="store_true")
        if name == "serve":
            p.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv[1:])
    if args.command == "ddl":
        args.pg_schema = None
    {
        "create": cmd_create, "serve": cmd_serve, "dump": cmd_dump, "ddl": cmd_ddl,
        "webauthn-add": cmd_webauthn_add, "webauthn-dump": cmd_webauthn_dump,
    }[args.command](args)


if __name__ == "__main__":
    main(sys.argv)
