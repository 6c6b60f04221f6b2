"""The database as the running app binds it: one Flask-SQLAlchemy object whose session
lives for one request, one command or one job.

Only the doors (web views, CLI commands, the job worker's scope) import it; they hand
``db.session()`` to the services, which know only SQLAlchemy's ``Session``. The models
live in ``mirada.db`` and import nothing of Flask.
"""

from flask_sqlalchemy import SQLAlchemy

from mirada.db.base import Base

db = SQLAlchemy(model_class=Base)
