"""A minimal Flask-Security(-Too) application for the Go package's
interoperability tests. It is imported by the other scripts in this
directory; run them with Debian's /usr/bin/python3 and the packages
python3-flask-security, python3-flask-sqlalchemy and python3-passlib.

The app keeps its users in an in-memory SQLite database and protects one
view, /protected, with @auth_token_required.
"""

from flask import Flask, jsonify
from flask_sqlalchemy import SQLAlchemy
from flask_security import (
    Security,
    SQLAlchemyUserDatastore,
    auth_token_required,
    current_user,
)
from flask_security.models import fsqla_v3 as fsqla


def make_app(secret_key, password_salt=None, single_hash=None, password_hash="bcrypt"):
    """Return (app, db, datastore) configured like a production app except
    for the settings given."""
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=secret_key,
        SQLALCHEMY_DATABASE_URI="sqlite://",
        SQLALCHEMY_TRACK_MODIFICATIONS=False,
        SECURITY_PASSWORD_HASH=password_hash,
        SECURITY_PASSWORD_SALT=password_salt,
        WTF_CSRF_ENABLED=False,
        TESTING=True,
    )
    if single_hash is not None:
        app.config["SECURITY_PASSWORD_SINGLE_HASH"] = single_hash

    db = SQLAlchemy(app)
    fsqla.FsModels.set_db_info(db)

    class Role(db.Model, fsqla.FsRoleMixin):
        pass

    class User(db.Model, fsqla.FsUserMixin):
        pass

    datastore = SQLAlchemyUserDatastore(db, User, Role)
    app.security = Security(app, datastore)

    @app.route("/protected")
    @auth_token_required
    def protected():
        return jsonify(fs_uniquifier=current_user.fs_uniquifier)

    with app.app_context():
        db.create_all()
    return app, db, datastore
