"""Flask extensions, created unbound and attached in the app factory."""

from flask_babel import Babel
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect

babel = Babel()
csrf = CSRFProtect()
migrate = Migrate()
