"""Choosing the serving version and deleting one, through a plain session."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from mirada.services import projects, versions
from mirada.services.errors import Conflict, NotFound, ServiceError
from mirada.storage.local import LocalBlobStore
from tests.unit.services.owners import a_user, a_version


def test_pin_then_serve_newest(session: Session) -> None:
    user = a_user(session)
    project = projects.create_project(session=session, user=user, name="Birds")
    v1 = a_version(session, project, 1, "h1")
    v2 = a_version(session, project, 2, "h2")
    assert [v.number for v in versions.list_versions(session=session, project=project)] == [2, 1]
    assert versions.get_version(session=session, project=project, number=1).id == v1.id
    with pytest.raises(NotFound):
        versions.get_version(session=session, project=project, number=3)
    versions.pin_version(project=project, version=v1, backbone="test")
    assert project.serving_pinned_at is not None
    assert versions.adopt_trained_version(project=project, version=v2) is False
    assert versions.serve_newest(session=session, project=project) is not None
    assert (project.serving_version_id, project.serving_pinned_at) == (v2.id, None)


def test_a_pin_to_a_version_of_another_backbone_gives_way_to_the_next_trained(
    session: Session,
) -> None:
    project = projects.create_project(session=session, user=a_user(session), name="Birds")
    old = a_version(session, project, 1, "h1", backbone="fp32-model")
    versions.pin_version(project=project, version=old, backbone="fp32-model")
    session.flush()
    new = a_version(session, project, 2, "h2", backbone="int8-model")
    with pytest.raises(Conflict) as refused:  # now that int8 runs, the old one cannot serve
        versions.pin_version(project=project, version=old, backbone="int8-model")
    assert refused.value.params == {"number": 1}
    assert versions.adopt_trained_version(project=project, version=new) is True
    assert (project.serving_version_id, project.serving_pinned_at) == (new.id, None)


def test_the_serving_version_cannot_be_deleted_and_a_head_goes_after_commit(
    session: Session, blobs: LocalBlobStore
) -> None:
    user = a_user(session)
    project = projects.create_project(session=session, user=user, name="Birds")
    blobs.put("users/1/h1", b"head one")
    v1 = a_version(session, project, 1, "users/1/h1")
    v2 = a_version(session, project, 2, "users/1/h2")
    project.serving_version_id = v2.id
    session.commit()
    with pytest.raises(ServiceError) as refused:
        versions.delete_version(session=session, project=project, version=v2, blobs=blobs)
    assert refused.value.code == "version_serving"
    versions.delete_version(session=session, project=project, version=v1, blobs=blobs)
    assert blobs.get("users/1/h1") == b"head one"  # the door has not committed yet
    session.commit()
    later = datetime.now(UTC) + timedelta(days=1)
    assert list(blobs.keys("users", written_before=later)) == []
    assert [v.number for v in versions.list_versions(session=session, project=project)] == [2]
