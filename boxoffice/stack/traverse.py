"""Let one OS user walk down to a directory without opening its parents to everyone.

PostgreSQL runs as its own service user, and its data directory lives in the state
directory, wherever the project was cloned: under /root, say, which is 0700. Adding
o+x to every parent would let every local user walk there too. Instead each parent the
service user cannot already traverse gets a POSIX ACL entry for that user alone
(`user:<uid>:--x`), which is what `setfacl -m u:<user>:x` writes; no tool is needed,
the ACL is the `system.posix_acl_access` extended attribute.
"""

from __future__ import annotations

import errno
import os
import stat
import struct
from functools import reduce
from operator import or_
from pathlib import Path

ACL_XATTR = "system.posix_acl_access"
_VERSION = 2
_UNDEFINED_ID = 0xFFFFFFFF
USER_OBJ, USER, GROUP_OBJ, GROUP, MASK, OTHER = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20
EXECUTE = 0o1

Entries = dict[tuple[int, int], int]
"""(tag, id) -> permission bits (rwx as 4/2/1)."""


class TraverseError(RuntimeError):
    """The service user cannot be given a way down without opening a parent to all."""


def allow_traverse(path: Path, uid: int, gid: int) -> list[Path]:
    """Give `uid` search permission on every parent of `path` it lacks it on; returns
    the parents that got an ACL entry. Raises TraverseError (naming the fix) when the
    file system refuses ACLs."""
    granted: list[Path] = []
    for parent in reversed(path.parents):
        if parent == Path("/") or can_traverse(parent, uid, gid):
            continue
        try:
            entries = read_acl(parent)
            entries[(USER, uid)] = entries.get((USER, uid), 0) | EXECUTE
            write_acl(parent, entries)
        except OSError as exc:
            if exc.errno in (errno.EOPNOTSUPP, errno.ENOTSUP):
                raise TraverseError(
                    f"{parent}: the file system takes no ACLs, and the service user must "
                    f"walk through it to {path}; set BOXOFFICE_STATE_DIR to a directory on "
                    "another file system, or one whose parents others may traverse") \
                    from exc
            raise
        granted.append(parent)
    return granted


def can_traverse(directory: Path, uid: int, gid: int) -> bool:
    """Whether `uid` (primary group `gid`) may search `directory`, ACL included."""
    info = directory.stat()
    if info.st_mode & 0o001:
        return True
    if info.st_uid == uid:
        return bool(info.st_mode & 0o100)
    entries = read_acl(directory)
    mask = entries.get((MASK, _UNDEFINED_ID), 0o7)
    if (USER, uid) in entries:
        return bool(entries[(USER, uid)] & mask & EXECUTE)
    if info.st_gid == gid:
        return bool(entries[(GROUP_OBJ, _UNDEFINED_ID)] & mask & EXECUTE)
    return False


def read_acl(directory: Path) -> Entries:
    """The directory's access ACL; the one its mode bits imply when it has none."""
    try:
        raw = os.getxattr(directory, ACL_XATTR)
    except OSError as exc:
        if exc.errno != errno.ENODATA:
            raise
        mode = stat.S_IMODE(directory.stat().st_mode)
        return {(USER_OBJ, _UNDEFINED_ID): mode >> 6 & 7,
                (GROUP_OBJ, _UNDEFINED_ID): mode >> 3 & 7,
                (OTHER, _UNDEFINED_ID): mode & 7}
    (version,) = struct.unpack_from("<I", raw)
    if version != _VERSION:
        raise OSError(errno.EINVAL, f"{directory}: ACL version {version} is not 2")
    return {(tag, ident): perm for tag, perm, ident in struct.iter_unpack("<HHI", raw[4:])}


def write_acl(directory: Path, entries: Entries) -> None:
    """Store the ACL, its mask recomputed over the group class (named users and groups,
    the owning group), as the kernel requires once named entries exist."""
    entries = {key: perm for key, perm in entries.items() if key[0] != MASK}
    named = any(tag in (USER, GROUP) for tag, _ in entries)
    if named:
        entries[(MASK, _UNDEFINED_ID)] = reduce(or_, (
            perm for (tag, _), perm in entries.items() if tag in (USER, GROUP, GROUP_OBJ)), 0)
    body = b"".join(struct.pack("<HHI", tag, perm, ident)
                    for (tag, ident), perm in sorted(entries.items()))
    os.setxattr(directory, ACL_XATTR, struct.pack("<I", _VERSION) + body)

