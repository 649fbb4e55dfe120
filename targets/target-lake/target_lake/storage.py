"""Where a lake lives: a local folder, S3 (pyarrow's own S3 client, so no extra dependency) or
any other fsspec filesystem that is installed, behind the four operations the target and the
replay tap need: put, get, list, delete.

A put is atomic and durable when it returns: locally the bytes go to a temporary file in the
same folder, are fsync'd and renamed over the final name (and the folder is fsync'd); an object
store shows an object only once its upload is complete.  Errors become one line naming the
setting to fix (``StoreError``), with no secret in it.
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pyarrow.fs as pafs

CREDENTIALS = "aws_access_key_id, aws_secret_access_key (and aws_session_token, if any)"
SECRET_SETTINGS = ("aws_access_key_id", "aws_secret_access_key", "aws_session_token")
_S3_USED = False


class StoreError(Exception):
    """A lake that cannot be reached or written; the message names the setting."""


@dataclass(frozen=True)
class Entry:
    name: str
    mtime_ns: int


class Store:
    """A lake's root; paths are relative to it, with ``/`` separators."""

    url: str  # as configured, for messages

    def put(self, path: str, data: bytes | memoryview) -> None:
        raise NotImplementedError

    def get(self, path: str) -> bytes:
        raise NotImplementedError

    def list(self, folder: str) -> list[Entry]:
        """The files directly in ``folder`` (none when it does not exist)."""
        raise NotImplementedError

    def delete(self, path: str) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Let go of the connection (see ``closing``)."""

    def probe(self, folder: str) -> None:
        """Write and delete a small file in ``folder``: fails now, before any input is read,
        if the lake cannot be written."""
        path = f"{folder}/.probe-{uuid.uuid4().hex}"
        self.put(path, b"")
        self.delete(path)


class LocalStore(Store):
    def __init__(self, root: Path, url: str) -> None:
        self.root = root
        self.url = url
        self._counter = itertools.count()

    def _path(self, path: str) -> Path:
        return self.root.joinpath(*path.split("/"))

    def put(self, path: str, data: bytes | memoryview) -> None:
        final = self._path(path)
        try:
            self._folder(final.parent)
            temporary = final.with_name(f".{final.name}.{os.getpid()}-{next(self._counter)}.tmp")
            with temporary.open("wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            temporary.replace(final)
            _fsync_folder(final.parent)
        except OSError as error:
            raise StoreError(f"root: cannot write {final}: {error.strerror or error}") from None

    def _folder(self, folder: Path) -> None:
        """Create ``folder`` and its missing parents, each made durable in its parent."""
        if folder.is_dir():
            return
        self._folder(folder.parent)
        try:
            folder.mkdir()
        except FileExistsError:
            return
        _fsync_folder(folder.parent)

    def get(self, path: str) -> bytes:
        try:
            return self._path(path).read_bytes()
        except OSError as error:
            raise StoreError(f"root: cannot read {self._path(path)}: {error.strerror}") from None

    def list(self, folder: str) -> list[Entry]:
        try:
            with os.scandir(self._path(folder)) as found:
                return [
                    Entry(e.name, e.stat().st_mtime_ns)
                    for e in found
                    if e.is_file() and not e.name.startswith(".")
                ]
        except FileNotFoundError:
            return []
        except OSError as error:
            raise StoreError(f"root: cannot list {self._path(folder)}: {error.strerror}") from None

    def delete(self, path: str) -> None:
        try:
            self._path(path).unlink(missing_ok=True)
        except OSError as error:
            raise StoreError(f"root: cannot delete {self._path(path)}: {error.strerror}") from None


def _fsync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


class ArrowStore(Store):
    """An object store through a pyarrow filesystem (S3 natively, others through fsspec)."""

    def __init__(self, fs: pafs.FileSystem, base: str, url: str, secrets: list[str]) -> None:
        self.fs = fs
        self.base = base.rstrip("/")
        self.url = url
        self.secrets = secrets

    def _key(self, path: str) -> str:
        return f"{self.base}/{path}"

    def close(self) -> None:
        del self.fs

    def put(self, path: str, data: bytes | memoryview) -> None:
        try:
            with self.fs.open_output_stream(self._key(path)) as stream:
                stream.write(data)
        except OSError as error:
            raise self._error(error, f"cannot write {self.url}/{path}") from None

    def get(self, path: str) -> bytes:
        try:
            with self.fs.open_input_stream(self._key(path)) as stream:
                return bytes(stream.read())
        except OSError as error:
            raise self._error(error, f"cannot read {self.url}/{path}") from None

    def list(self, folder: str) -> list[Entry]:
        selector = pafs.FileSelector(self._key(folder), allow_not_found=True)
        try:
            infos = self.fs.get_file_info(selector)
        except OSError as error:
            raise self._error(error, f"cannot list {self.url}/{folder}") from None
        return [
            Entry(i.base_name, i.mtime_ns or 0)
            for i in infos
            if i.type == pafs.FileType.File and not i.base_name.startswith(".")
        ]

    def delete(self, path: str) -> None:
        try:
            self.fs.delete_file(self._key(path))
        except FileNotFoundError:
            return
        except OSError as error:
            raise self._error(error, f"cannot delete {self.url}/{path}") from None

    def probe(self, folder: str) -> None:
        """Read-only: the bucket exists and the credentials may list it.  (A probe object
        would leave a trace: deleting it makes pyarrow write a folder marker.)  A store that
        may not be written fails at a batch's first file, before its manifest lists it."""
        if self.list(folder):  # (names bad credentials precisely; a HEAD would not)
            return
        bucket = self.base.split("/", 1)[0]
        try:
            found = self.fs.get_file_info(bucket)
        except OSError as error:
            raise self._error(error, f"cannot read {self.url}") from None
        if found.type == pafs.FileType.NotFound:
            raise StoreError(f"root: the bucket of {self.url} does not exist")

    def _error(self, error: OSError, what: str) -> StoreError:
        detail = str(error)
        for secret in self.secrets:
            detail = detail.replace(secret, "***")
        detail = detail.split(" (Request ID:")[0]
        if any(code in detail for code in _BAD_CREDENTIALS):
            return StoreError(f"{CREDENTIALS}: S3 refused them: {what}: {detail}")
        if "NO_SUCH_BUCKET" in detail:
            return StoreError(f"root: the bucket of {self.url} does not exist: {detail}")
        if "NETWORK_CONNECTION" in detail or "Could not connect" in detail:
            return StoreError(f"s3_endpoint_url: cannot reach the S3 server: {what}: {detail}")
        if "ACCESS_DENIED" in detail:
            return StoreError(f"root: {CREDENTIALS} are not allowed there: {what}: {detail}")
        return StoreError(f"root: {what}: {detail}")


_BAD_CREDENTIALS = (
    "INVALID_ACCESS_KEY_ID",
    "SIGNATURE_DOES_NOT_MATCH",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "InvalidToken",
    "EXPIRED_TOKEN",
)


@contextlib.contextmanager
def closing(config: dict[str, Any]) -> Iterator[Store]:
    """``open_store``, and the store's connection dropped at the end."""
    store = open_store(config)
    try:
        yield store
    finally:
        store.close()


def shut_down_s3() -> None:
    """Before a CLI exits, once no S3 filesystem is left: left to the interpreter's exit,
    pyarrow's S3 client sometimes aborts the process (SIGABRT, "terminate called without an
    active exception"; apache/arrow#41087).  Not for a process that goes on using S3."""
    if _S3_USED:
        gc.collect()
        pafs.finalize_s3()


def open_store(config: dict[str, Any]) -> Store:
    """The store ``config['root']`` names; a bad setting raises ``StoreError`` naming it."""
    root = str(config.get("root") or "").strip()
    if not root:
        raise StoreError("root: not set; give a folder (/data/lake) or a URL (s3://bucket/prefix)")
    parts = urlsplit(root)
    if parts.scheme in ("", "file") or len(parts.scheme) == 1:  # (a Windows drive letter)
        path = unquote(parts.path) if parts.scheme == "file" else root
        return LocalStore(Path(path).expanduser().absolute(), root.rstrip("/"))
    if parts.scheme in ("s3", "s3a"):
        if not parts.netloc:
            raise StoreError(f"root: {root!r} names no bucket; write s3://bucket/prefix")
        return ArrowStore(
            _s3(config),
            f"{parts.netloc}/{parts.path.strip('/')}".rstrip("/"),
            root.rstrip("/"),
            _secrets(config),
        )
    return _fsspec(root, parts.scheme, config)


def _s3(config: dict[str, Any]) -> pafs.S3FileSystem:
    key, secret = config.get("aws_access_key_id"), config.get("aws_secret_access_key")
    if bool(key) != bool(secret):
        raise StoreError(
            "aws_access_key_id, aws_secret_access_key: set both, or neither to use the AWS "
            "default credentials (environment, ~/.aws, instance role)"
        )
    options: dict[str, Any] = {
        "access_key": key or None,
        "secret_key": secret or None,
        "session_token": config.get("aws_session_token") or None,
        "region": config.get("s3_region") or None,
        "connect_timeout": 10,
        "request_timeout": 60,
        "retry_strategy": pafs.AwsStandardS3RetryStrategy(max_attempts=4),
    }
    endpoint = config.get("s3_endpoint_url")
    if endpoint:
        parts = urlsplit(str(endpoint))
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path.strip("/"):
            raise StoreError(
                f"s3_endpoint_url: {endpoint!r} is not an http(s) URL of a server, e.g. "
                "http://127.0.0.1:9000"
            )
        options["endpoint_override"] = parts.netloc
        options["scheme"] = parts.scheme
        options["region"] = options["region"] or "us-east-1"  # S3-compatible servers ignore it
    global _S3_USED
    _S3_USED = True
    return pafs.S3FileSystem(**{k: v for k, v in options.items() if v is not None})


def _fsspec(root: str, scheme: str, config: dict[str, Any]) -> Store:
    import fsspec  # singer-sdk depends on it

    try:
        fs = fsspec.filesystem(scheme)
    except (ImportError, ValueError) as error:
        raise StoreError(
            f"root: no filesystem for {scheme}:// URLs is installed ({error}); use a folder or "
            "s3://bucket/prefix"
        ) from None
    base = root.split("://", 1)[1]
    wrapped = pafs.PyFileSystem(pafs.FSSpecHandler(fs))
    return ArrowStore(wrapped, base, root.rstrip("/"), _secrets(config))


def _secrets(config: dict[str, Any]) -> list[str]:
    return [str(config[name]) for name in SECRET_SETTINGS if config.get(name)]
