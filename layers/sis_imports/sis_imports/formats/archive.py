"""Opens an upload (a zip, or a folder for `sis-imports check`) and lists its roster files safely.

Nothing is extracted to disk: members are read as streams by name, so path traversal
cannot write anywhere. Zip bombs, encrypted members, symlinks and nested zips are refused
or ignored here, before any parser sees a byte.
"""

from __future__ import annotations

import stat
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

from sis_imports.issues import IssueLog
from sis_imports.model import UploadRejected

MAX_MEMBER_BYTES = 2 << 30  # 2 GiB uncompressed for one file
MAX_TOTAL_BYTES = 4 << 30  # 4 GiB uncompressed for the whole upload
MAX_RATIO = 200  # compression ratio beyond which a large member is a bomb, not a roster
MAX_MEMBERS = 1000
_IGNORED_NAMES = {".ds_store", "thumbs.db", "desktop.ini"}


@dataclass(frozen=True)
class Member:
    name: str  # the file's name inside the upload, as an IT person would recognise it
    size: int


class UploadArchive:
    """The roster files of an upload, by lower-case base name."""

    def __init__(self, members: dict[str, Member], opener: _Opener):
        self.members = members
        self._opener = opener

    @contextmanager
    def open(self, key: str) -> Iterator[IO[bytes]]:
        with self._opener.open(self.members[key].name) as stream:
            yield stream

    def find(self, base_name: str) -> str | None:
        key = base_name.lower()
        return key if key in self.members else None

    def close(self) -> None:
        self._opener.close()


class _Opener:
    def open(self, name: str) -> IO[bytes]:
        raise NotImplementedError

    def close(self) -> None:
        return None


class _ZipOpener(_Opener):
    def __init__(self, zf: zipfile.ZipFile):
        self.zf = zf

    def open(self, name: str) -> IO[bytes]:
        return self.zf.open(name)

    def close(self) -> None:
        self.zf.close()


class _FolderOpener(_Opener):
    def __init__(self, root: Path):
        self.root = root

    def open(self, name: str) -> IO[bytes]:
        return (self.root / name).open("rb")


def open_upload(path: Path, issues: IssueLog) -> UploadArchive:
    """Opens a zip file or a folder; raises UploadRejected for anything that is not a usable upload."""
    if path.is_dir():
        return _open_folder(path, issues)
    if path.stat().st_size == 0:
        raise UploadRejected("empty_file", "The upload is an empty file (0 bytes); Sloopy sent nothing.")
    if not zipfile.is_zipfile(path):
        raise UploadRejected("not_a_zip", "The upload is not a zip file. Send the SIS export as one .zip.")
    try:
        zf = zipfile.ZipFile(path)
        infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError) as exc:
        raise UploadRejected(
            "bad_zip", f"The zip file is damaged and cannot be read ({type(exc).__name__})."
        ) from exc
    if not infos:
        zf.close()
        raise UploadRejected("empty_zip", "The zip holds no files. Check that Sloopy exported the SIS data.")
    try:
        members = _zip_members(infos, issues)
    except UploadRejected:
        zf.close()
        raise
    return UploadArchive(members, _ZipOpener(zf))


def _zip_members(infos: list[zipfile.ZipInfo], issues: IssueLog) -> dict[str, Member]:
    if len(infos) > MAX_MEMBERS:
        raise UploadRejected(
            "too_many_files", f"The zip holds {len(infos)} entries; a roster export has a few."
        )
    members: dict[str, Member] = {}
    total = 0
    nested = []
    for info in infos:
        name = info.filename
        parts = PurePosixPath(name.replace("\\", "/")).parts
        base = parts[-1] if parts else ""
        if info.is_dir() or not base or _ignorable(parts):
            continue
        if ".." in parts or name.startswith(("/", "\\")) or ":" in parts[0]:
            issues.warn(name, None, "unsafe_path", "entry with an unsafe path ignored")
            continue
        if stat.S_ISLNK(info.external_attr >> 16):
            issues.warn(name, None, "symlink", "symbolic link entry ignored")
            continue
        if info.flag_bits & 0x1:
            raise UploadRejected(
                "encrypted_zip", "The zip is password-protected. Export it without a password.", file=name
            )
        if base.lower().endswith(".zip"):
            nested.append(name)
            continue
        if info.file_size > MAX_MEMBER_BYTES:
            raise UploadRejected(
                "file_too_large",
                f"{name} is {info.file_size:,} bytes uncompressed; the limit is {MAX_MEMBER_BYTES:,}.",
                file=name,
            )
        if info.file_size > (1 << 20) and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise UploadRejected(
                "zip_bomb",
                f"{name} expands {info.file_size // max(info.compress_size, 1)}-fold; "
                "this is not a roster export.",
                file=name,
            )
        total += info.file_size
        if total > MAX_TOTAL_BYTES:
            raise UploadRejected(
                "upload_too_large",
                "The zip expands to more than "
                f"{MAX_TOTAL_BYTES:,} bytes; split the district export by school.",
            )
        key = base.lower()
        if key in members:
            raise UploadRejected(
                "ambiguous_file",
                f"The zip holds two files named {base} ({members[key].name} and {name}); keep one.",
                file=name,
            )
        members[key] = Member(name, info.file_size)
    if nested and not members:
        raise UploadRejected(
            "nested_zip",
            f"The zip only holds other zip files ({', '.join(nested[:3])}); upload the inner export itself.",
        )
    for name in nested:
        issues.warn(name, None, "nested_zip", "zip inside the upload ignored")
    return members


def _open_folder(root: Path, issues: IssueLog) -> UploadArchive:
    members: dict[str, Member] = {}
    for path in sorted(root.iterdir()):
        if path.is_symlink():
            issues.warn(path.name, None, "symlink", "symbolic link ignored")
            continue
        if not path.is_file() or _ignorable((path.name,)):
            continue
        members[path.name.lower()] = Member(path.name, path.stat().st_size)
    return UploadArchive(members, _FolderOpener(root))


def _ignorable(parts: tuple[str, ...]) -> bool:
    return (
        any(part == "__MACOSX" for part in parts)
        or parts[-1].lower() in _IGNORED_NAMES
        or parts[-1].startswith("._")
    )
