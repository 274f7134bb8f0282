"""Service errors share one base class, mapped once by the API's exception handler."""
import pytest

from curation.api.exceptions import api_exception_handler
from curation.api.services import ProblemVersionConflict
from curation.errors import ConflictError, DomainError, FieldError
from curation.exports import ExportOptionsError
from curation.judge.spec import JudgeSpecError
from curation.models import ImmutableError
from curation.services.bulk import BulkActionError
from curation.services.snapshots import SnapshotCriteriaError
from curation.services.webhooks import WebhookInputError


@pytest.mark.parametrize("error_class", [SnapshotCriteriaError, WebhookInputError, ExportOptionsError, JudgeSpecError])
def test_field_errors_answer_400_naming_the_field(error_class):
    response = api_exception_handler(error_class("filters.bucket", "unknown bucket"), {})
    assert response.status_code == 400
    assert response.data["filters.bucket"] == ["unknown bucket"] and response.data["message"] == "filters.bucket: unknown bucket"


@pytest.mark.parametrize("error", [ImmutableError("snapshot 3 is immutable"), ProblemVersionConflict(7)])
def test_conflicts_answer_409(error):
    assert isinstance(error, ConflictError)
    response = api_exception_handler(error, {})
    assert response.status_code == 409 and str(error) in response.data["message"]
    if isinstance(error, ProblemVersionConflict):
        assert response.data["message"].startswith("version: the problem changed (version 7)")


def test_other_domain_errors_answer_400_with_their_message():
    response = api_exception_handler(BulkActionError("a bulk rejection needs a reason"), {})
    assert response.status_code == 400 and response.data["message"] == "a bulk rejection needs a reason"
    assert issubclass(FieldError, DomainError) and issubclass(DomainError, ValueError)
