"""Every model of the plugin can be looked at in the Django admin; records that are history are read-only."""
import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse

from miiwrap_fidelity.records.models import AuditEvent, SignOff

pytestmark = pytest.mark.django_db
INLINE_ONLY = {"ReflectionComment", "IndicatorRating"}  # shown inside their reflection / observation


def test_every_model_has_an_admin_page_that_renders(client, ready_learner, coach, course_key, django_user_model):
    from miiwrap_fidelity import api  # pylint: disable=import-outside-toplevel

    api.sign_off(coach, ready_learner, course_key)
    client.force_login(django_user_model.objects.create_superuser("root", "root@example.com", "x"))
    for model in apps.get_app_config("miiwrap_fidelity").get_models():
        if model.__name__ in INLINE_ONLY:
            continue
        assert admin.site.is_registered(model), model.__name__
        url = reverse(f"admin:miiwrap_fidelity_{model._meta.model_name}_changelist")
        assert client.get(url).status_code == 200, model.__name__


@pytest.mark.parametrize("model", [SignOff, AuditEvent])
def test_history_cannot_be_changed_in_the_admin(model, rf, django_user_model):
    request = rf.get("/")
    request.user = django_user_model(is_superuser=True, is_staff=True)
    model_admin = admin.site._registry[model]  # pylint: disable=protected-access
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_delete_permission(request)
