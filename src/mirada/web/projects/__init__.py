"""Projects: the user's own classes, their examples, training and the trained versions.

One blueprint, ``projects``; its routes live in one module per concept (``routes`` lists them).
"""

from flask import Blueprint

bp = Blueprint("projects", __name__)
