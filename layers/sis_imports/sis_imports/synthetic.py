"""Seeded synthetic schools, written as Sloopy, OneRoster 1.1 or SDS v1 uploads.

Used by `make demo`, the tests and the benchmarks. Every file carries made-up personal
data (birthdates, e-mail, phones, addresses, passwords) exactly where real exports do,
so tests can prove none of it is kept. Nothing here is real; the generator is seeded.
"""

from __future__ import annotations

import csv
import io
import random
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

LAST_NAMES = [
    "Garcia",
    "Smith",
    "Nguyen",
    "Johnson",
    "Okafor",
    "Brown",
    "Kim",
    "Lopez",
    "Patel",
    "Miller",
    "Davis",
    "Chen",
    "Wilson",
    "Moore",
    "Taylor",
    "Anderson",
    "Thomas",
    "Jackson",
    "White",
    "Harris",
]
FIRST_NAMES = [
    "Ava",
    "Liam",
    "Mia",
    "Noah",
    "Zoe",
    "Ethan",
    "Lena",
    "Omar",
    "Ruby",
    "Sam",
    "Iris",
    "Theo",
    "Maya",
    "Jude",
    "Nora",
    "Eli",
    "Ada",
    "Leo",
    "Ivy",
    "Max",
]
SUBJECTS = [
    "Algebra",
    "Biology",
    "Chemistry",
    "English",
    "History",
    "Art",
    "Music",
    "Spanish",
    "Physics",
    "Geometry",
    "Civics",
    "Computer Science",
    "PE",
    "Health",
    "French",
]

# Personal data that must never reach a table, a log or a response. Tests search for these.
PII_EMAIL_DOMAIN = "example-private.test"
PII_PASSWORD = "Sup3rSecret!pw"
PII_STREET = "742 Evergreen Terrace"


def pii_phone(n: int) -> str:
    return f"555-{200 + n % 700:03d}-{n % 10000:04d}"


def pii_birthdate(n: int) -> str:
    return f"{2008 + n % 10}-{1 + n % 12:02d}-{1 + n % 28:02d}"


@dataclass
class SyntheticSchool:
    school_id: str
    name: str
    teachers: dict[str, tuple[str, str]] = field(default_factory=dict)
    students: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    courses: dict[str, tuple[str]] = field(default_factory=dict)
    sections: dict[str, tuple[str, str, str, str]] = field(default_factory=dict)
    enrollments: set[tuple[str, str]] = field(default_factory=set)  # (section id, student id)

    def copy(self) -> SyntheticSchool:
        return SyntheticSchool(
            self.school_id,
            self.name,
            dict(self.teachers),
            dict(self.students),
            dict(self.courses),
            dict(self.sections),
            set(self.enrollments),
        )

    def counts(self) -> dict[str, int]:
        return {
            "teachers": len(self.teachers),
            "students": len(self.students),
            "courses": len(self.courses),
            "sections": len(self.sections),
            "enrollments": len(self.enrollments),
        }


def generate_school(
    school_id: str,
    students: int = 800,
    *,
    seed: int = 1,
    classes_per_student: int = 6,
    section_size: int = 25,
) -> SyntheticSchool:
    rng = random.Random(f"{seed}:{school_id}")
    school = SyntheticSchool(school_id, f"{school_id} School")
    section_count = max(1, students * classes_per_student // section_size)
    teacher_count = max(1, section_count // 5)
    for n in range(teacher_count):
        school.teachers[f"{school_id}T{n:05d}"] = (rng.choice(LAST_NAMES), rng.choice(FIRST_NAMES))
    for n in range(students):
        school.students[f"{school_id}S{n:06d}"] = (
            rng.choice(LAST_NAMES),
            rng.choice(FIRST_NAMES),
            str(rng.randint(9, 12)),
        )
    for n, subject in enumerate(SUBJECTS):
        school.courses[f"{school_id}C{n:03d}"] = (f"{subject} {1 + n % 3}",)
    course_ids, teacher_ids = list(school.courses), list(school.teachers)
    for n in range(section_count):
        school.sections[f"{school_id}X{n:05d}"] = (
            course_ids[n % len(course_ids)],
            teacher_ids[n % teacher_count],
            str(1 + n % 7),
            "S1",
        )
    section_ids = list(school.sections)
    for student_id in school.students:
        for section_id in rng.sample(section_ids, min(classes_per_student, len(section_ids))):
            school.enrollments.add((section_id, student_id))
    return school


def next_day(
    school: SyntheticSchool,
    *,
    seed: int = 2,
    new_students: int = 5,
    gone_students: int = 3,
    class_changes: int = 10,
    renamed_teachers: int = 1,
) -> SyntheticSchool:
    """The day after: some students arrive and leave, some change class, a teacher is renamed."""
    rng = random.Random(f"{seed}:{school.school_id}:next")
    day = school.copy()
    for student_id in sorted(day.students)[:gone_students]:
        del day.students[student_id]
        day.enrollments = {e for e in day.enrollments if e[1] != student_id}
    section_ids = sorted(day.sections)
    for n in range(new_students):
        student_id = f"{school.school_id}N{seed:03d}{n:04d}"
        day.students[student_id] = ("Newcomer", rng.choice(FIRST_NAMES), "9")
        day.enrollments.add((section_ids[n % len(section_ids)], student_id))
    # A class change moves one student from one section to another: one enrollment ends, one begins.
    movable = sorted(e for e in day.enrollments if e[1] in school.students)
    for section_id, student_id in rng.sample(movable, class_changes):
        target = next((s for s in section_ids if (s, student_id) not in day.enrollments), None)
        if target is None:  # the student already sits in every section
            continue
        day.enrollments.discard((section_id, student_id))
        day.enrollments.add((target, student_id))
    for teacher_id in sorted(day.teachers)[:renamed_teachers]:
        last, first = day.teachers[teacher_id]
        day.teachers[teacher_id] = (last + "-Renamed", first)
    return day


# ---------------------------------------------------------------- writers
def write_sloopy(schools: Iterable[SyntheticSchool], path: Path, *, prefixed: bool | None = None) -> Path:
    """A Sloopy set; with several schools (a district bundle) every file is prefixed by its school."""
    schools = list(schools)
    prefixed = len(schools) > 1 if prefixed is None else prefixed
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for school in schools:
            prefix = f"{school.school_id}_" if prefixed else ""

            def put(name: str, rows: Iterable[Iterable[str]], prefix: str = prefix) -> None:
                zf.writestr(f"{prefix}{name}", "".join("\t".join(row) + "\r\n" for row in rows))

            put("Courses.txt", ((cid, title) for cid, (title,) in school.courses.items()))
            # Real Sloopy exports carry e-mail past the read columns; it must be ignored.
            put(
                "Teachers.txt",
                (
                    (tid, last, first, f"{tid.lower()}@{PII_EMAIL_DOMAIN}")
                    for tid, (last, first) in school.teachers.items()
                ),
            )
            put(
                "Students.txt",
                (
                    (sid, last, first, grade, pii_birthdate(n), PII_STREET, pii_phone(n))
                    for n, (sid, (last, first, grade)) in enumerate(school.students.items())
                ),
            )
            put("Sections.txt", ((xid, *values) for xid, values in school.sections.items()))
            put(
                "StudentSections.txt", ((student, section) for section, student in sorted(school.enrollments))
            )
    return path


def _csv(rows: Iterable[Iterable[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue()


def write_oneroster(schools: Iterable[SyntheticSchool], path: Path) -> Path:
    schools = list(schools)
    stamp = "2026-08-01T00:00:00.000Z"
    manifest = [
        ["propertyName", "value"],
        ["manifest.version", "1.0"],
        ["oneroster.version", "1.1"],
        *[
            [f"file.{name}", "bulk"]
            for name in ("academicSessions", "orgs", "courses", "classes", "users", "enrollments")
        ],
        *[[f"file.{name}", "absent"] for name in ("demographics", "lineItems", "results")],
    ]
    orgs = [
        ["sourcedId", "status", "dateLastModified", "name", "type", "identifier", "parentSourcedId"],
        ["district-1", "active", stamp, "District", "district", "D1", ""],
    ]
    sessions = [
        [
            "sourcedId",
            "status",
            "dateLastModified",
            "title",
            "type",
            "startDate",
            "endDate",
            "parentSourcedId",
            "schoolYear",
        ],
        ["term-s1", "active", stamp, "S1", "term", "2026-08-20", "2027-01-15", "", "2027"],
    ]
    courses = [
        [
            "sourcedId",
            "status",
            "dateLastModified",
            "schoolYearSourcedId",
            "title",
            "courseCode",
            "grades",
            "orgSourcedId",
            "subjects",
            "subjectCodes",
        ]
    ]
    classes = [
        [
            "sourcedId",
            "status",
            "dateLastModified",
            "title",
            "grades",
            "courseSourcedId",
            "classCode",
            "classType",
            "location",
            "schoolSourcedId",
            "termSourcedIds",
            "subjects",
            "subjectCodes",
            "periods",
        ]
    ]
    users = [
        [
            "sourcedId",
            "status",
            "dateLastModified",
            "enabledUser",
            "orgSourcedIds",
            "role",
            "username",
            "userIds",
            "givenName",
            "familyName",
            "middleName",
            "identifier",
            "email",
            "sms",
            "phone",
            "agentSourcedIds",
            "grades",
            "password",
        ]
    ]
    enrollments = [
        [
            "sourcedId",
            "status",
            "dateLastModified",
            "classSourcedId",
            "schoolSourcedId",
            "userSourcedId",
            "role",
            "primary",
            "beginDate",
            "endDate",
        ]
    ]
    for school in schools:
        sid = school.school_id
        orgs.append([sid, "active", stamp, school.name, "school", sid, "district-1"])
        for cid, (title,) in school.courses.items():
            courses.append([cid, "active", stamp, "", title, cid, "", sid, "", ""])
        for xid, (course, teacher, period, _term) in school.sections.items():
            classes.append(
                [xid, "active", stamp, xid, "", course, xid, "scheduled", "", sid, "term-s1", "", "", period]
            )
            enrollments.append(
                [f"e-{xid}-{teacher}", "active", stamp, xid, sid, teacher, "teacher", "true", "", ""]
            )
        for n, (tid, (last, first)) in enumerate(school.teachers.items()):
            users.append(
                [
                    tid,
                    "active",
                    stamp,
                    "true",
                    sid,
                    "teacher",
                    tid.lower(),
                    "",
                    first,
                    last,
                    "",
                    tid,
                    f"{tid.lower()}@{PII_EMAIL_DOMAIN}",
                    pii_phone(n),
                    pii_phone(n + 1),
                    "",
                    "",
                    PII_PASSWORD,
                ]
            )
        for n, (uid, (last, first, grade)) in enumerate(school.students.items()):
            users.append(
                [
                    uid,
                    "active",
                    stamp,
                    "true",
                    sid,
                    "student",
                    uid.lower(),
                    "",
                    first,
                    last,
                    "",
                    uid,
                    f"{uid.lower()}@{PII_EMAIL_DOMAIN}",
                    pii_phone(n),
                    pii_phone(n + 7),
                    "",
                    grade,
                    PII_PASSWORD,
                ]
            )
        for xid, uid in sorted(school.enrollments):
            enrollments.append([f"e-{xid}-{uid}", "active", stamp, xid, sid, uid, "student", "false", "", ""])
    files = {
        "manifest.csv": manifest,
        "orgs.csv": orgs,
        "academicSessions.csv": sessions,
        "courses.csv": courses,
        "classes.csv": classes,
        "users.csv": users,
        "enrollments.csv": enrollments,
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, rows in files.items():
            zf.writestr(name, _csv(rows))
    return path


def write_sds(schools: Iterable[SyntheticSchool], path: Path) -> Path:
    schools = list(schools)
    school_rows = [["SIS ID", "Name", "School Number", "Address", "City", "State", "Zip", "Phone"]]
    section_rows = [
        [
            "SIS ID",
            "School SIS ID",
            "Section Name",
            "Section Number",
            "Term SIS ID",
            "Term Name",
            "Course SIS ID",
            "Course Name",
            "Periods",
            "Status",
        ]
    ]
    student_rows = [
        [
            "SIS ID",
            "School SIS ID",
            "First Name",
            "Last Name",
            "Username",
            "Password",
            "Secondary Email",
            "Grade",
            "Status",
            "Birthdate",
        ]
    ]
    teacher_rows = [
        [
            "SIS ID",
            "School SIS ID",
            "First Name",
            "Last Name",
            "Username",
            "Password",
            "Secondary Email",
            "Status",
        ]
    ]
    enrollment_rows = [["Section SIS ID", "SIS ID"]]
    roster_rows = [["Section SIS ID", "SIS ID"]]
    for school in schools:
        sid = school.school_id
        school_rows.append([sid, school.name, sid, PII_STREET, "Springfield", "WA", "98052", pii_phone(1)])
        for xid, (course, teacher, period, term) in school.sections.items():
            section_rows.append(
                [xid, sid, xid, xid, "t1", term, course, school.courses[course][0], period, "Active"]
            )
            roster_rows.append([xid, teacher])
        for n, (uid, (last, first, grade)) in enumerate(school.students.items()):
            student_rows.append(
                [
                    uid,
                    sid,
                    first,
                    last,
                    uid.lower(),
                    PII_PASSWORD,
                    f"{uid.lower()}@{PII_EMAIL_DOMAIN}",
                    grade,
                    "Active",
                    pii_birthdate(n),
                ]
            )
        for tid, (last, first) in school.teachers.items():
            teacher_rows.append(
                [
                    tid,
                    sid,
                    first,
                    last,
                    tid.lower(),
                    PII_PASSWORD,
                    f"{tid.lower()}@{PII_EMAIL_DOMAIN}",
                    "Active",
                ]
            )
        enrollment_rows.extend([xid, uid] for xid, uid in sorted(school.enrollments))
    files = {
        "School.csv": school_rows,
        "Section.csv": section_rows,
        "Student.csv": student_rows,
        "Teacher.csv": teacher_rows,
        "StudentEnrollment.csv": enrollment_rows,
        "TeacherRoster.csv": roster_rows,
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, rows in files.items():
            zf.writestr(name, _csv(rows))
    return path
