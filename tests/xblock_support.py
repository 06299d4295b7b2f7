"""Helpers for driving the blocks through the xblock-sdk workbench (real runtime, real handlers)."""
import json

from workbench import scenarios

REFLECTION = "miiwrap_reflection.0"
SIGNOFF = "miiwrap_coach_signoff.0"


def usage_id(scenario):
    return scenarios.get_scenarios()[scenario].usage_id


def handler_url(scenario, handler):
    return f"/workbench/handler/{usage_id(scenario)}/{handler}/"


def call(client, scenario, handler, data):
    response = client.post(handler_url(scenario, handler), json.dumps(data), content_type="application/json")
    return response.status_code, response.json()


def view(client, scenario, view_name="student_view"):
    response = client.get(f"/workbench/view/{scenario}/{view_name}/")
    assert response.status_code == 200
    return response.content.decode()
