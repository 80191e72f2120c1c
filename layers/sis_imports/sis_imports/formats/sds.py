"""Microsoft School Data Sync (SDS) v1 CSV sets.

Read: School.csv (which schools), Section.csv (sections, and their courses), Student.csv,
Teacher.csv, StudentEnrollment.csv and TeacherRoster.csv (a section's teacher). Usernames,
passwords, birthdates, e-mail, addresses and phone numbers are never read.
"""

from __future__ import annotations

from itertools import repeat

from sis_imports.formats.archive import UploadArchive
from sis_imports.formats.common import FileStats, RowTally, Scope
from sis_imports.formats.csv_file import Chunk, CsvFile
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


def check_files(archive: UploadArchive) -> None:
    """Refuses a set without all six files (also before a district bundle is split)."""
    missing = [name for name in FILES if name not in archive.members]
    if missing:
        raise UploadRejected(
            "missing_file",
            "An SDS v1 set needs School.csv, Section.csv, Student.csv, "
            f"Teacher.csv, StudentEnrollment.csv and TeacherRoster.csv; missing: {', '.join(missing)}.",
        )


def parse(archive: UploadArchive, builder: SnapshotBuilder, scope: Scope, stats: FileStats) -> None:
    check_files(archive)
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
        for chunk in sections.chunks(tally):
            tally.good += len(chunk)
            if _add_sections(sections, chunk, builder, schools, scope, section_school):
                continue
            for line, row in zip(chunk.lines, chunk.rows, strict=True):
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


def _add_sections(
    sections: CsvFile,
    chunk: Chunk,
    builder: SnapshotBuilder,
    schools: dict[str, list[str]],
    scope: Scope,
    section_school: dict[str, str],
) -> bool:
    """A chunk of one school's active sections, and the courses they name first, added at once.
    False otherwise; its courses may be in by then, which the row-by-row path allows for: it adds
    a course only while the course is not yet there."""
    school_id = _one_active_school(sections, chunk, schools, scope)
    if school_id is None:
        return False
    blank = [""] * len(chunk)
    section_ids = list(map(str.strip, sections.column(chunk, "SIS ID") or blank))
    named_courses = map(str.strip, sections.column(chunk, "Course SIS ID") or blank)
    # SDS v1 lets Course SIS ID be blank; the section then stands for its own course.
    course_ids = [course or section for course, section in zip(named_courses, section_ids, strict=True)]
    course_names = sections.column(chunk, "Course Name") or blank
    section_names = sections.column(chunk, "Section Name") or blank
    titles = [course or section for course, section in zip(course_names, section_names, strict=True)]
    known = builder.school(school_id).records[COURSES]
    new_courses: dict[str, tuple[str, int]] = {}
    for course_id, title, line in zip(course_ids, titles, chunk.lines, strict=True):
        if course_id not in known:
            new_courses.setdefault(course_id, (title, line))
    if new_courses and not builder.add_rows(
        school_id,
        COURSES,
        list(new_courses),
        [[title for title, _ in new_courses.values()]],
        sections.name,
        [line for _, line in new_courses.values()],
    ):
        return False
    periods = sections.column(chunk, "Periods") or blank
    terms = sections.column(chunk, "Term Name") or blank
    if not builder.add_rows(
        school_id, SECTIONS, section_ids, [course_ids, blank, periods, terms], sections.name, chunk.lines
    ):
        return False
    section_school.update(zip(section_ids, repeat(school_id)))
    return True


def _one_active_school(
    file: CsvFile, chunk: Chunk, schools: dict[str, list[str]], scope: Scope
) -> str | None:
    """The school every row of a chunk belongs to, when no row is inactive and all name the same one."""
    statuses = file.column(chunk, "Status")
    if statuses is not None and INACTIVE in map(str.lower, map(str.strip, statuses)):
        return None
    named = set(map(str.strip, file.column(chunk, "School SIS ID") or []))
    if len(named) != 1:
        return None
    (school_sis_id,) = named
    return scope.school_for(
        school_sis_id, *schools.get(school_sis_id, []), file=file.name, line=chunk.lines[0]
    )


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
        for chunk in people.chunks(tally):
            tally.good += len(chunk)
            if _add_people(people, chunk, entity, builder, schools, scope):
                continue
            for line, row in zip(chunk.lines, chunk.rows, strict=True):
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


def _add_people(
    people: CsvFile,
    chunk: Chunk,
    entity: str,
    builder: SnapshotBuilder,
    schools: dict[str, list[str]],
    scope: Scope,
) -> bool:
    """A chunk of one school's active people, added at once; False (nothing added) otherwise."""
    school_id = _one_active_school(people, chunk, schools, scope)
    if school_id is None:
        return False
    columns = [people.column(chunk, "Last Name") or [], people.column(chunk, "First Name") or []]
    if entity == STUDENTS:
        columns.append(people.column(chunk, "Grade") or [""] * len(chunk))
    ids = people.column(chunk, "SIS ID") or []
    return builder.add_rows(school_id, entity, ids, columns, people.name, chunk.lines)


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
        for chunk in links.chunks(tally):
            tally.good += len(chunk)
            if not teacher and _add_enrollments(links, chunk, builder, section_school):
                continue
            for line, row in zip(chunk.lines, chunk.rows, strict=True):
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


def _add_enrollments(
    links: CsvFile, chunk: Chunk, builder: SnapshotBuilder, section_school: dict[str, str]
) -> bool:
    """A chunk of one school's student enrollments, added at once; False (nothing added) otherwise.

    With one school in the upload its sections are exactly `section_school`'s, and the batch add
    finds any section that is not among them.
    """
    named = set(section_school.values())
    if len(named) != 1:
        return False
    (school_id,) = named
    section_ids, student_ids = links.column(chunk, "Section SIS ID"), links.column(chunk, "SIS ID")
    return builder.add_enrollment_rows(school_id, section_ids or [], student_ids or [])
