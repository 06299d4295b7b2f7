"""
A learner's course progress for their coach: units completed and knowledge-check scores per
section, grouped by the rubric's domains (pure: the platform's data in, rows out).

A section belongs to a domain when course authors tagged it in Studio with the domain's name (any
taxonomy; case and surrounding spaces ignored; the instrument's name or its translation), and the
group is named in the reader's language. Untagged sections come last, as they are.
"""
from dataclasses import dataclass


@dataclass(frozen=True)
class SectionProgress:
    title: str
    earned: float
    possible: float

    @property
    def percent(self):
        """Knowledge-check score in percent, or None when no check was answered (or the section has none)."""
        return round(100 * self.earned / self.possible) if self.possible else None


@dataclass(frozen=True)
class DomainProgress:
    domain: str | None  # None: sections tagged with no rubric domain
    sections: tuple

    @property
    def percent(self):
        earned = sum(section.earned for section in self.sections)
        possible = sum(section.possible for section in self.sections)
        return round(100 * earned / possible) if possible else None


@dataclass(frozen=True)
class CourseProgress:
    units_complete: int
    units_total: int
    units_locked: int
    domains: tuple

    @property
    def units_percent(self):
        return round(100 * self.units_complete / self.units_total) if self.units_total else None


def summarize(progress, domains, shown=None):
    """
    ``progress`` as ``platform.course_progress`` returns it; ``domains``: the rubric's, in its order;
    ``shown``: each domain's name in the reader's language (the instrument's translation, issue 26),
    which a section's tag may also use.
    """
    shown = shown or {}
    by_name = {domain.strip().casefold(): domain for domain in domains}
    for domain in domains:
        if shown.get(domain):
            by_name.setdefault(shown[domain].strip().casefold(), domain)
    grouped = {domain: [] for domain in domains}
    untagged = []
    for section in progress.get("sections", []):
        row = SectionProgress(section["title"], sum(s["earned"] for s in section["subsections"]),
                              sum(s["possible"] for s in section["subsections"]))
        domain = next((by_name[tag.strip().casefold()] for tag in section.get("tags", [])
                       if tag.strip().casefold() in by_name), None)
        (grouped[domain] if domain else untagged).append(row)
    groups = [DomainProgress(shown.get(domain) or domain, tuple(rows)) for domain, rows in grouped.items() if rows]
    if untagged:
        groups.append(DomainProgress(None, tuple(untagged)))
    units = progress.get("units", {})
    complete, incomplete, locked = units.get("complete", 0), units.get("incomplete", 0), units.get("locked", 0)
    return CourseProgress(complete, complete + incomplete, locked, tuple(groups))
