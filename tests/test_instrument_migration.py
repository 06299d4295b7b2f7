"""Migration 0009 (ADR 0012): instruments, observations and ratings recorded before it keep their meaning."""
import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor


def _this_migration(executor):
    """The instrument-kinds migration and the one before it, whatever number a merge gave them."""
    node = next(key for key in executor.loader.graph.nodes
                if key[0] == "miiwrap_fidelity" and key[1].endswith("_instrument_kinds"))
    parent = next(p.key for p in executor.loader.graph.node_map[node].parents if p.key[0] == "miiwrap_fidelity")
    return [parent], [node]


@pytest.fixture
def executor():
    executor = MigrationExecutor(connection)
    yield executor
    latest = MigrationExecutor(connection)  # back to the latest schema for the tests that follow
    latest.migrate(latest.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_existing_rows_read_as_levels_without_summaries(executor):
    BEFORE, AFTER = _this_migration(executor)  # pylint: disable=invalid-name
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    user = old.get_model("auth", "User").objects.create(username="old-learner")
    coach = old.get_model("auth", "User").objects.create(username="old-coach")
    instrument = old.get_model("miiwrap_fidelity", "Instrument").objects.create(slug="old", name="Old")
    version = old.get_model("miiwrap_fidelity", "InstrumentVersion").objects.create(
        instrument=instrument, number=1, title="Old", content_digest="x" * 64)
    indicator = old.get_model("miiwrap_fidelity", "Indicator").objects.create(
        version=version, key="listens", domain="D", label="Listens", description="Listens first.", levels=[
            {"key": "met", "label": "Present", "anchor": "a", "met": True},
            {"key": "partly", "label": "Partly", "anchor": "b", "met": False}])
    observation = old.get_model("miiwrap_fidelity", "Observation").objects.create(
        course_key="course-v1:Old+X+1", learner=user, observer=coach, instrument_version=version,
        practice_date="2026-01-02", setting="home_visit", status="submitted", met_count=0, applicable_count=1)
    old.get_model("miiwrap_fidelity", "IndicatorRating").objects.create(
        observation=observation, indicator=indicator, level="partly")

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    executor.loader.build_graph()
    from miiwrap_fidelity.records.models import Indicator, InstrumentVersion, Observation  # pylint: disable=import-outside-toplevel

    migrated = Indicator.objects.get(pk=indicator.pk)
    assert (migrated.kind, migrated.spec, migrated.translations) == ("levels", {}, {})
    assert migrated.level("partly")["met"] is False and migrated.level("3") is None
    # Today's model reads this schema: only the columns 0011 knows (later ones, e.g. 0026's settings, are not there yet).
    migrated_version = InstrumentVersion.objects.only("summaries", "translations").get(pk=version.pk)
    assert migrated_version.summaries == [] and migrated_version.translations == {}
    row = Observation.objects.get(pk=observation.pk)
    assert row.summary_scores == {} and row.percent == 0.0
    assert row.ratings.get().level_label == "Partly"
