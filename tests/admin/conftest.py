"""Fixtures for the configurator admin: two configurators, the app's engine, a published triage process."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup

from casework.configuration import drafts, review
from casework.engine_host import get_engine, operation_session
from tests.admin.samples import triage_files
from tests.conftest import sign_in
from tests.factories import create_user


@pytest.fixture
def alice(session):
    return create_user(session, username="alice", roles=["configurator"], display_name="Alice Config")


@pytest.fixture
def bob(session):
    return create_user(session, username="bob", roles=["configurator"], display_name="Bob Config")


@pytest.fixture
def wf(app, session):
    """The app's engine; engine calls made directly by a test run with the test's session visible to the
    casework hooks (as a request or the CLI would)."""
    with app.app_context():
        engine = get_engine(app)
    with operation_session(session):
        yield engine


@pytest.fixture
def as_alice(client, alice):
    return client, sign_in(client, alice)


def soup(response) -> BeautifulSoup:
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def publish_via_review(session, wf, files=None, *, author="alice", reviewer="bob", key="triage"):
    """Run the whole change control for ``files`` and return the definition row."""
    files = files or triage_files()
    draft = drafts.open_draft(session, key)
    if draft is None:
        draft = drafts.create_draft(session, process_key=key, title="Referral triage", files=files,
                                    actor=author, reason="new process")
    else:
        drafts.save_files(session, draft, changes=files, actor=author, expected_version=draft.version)
    review.submit(session, draft, actor=author, reason="ready", engine=wf)
    review.approve(session, draft, actor=reviewer, reason="looks right", engine=wf)
    return review.publish(session, draft, actor=reviewer, reason="go live", engine=wf)
