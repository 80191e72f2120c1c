"""Microsoft School Data Sync (SDS) v1 CSV sets.

Read: School.csv (which schools), Section.csv (sections, and their courses), Student.csv,
Teacher.csv, StudentEnrollment.csv and TeacherRoster.csv (a section's teacher). Usernames,
passwords, birthdates, e-mail, addresses and phone numbers are never read.
"""

from __future__ import annotations

from sis_imports.formats.archive import UploadArchive
from sis_imports.formats.common import CsvFile, FileStats, RowTally, Scope
from sis_imports.model import COURSES, SECTIONS, STUDENTS, TEACHERS, UploadRejected
from sis_imports.snapshot import SnapshotBuilder

FILES = (
    "school.csv",
    "section.csv",
    "student.csv",
    "teacher.csv",
    "studentenrollment.csv",
    "teacherroster.csv",
)
INACTIVE = "inactive"


def matches(archive: UploadArchive) -> bool:
    return sum(name in archive.members for name in FILES) >= 2


def parse(archive: UploadArchive, builder: SnapshotBuilder, scope: Scope, stats: FileStats) -> None:
    missing = [name for name in FILES if name not in archive.members]
    if missing:
        raise UploadRejected(
            "missing_file",
            "An SDS v1 set needs School.csv, Section.csv, Student.csv, "
            f"Teacher.csv, StudentEnrollment.csv and TeacherRoster.csv; missing: {', '.join(missing)}.",
        )
    schools = _read_schools(archive, builder, stats)
    section_school = _read_sections(archive, builder, schools, scope, stats)
    _read_people(archive, "student.csv", STUDENTS, builder, schools, scope, stats)
    _read_people(archive, "teacher.csv", TEACHERS, builder, schools, scope, stats)
    _read_links(archive, "studentenrollment.csv", builder, section_school, stats, teacher=False)
    _read_links(archive, "teacherroster.csv", builder, section_school, stats, teacher=True)


def _read_schools(archive: UploadArchive, builder: SnapshotBuilder, stats: FileStats) -> dict[str, list[str]]:
    """SIS ID -> aliases (the school number), so a school's own upload can name it either way."""
    schools: dict[str, list[str]] = {}
    with CsvFile(archive, "school.csv", ("SIS ID",), builder.issues) as school_file:
        sid, number = school_file.index("SIS ID"), school_file.index("School Number")
        tally = RowTally(school_file.name, "SIS ID, Name")
        for _, row in school_file.rows(tally):
            tally.good += 1
            alias = row[number].strip() if number is not None else ""
            schools[row[sid].strip()] = [alias] if alias else []  # type: ignore[index]
        tally.check(stats)
    return schools


def _read_sections(
    archive: UploadArchive,
    builder: SnapshotBuilder,
    schools: dict[str, list[str]],
    scope: Scope,
    stats: FileStats,
) -> dict[str, str]:
    section_school: dict[str, str] = {}
    required = ("SIS ID", "School SIS ID", "Section Name")
    with CsvFile(archive, "section.csv", required, builder.issues) as sections:
        sid, school, status = (
            sections.index("SIS ID"),
            sections.index("School SIS ID"),
            sections.index("Status"),
        )
        name, term = sections.index("Section Name"), sections.index("Term Name")
        course_id_at, course_name_at = sections.index("Course SIS ID"), sections.index("Course Name")
        periods = sections.index("Periods")
        tally = RowTally(sections.name, "SIS ID, School SIS ID, Section Name")
        for line, row in sections.rows(tally):
            tally.good += 1
            if status is not None and row[status].strip().lower() == INACTIVE:
                continue
            school_sis_id = row[school].strip()  # type: ignore[index]
            school_id = scope.school_for(
                school_sis_id, *schools.get(school_sis_id, []), file=sections.name, line=line
            )
            section_id = row[sid].strip()  # type: ignore[index]
            # SDS v1 lets Course SIS ID be blank; the section then stands for its own course.
            course_id = (row[course_id_at].strip() if course_id_at is not None else "") or section_id
            course_title = (row[course_name_at] if course_name_at is not None else "") or row[name]  # type: ignore[index]
            snapshot = builder.school(school_id)
            if course_id not in snapshot.records[COURSES]:
                builder.add(school_id, COURSES, course_id, (course_title,), sections.name, line)
            values = (
                course_id,
                "",
                row[periods] if periods is not None else "",
                row[term] if term is not None else "",
            )
            if builder.add(school_id, SECTIONS, section_id, values, sections.name, line):
                section_school[section_id] = school_id
        tally.check(stats)
    return section_school


def _read_people(
    archive: UploadArchive,
    key: str,
    entity: str,
    builder: SnapshotBuilder,
    schools: dict[str, list[str]],
    scope: Scope,
    stats: FileStats,
) -> None:
    required = ("SIS ID", "School SIS ID", "First Name", "Last Name")
    with CsvFile(archive, key, required, builder.issues) as people:
        sid, school, status = people.index("SIS ID"), people.index("School SIS ID"), people.index("Status")
        first, last, grade = people.index("First Name"), people.index("Last Name"), people.index("Grade")
        tally = RowTally(people.name, ", ".join(required))
        for line, row in people.rows(tally):
            tally.good += 1
            if status is not None and row[status].strip().lower() == INACTIVE:
                continue
            school_sis_id = row[school].strip()  # type: ignore[index]
            school_id = scope.school_for(
                school_sis_id, *schools.get(school_sis_id, []), file=people.name, line=line
            )
            if entity == STUDENTS:
                values: tuple[str, ...] = (row[last], row[first], row[grade] if grade is not None else "")  # type: ignore[index]
            else:
                values = (row[last], row[first])  # type: ignore[index]
            builder.add(school_id, entity, row[sid], values, people.name, line)  # type: ignore[index]
        tally.check(stats)


def _read_links(
    archive: UploadArchive,
    key: str,
    builder: SnapshotBuilder,
    section_school: dict[str, str],
    stats: FileStats,
    *,
    teacher: bool,
) -> None:
    with CsvFile(archive, key, ("Section SIS ID", "SIS ID"), builder.issues) as links:
        section_at, person_at = links.index("Section SIS ID"), links.index("SIS ID")
        tally = RowTally(links.name, "Section SIS ID, SIS ID")
        for line, row in links.rows(tally):
            tally.good += 1
            section_id, person_id = row[section_at].strip(), row[person_at].strip()  # type: ignore[index]
            school_id = section_school.get(section_id)
            if school_id is None:
                who = "teacher" if teacher else "student"
                builder.issues.warn(
                    links.name,
                    line,
                    "unknown_reference",
                    f"{who} {person_id} is listed in "
                    f"section {section_id}, which is not in the upload; row skipped",
                )
                continue
            if not teacher:
                builder.add_enrollment(school_id, section_id, person_id, links.name, line)
                continue
            sections = builder.schools[school_id].records[SECTIONS]
            course_id, current, period, term = sections[section_id]
            if not current:  # the first teacher listed is the section's teacher
                sections[section_id] = (course_id, person_id, period, term)
        tally.check(stats)
