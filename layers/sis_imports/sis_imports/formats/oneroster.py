"""OneRoster 1.1 (and 1.2) CSV bulk bundles.

Read: manifest, orgs, academicSessions (term titles), courses, classes (sections), users
(students and teachers only) and enrollments (students become enrollments, teachers become
the section's teacher). Rows with status `tobedeleted` are absent from the snapshot, so the
record is dropped. Delta bundles are refused: a delta is not a full snapshot.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import compress
from operator import not_

from sis_imports.formats.archive import UploadArchive
from sis_imports.formats.common import FileStats, RowTally, Scope, split_list
from sis_imports.formats.csv_file import Chunk, CsvFile
from sis_imports.issues import IssueLog
from sis_imports.model import COURSES, SECTIONS, STUDENTS, TEACHERS, UploadRejected
from sis_imports.snapshot import SnapshotBuilder

REQUIRED_BULK = ("orgs", "users", "classes", "enrollments")
DELETED = "tobedeleted"
ACTIVE = "active"


def matches(archive: UploadArchive) -> bool:
    return "manifest.csv" in archive.members or {"users.csv", "classes.csv", "enrollments.csv"} <= set(
        archive.members
    )


def parse(archive: UploadArchive, builder: SnapshotBuilder, scope: Scope, stats: FileStats) -> None:
    issues = builder.issues
    check_bulk_bundle(archive, issues)
    schools = _read_orgs(archive, issues, stats)
    terms = _read_terms(archive, issues, stats)
    section_school = _read_classes(archive, builder, schools, terms, scope, stats)
    _read_courses(archive, builder, schools, scope, stats)
    roles = _read_roles(archive, issues, stats)
    _read_users(archive, builder, schools, roles, scope, stats)
    _read_enrollments(archive, builder, section_school, stats)


def check_bulk_bundle(archive: UploadArchive, issues: IssueLog) -> None:
    """Refuses a bundle that is not a complete bulk export (also before a district bundle is split)."""
    manifest = _read_manifest(archive, issues)
    for name in REQUIRED_BULK:
        mode = manifest.get(f"file.{name}", "absent")
        if mode == "delta":
            raise UploadRejected(
                "delta_not_supported",
                f"manifest.csv marks {name}.csv as a delta file. "
                "Imports need full (bulk) snapshots: export a bulk OneRoster bundle.",
                file="manifest.csv",
            )
        if mode != "bulk" or archive.find(f"{name}.csv") is None:
            raise UploadRejected(
                "missing_file",
                f"A OneRoster bulk bundle needs {name}.csv, listed as bulk in manifest.csv.",
                file=f"{name}.csv",
            )


def _read_manifest(archive: UploadArchive, issues: IssueLog) -> dict[str, str]:
    key = archive.find("manifest.csv")
    if key is None:
        raise UploadRejected("missing_file", "A OneRoster bundle needs manifest.csv.", file="manifest.csv")
    try:
        with CsvFile(archive, key, ("propertyName", "value"), issues) as manifest:
            name_at, value_at = manifest.index("propertyName"), manifest.index("value")
            assert name_at is not None and value_at is not None  # noqa: S101 - required columns
            values = {
                row[name_at].strip(): row[value_at].strip().lower()
                for _, row in manifest.rows(RowTally(manifest.name, "propertyName,value"))
            }
    except UploadRejected as exc:
        raise UploadRejected(
            "broken_manifest", f"manifest.csv is broken: {exc.message}", file="manifest.csv"
        ) from exc
    version = values.get("oneroster.version", "")
    if version not in ("1.1", "1.2"):
        raise UploadRejected(
            "broken_manifest",
            f"manifest.csv does not say oneroster.version 1.1 or 1.2 (found {version[:20] or 'nothing'}).",
            file="manifest.csv",
        )
    return values


def _read_orgs(archive: UploadArchive, issues: IssueLog, stats: FileStats) -> dict[str, list[str]]:
    """Returns org sourcedId -> [identifier] for every org, so rows can be matched to the upload's school."""
    orgs: dict[str, list[str]] = {}
    key = archive.find("orgs.csv")
    assert key is not None  # noqa: S101 - checked by the caller
    with CsvFile(archive, key, ("sourcedId", "type"), issues) as orgs_file:
        sid, ident = orgs_file.index("sourcedId"), orgs_file.index("identifier")
        tally = RowTally(orgs_file.name, "sourcedId, type")
        for _, row in orgs_file.rows(tally):
            tally.good += 1
            identifier = row[ident].strip() if ident is not None else ""
            orgs[row[sid].strip()] = [identifier] if identifier else []  # type: ignore[index]
        tally.check(stats)
    return orgs


def _read_terms(archive: UploadArchive, issues: IssueLog, stats: FileStats) -> dict[str, str]:
    key = archive.find("academicSessions.csv")
    if key is None:
        return {}
    terms: dict[str, str] = {}
    with CsvFile(archive, key, ("sourcedId", "title"), issues) as sessions:
        sid, title = sessions.index("sourcedId"), sessions.index("title")
        tally = RowTally(sessions.name, "sourcedId, title")
        for _, row in sessions.rows(tally):
            tally.good += 1
            terms[row[sid].strip()] = row[title].strip()  # type: ignore[index]
        tally.check(stats)
    return terms


def _read_classes(
    archive: UploadArchive,
    builder: SnapshotBuilder,
    schools: dict[str, list[str]],
    terms: dict[str, str],
    scope: Scope,
    stats: FileStats,
) -> dict[str, str]:
    """Adds sections (teacher filled in from enrollments later); returns class id -> school."""
    section_school: dict[str, str] = {}
    key = archive.find("classes.csv")
    assert key is not None  # noqa: S101
    with CsvFile(
        archive, key, ("sourcedId", "courseSourcedId", "schoolSourcedId"), builder.issues
    ) as classes:
        sid, status = classes.index("sourcedId"), classes.index("status")
        course, school = classes.index("courseSourcedId"), classes.index("schoolSourcedId")
        term_ids, periods = classes.index("termSourcedIds"), classes.index("periods")
        tally = RowTally(classes.name, "sourcedId, courseSourcedId, schoolSourcedId")
        for line, row in classes.rows(tally):
            tally.good += 1
            if status is not None and row[status].strip().lower() == DELETED:
                continue
            org_id = row[school].strip()  # type: ignore[index]
            school_id = scope.school_for(org_id, *schools.get(org_id, []), file=classes.name, line=line)
            class_id = row[sid].strip()  # type: ignore[index]
            term_list = split_list(row[term_ids]) if term_ids is not None else []
            term = ", ".join(terms.get(term_id, term_id) for term_id in term_list)
            period = ",".join(split_list(row[periods])) if periods is not None else ""
            if builder.add(
                school_id,
                SECTIONS,
                class_id,
                (row[course].strip(), "", period, term),  # type: ignore[index]
                classes.name,
                line,
            ):
                section_school[class_id] = school_id
        tally.check(stats)
    return section_school


def _read_courses(
    archive: UploadArchive,
    builder: SnapshotBuilder,
    schools: dict[str, list[str]],
    scope: Scope,
    stats: FileStats,
) -> None:
    key = archive.find("courses.csv")
    needed: dict[str, set[str]] = {}
    for school_id, snapshot in builder.schools.items():
        for course_id, *_ in snapshot.records[SECTIONS].values():
            needed.setdefault(course_id, set()).add(school_id)
    if key is None:
        # OneRoster 1.1 lets a bundle mark courses absent; the classes still name them.
        builder.issues.warn(
            "courses.csv",
            None,
            "courses_absent",
            "courses.csv is absent; courses are taken from classes.csv without titles",
        )
        for course_id, school_ids in needed.items():
            for school_id in school_ids:
                builder.add(school_id, COURSES, course_id, ("",), "classes.csv", 0)
        return
    with CsvFile(archive, key, ("sourcedId", "title"), builder.issues) as courses:
        sid, title, status = courses.index("sourcedId"), courses.index("title"), courses.index("status")
        owner_at = courses.index("orgSourcedId")
        tally = RowTally(courses.name, "sourcedId, title")
        for line, row in courses.rows(tally):
            tally.good += 1
            if status is not None and row[status].strip().lower() == DELETED:
                continue
            course_id = row[sid].strip()  # type: ignore[index]
            # A course belongs to the school that owns it and to every school that has a class of it.
            owners = set(needed.get(course_id, ()))
            owner = _own_school(row[owner_at].strip() if owner_at is not None else "", schools, scope)
            if owner in builder.schools:
                owners.add(owner)
            for school_id in sorted(owners):
                builder.add(school_id, COURSES, course_id, (row[title],), courses.name, line)  # type: ignore[index]
        tally.check(stats)


def _own_school(org_id: str, schools: dict[str, list[str]], scope: Scope) -> str | None:
    """The school an org id stands for in this upload, or None (a district, or another school)."""
    if not org_id:
        return None
    if scope.school_id is None:
        return org_id
    return scope.school_id if scope.school_id in (org_id, *schools.get(org_id, [])) else None


def _read_roles(
    archive: UploadArchive, issues: IssueLog, stats: FileStats
) -> dict[str, tuple[str, set[str]]]:
    """OneRoster 1.2 moves a user's role and orgs to roles.csv: user -> (role, org ids)."""
    key = archive.find("roles.csv")
    roles: dict[str, tuple[str, set[str]]] = {}
    if key is None:
        return roles
    with CsvFile(archive, key, ("userSourcedId", "role", "orgSourcedId"), issues) as roles_file:
        user, role, org = (
            roles_file.index("userSourcedId"),
            roles_file.index("role"),
            roles_file.index("orgSourcedId"),
        )
        status = roles_file.index("status")
        tally = RowTally(roles_file.name, "userSourcedId, role, orgSourcedId")
        for _, row in roles_file.rows(tally):
            tally.good += 1
            kind = row[role].strip().lower()  # type: ignore[index]
            if kind not in ("student", "teacher") or (
                status is not None and row[status].strip().lower() == DELETED
            ):
                continue
            current = roles.setdefault(row[user].strip(), (kind, set()))  # type: ignore[index]
            if current[0] == kind:
                current[1].add(row[org].strip())  # type: ignore[index]
        tally.check(stats)
    return roles


def _read_users(
    archive: UploadArchive,
    builder: SnapshotBuilder,
    schools: dict[str, list[str]],
    roles: dict[str, tuple[str, set[str]]],
    scope: Scope,
    stats: FileStats,
) -> None:
    key = archive.find("users.csv")
    assert key is not None  # noqa: S101
    with CsvFile(archive, key, ("sourcedId", "givenName", "familyName"), builder.issues) as users:
        if users.index("role") is None and not roles:
            raise UploadRejected(
                "missing_column",
                f"{users.name} has no role column and the bundle has no "
                "roles.csv, so students cannot be told from teachers.",
                file=users.name,
                line=1,
            )
        sid, status, role = users.index("sourcedId"), users.index("status"), users.index("role")
        given, family, grades = users.index("givenName"), users.index("familyName"), users.index("grades")
        # 1.1 lists orgs on the user; 1.2 names a primary org.
        org_columns = [
            index
            for index in (users.index("orgSourcedIds"), users.index("primaryOrgSourcedId"))
            if index is not None
        ]
        tally = RowTally(users.name, "sourcedId, role, givenName, familyName")
        for chunk in users.chunks(tally):
            tally.good += len(chunk)
            for line, row in _add_users(users, chunk, builder, schools, scope):
                user_id = row[sid].strip()  # type: ignore[index]
                org_ids = {org for index in org_columns for org in split_list(row[index])}
                if role is not None:
                    kind = row[role].strip().lower()
                else:
                    kind, role_orgs = roles.get(user_id, ("", set()))
                    org_ids |= role_orgs
                if kind not in ("student", "teacher") or (
                    status is not None and row[status].strip().lower() == DELETED
                ):
                    continue
                user_schools = _user_schools(org_ids, schools, builder, scope, users.name, line)
                if not user_schools:
                    builder.issues.warn(
                        users.name,
                        line,
                        "no_school",
                        f"{kind} {user_id} names no school of this upload; row skipped",
                    )
                    continue
                last, first = row[family], row[given]  # type: ignore[index]
                for school_id in user_schools:
                    if kind == "student":
                        grade = (
                            split_list(row[grades])[0] if grades is not None and row[grades].strip() else ""
                        )
                        builder.add(school_id, STUDENTS, user_id, (last, first, grade), users.name, line)
                    else:
                        builder.add(school_id, TEACHERS, user_id, (last, first), users.name, line)
        tally.check(stats)


def _add_users(
    users: CsvFile,
    chunk: Chunk,
    builder: SnapshotBuilder,
    schools: dict[str, list[str]],
    scope: Scope,
) -> Iterable[tuple[int, list[str]]]:
    """Adds a chunk's current students and teachers at once when all name the same orgs, which stand
    for one school, and the role is on the row (1.1); returns the rows still to read one at a time."""
    everything = zip(chunk.lines, chunk.rows, strict=True)
    roles = users.column(chunk, "role")
    if roles is None or _any_deleted(users, chunk):
        return everything
    kinds = _normalized(roles, "student", "teacher")
    org_columns = [
        column
        for column in (users.column(chunk, "orgSourcedIds"), users.column(chunk, "primaryOrgSourcedId"))
        if column is not None
    ]
    people = [kind in ("student", "teacher") for kind in kinds]
    named = set(zip(*(compress(column, people) for column in org_columns), strict=True))
    first_line = next(compress(chunk.lines, people), None)
    if len(named) != 1 or first_line is None:
        return everything
    (orgs,) = named
    org_ids = {org for value in orgs for org in split_list(value)}
    user_schools = _user_schools(org_ids, schools, builder, scope, users.name, first_line)
    if len(user_schools) != 1:
        return everything
    (school_id,) = user_schools
    unread = [True] * len(chunk)
    blank = [""] * len(chunk)
    ids, family, given = (
        users.column(chunk, name) or blank for name in ("sourcedId", "familyName", "givenName")
    )
    grades = users.column(chunk, "grades") or blank
    for kind, entity in (("teacher", TEACHERS), ("student", STUDENTS)):
        mine = list(map(kind.__eq__, kinds))
        if not any(mine):
            continue
        columns = [list(compress(family, mine)), list(compress(given, mine))]
        if entity == STUDENTS:
            columns.append(list(compress(grades, mine)))
            if "," in "".join(columns[-1]):
                continue  # a list of grades: the row-by-row path takes the first
        if builder.add_rows(
            school_id,
            entity,
            list(compress(ids, mine)),
            columns,
            users.name,
            list(compress(chunk.lines, mine)),
        ):
            unread = [left and not done for left, done in zip(unread, mine, strict=True)]
    # Rows of other roles are skipped either way; the row-by-row path skips them without a word.
    unread = [left and person for left, person in zip(unread, people, strict=True)]
    return compress(zip(chunk.lines, chunk.rows, strict=True), unread)


def _read_enrollments(
    archive: UploadArchive, builder: SnapshotBuilder, section_school: dict[str, str], stats: FileStats
) -> None:
    key = archive.find("enrollments.csv")
    assert key is not None  # noqa: S101
    issues = builder.issues
    with CsvFile(archive, key, ("classSourcedId", "userSourcedId", "role"), issues) as enrollments:
        status, cls = enrollments.index("status"), enrollments.index("classSourcedId")
        user, role, primary = (
            enrollments.index("userSourcedId"),
            enrollments.index("role"),
            enrollments.index("primary"),
        )
        tally = RowTally(enrollments.name, "classSourcedId, userSourcedId, role")
        for chunk in enrollments.chunks(tally):
            tally.good += len(chunk)
            rest = _add_student_enrollments(enrollments, chunk, builder, section_school)
            for line, row in rest:
                if status is not None and row[status].strip().lower() == DELETED:
                    continue
                class_id, user_id = row[cls].strip(), row[user].strip()  # type: ignore[index]
                kind = row[role].strip().lower()  # type: ignore[index]
                school_id = section_school.get(class_id)
                if kind == "student":
                    if school_id is None:
                        issues.warn(
                            enrollments.name,
                            line,
                            "unknown_reference",
                            f"enrollment of student {user_id} names class {class_id}, which is not in the "
                            "upload; row skipped",
                        )
                        continue
                    builder.add_enrollment(school_id, class_id, user_id, enrollments.name, line)
                elif kind == "teacher":
                    is_primary = primary is not None and row[primary].strip().lower() == "true"
                    _set_teacher(builder, school_id, class_id, user_id, is_primary, enrollments.name, line)
        tally.check(stats)


def _add_student_enrollments(
    enrollments: CsvFile,
    chunk: Chunk,
    builder: SnapshotBuilder,
    section_school: dict[str, str],
) -> Iterable[tuple[int, list[str]]]:
    """Adds a chunk's student enrollments at once when all are current and of one school; returns the
    rows still to read one at a time: the others (teachers), or every row when that cannot be done."""
    everything = zip(chunk.lines, chunk.rows, strict=True)
    if _any_deleted(enrollments, chunk):
        return everything
    kinds = _normalized(enrollments.column(chunk, "role") or [], "student", "teacher")
    students = list(map("student".__eq__, kinds))
    # With one school in the upload its sections are exactly `section_school`'s; the batch add finds
    # any class that is not among them.
    named = set(section_school.values())
    if any(students):
        if len(named) != 1:
            return everything
        (school_id,) = named
        class_ids = list(compress(enrollments.column(chunk, "classSourcedId") or [], students))
        user_ids = list(compress(enrollments.column(chunk, "userSourcedId") or [], students))
        if not builder.add_enrollment_rows(school_id, class_ids, user_ids):
            return everything
    return compress(zip(chunk.lines, chunk.rows, strict=True), map(not_, students))


def _set_teacher(
    builder: SnapshotBuilder,
    school_id: str | None,
    class_id: str,
    teacher_id: str,
    is_primary: bool,
    file: str,
    line: int,
) -> None:
    if school_id is None:
        builder.issues.warn(
            file,
            line,
            "unknown_reference",
            f"teacher enrollment names class {class_id}, which is not in the upload; row skipped",
        )
        return
    sections = builder.schools[school_id].records[SECTIONS]
    course_id, current, period, term = sections[class_id]
    # The primary teacher wins; otherwise the first teacher listed.
    if not current or is_primary:
        sections[class_id] = (course_id, teacher_id, period, term)


def _user_schools(
    org_ids: set[str],
    schools: dict[str, list[str]],
    builder: SnapshotBuilder,
    scope: Scope,
    file: str,
    line: int,
) -> list[str]:
    # Only orgs that hold classes are schools here; a district or department org is not.
    class_schools = builder.schools.keys()
    found: list[str] = []
    other: list[str] = []
    for org_id in org_ids:
        aliases = [org_id, *schools.get(org_id, [])]
        if scope.school_id is not None:
            if scope.school_id in aliases:
                found.append(scope.school_id)
            elif org_id in schools or org_id in class_schools:
                other.append(org_id)
        elif org_id in class_schools:
            found.append(org_id)
    if not found and other and scope.school_id is not None:
        scope.school_for(other[0], file=file, line=line)  # raises: another school's row
    return found


def _any_deleted(file: CsvFile, chunk: Chunk) -> bool:
    statuses = file.column(chunk, "status")
    return statuses is not None and DELETED in _normalized(statuses, ACTIVE)


def _normalized(values: list[str], *usual: str) -> list[str]:
    """Values stripped and lower-cased. When each is one of the usual ones already, counting them
    (in C, with no hashing) finds it out; otherwise one set of the distinct values does."""
    if sum(map(values.count, usual)) == len(values) or all(
        value == value.strip().lower() for value in set(values)
    ):
        return values
    return list(map(str.lower, map(str.strip, values)))
