"""The project pages' routes, one module per concept, all on the one ``projects`` blueprint:

- ``pages``: the list of projects; a project's page, settings, classes, delete
- ``classes``: a class's page, rename, merge, delete; moving or deleting its photos; the photos
- ``uploads``: photos for a class, a zip of class folders, what arrived with an upload id
- ``training``: the Train button and a job's state
- ``versions``: a version's page, which one answers, delete, download, compare

Importing this module registers them all; the app factory takes ``bp`` from here.
"""

from mirada.web.projects import bp, classes, pages, training, uploads, versions

__all__ = ["bp", "classes", "pages", "training", "uploads", "versions"]
