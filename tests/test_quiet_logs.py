"""Operators' logs (issue 15): a certificate our gate prevents and a refused page are one line each, no traceback."""
import logging
import sys

import pytest
from openedx_filters.learning.filters import CertificateCreationRequested

from miiwrap_fidelity.hooks import log_filters
from sandbox.fake_platform import FakePlatform
from sandbox.models import CertificateRequest, Enrollment

pytestmark = pytest.mark.django_db


def test_a_prevented_certificate_is_one_info_line(policy, learner, course_key, caplog):
    Enrollment.objects.create(course_key=course_key, user=learner)
    with caplog.at_level(logging.DEBUG):
        assert FakePlatform().request_certificate(learner, course_key) is False
    assert CertificateRequest.objects.get().outcome == "prevented"
    records = [r for r in caplog.records if r.name == log_filters.FILTERS_LOGGER]
    assert len(records) == 1
    record = records[0]
    assert record.levelno == logging.INFO and record.exc_info is None
    message = record.getMessage()
    assert "\n" not in message and message.startswith("CompetencyCertificateGate: Your certificate requires")
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def _record(step, exc):
    try:
        raise exc
    except Exception:  # pylint: disable=broad-except
        exc_info = sys.exc_info()
    return logging.LogRecord(log_filters.FILTERS_LOGGER, logging.ERROR, __file__, 1,
                             "Exception raised while running '%s':\n %s", (step, exc), exc_info)


@pytest.mark.parametrize("step, exc", [
    ("OtherPluginCertificateStep", CertificateCreationRequested.PreventCertificateCreation("theirs")),
    ("CompetencyCertificateGate", RuntimeError("a crash in our step stays an error with its traceback")),
])
def test_other_refusals_and_real_errors_keep_their_traceback(step, exc):
    record = _record(step, exc)
    assert log_filters.OurRefusalsOnOneLine().filter(record) is True
    assert record.levelno == logging.ERROR and record.exc_info is not None
