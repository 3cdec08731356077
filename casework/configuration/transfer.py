"""Import and export: a single .bpmn / .dmn / .schema.json / .uischema.json file or a .zip bundle.

Uploads are untrusted. Limits: 5 MB per file, 10 MB per upload, 200 entries and 25 MB uncompressed per zip,
and a compression ratio of at most 100:1 per entry (zip bombs). Nothing is ever extracted to disk; entry names
with ``..``, absolute paths, drive letters or backslashes are refused (zip-slip), as are encrypted entries,
symlinks and nested zips. Every XML file goes through engine.xmlsafe (no DTDs, entities, XInclude).
"""

from __future__ import annotations

import io
import json
import re
import stat
import zipfile
from dataclasses import dataclass, field

from casework.configuration import bundles
from casework.configuration.bundles import Files
from casework.errors import Invalid
from engine.errors import Invalid as EngineInvalid

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_ZIP_ENTRIES = 200
MAX_ZIP_TOTAL = 25 * 1024 * 1024
MAX_RATIO = 100
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.()-]{0,150}$")


@dataclass
class Upload:
    files: Files
    skipped: list[str] = field(default_factory=list)  # "name: why"


def kind_of(name: str) -> str | None:
    lower = name.lower()
    if lower.endswith((".bpmn", ".bpmn20.xml")):
        return "bpmn"
    if lower.endswith(".dmn"):
        return "dmn"
    if lower.endswith((".schema.json", ".uischema.json")):
        return "forms"
    return None


def _decode(name: str, data: bytes) -> str:
    for encoding in ("utf-8-sig", "utf-16"):
        try:
            text = data.decode(encoding)
            if encoding == "utf-16" and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
                break
            return text
        except UnicodeDecodeError:
            continue
    raise Invalid(f"{name} is not UTF-8 text", details={"file": f"{name} is not UTF-8 text"})


def _accept(name: str, data: bytes, upload: Upload) -> None:
    base = name.rsplit("/", 1)[-1]
    kind = kind_of(base)
    if kind is None:
        upload.skipped.append(f"{name}: not a .bpmn, .dmn, .schema.json or .uischema.json file")
        return
    if not SAFE_NAME.match(base):
        raise Invalid(f"{name}: the file name has characters that are not allowed",
                      details={"file": f"Rename {name} using letters, numbers, dots, hyphens and underscores"})
    if len(data) > MAX_FILE_BYTES:
        raise Invalid(f"{name} is too large ({len(data):,} bytes; the limit is {MAX_FILE_BYTES:,})",
                      details={"file": f"{name} is too large"})
    text = _decode(name, data)
    if kind == "bpmn" and base.lower().endswith(".bpmn20.xml"):
        base = base[: -len(".bpmn20.xml")] + ".bpmn"
    safe_name = base.replace(" ", "_").replace("(", "").replace(")", "")
    try:
        if kind in ("bpmn", "dmn"):
            bundles.check_xml(name, text)
        else:
            bundles.check_form_file(safe_name, text)
    except EngineInvalid as exc:
        raise Invalid(str(exc), details={"file": str(exc)}) from None
    if safe_name in upload.files[kind]:
        raise Invalid(f"two files in the upload are both called {safe_name}",
                      details={"file": f"Two files are called {safe_name}"})
    upload.files[kind][safe_name] = text


def _check_entry_name(name: str) -> None:
    if (name.startswith(("/", "\\")) or "\\" in name or ".." in name.split("/") or re.match(r"^[A-Za-z]:", name)
            or "\x00" in name):
        raise Invalid(f"the zip file contains an unsafe path {name!r}; nothing was imported",
                      details={"file": f"Unsafe path in the zip: {name}"})


def _read_zip(data: bytes, upload: Upload) -> None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError) as exc:
        raise Invalid(f"the file is not a readable zip: {exc}", details={"file": "The zip file is damaged"}) from None
    if len(infos) > MAX_ZIP_ENTRIES:
        raise Invalid(f"the zip has {len(infos)} entries; the limit is {MAX_ZIP_ENTRIES}",
                      details={"file": "The zip has too many files"})
    total = 0
    for info in infos:
        _check_entry_name(info.filename)
        if info.is_dir() or info.filename.rsplit("/", 1)[-1].startswith(".") or "__MACOSX/" in info.filename:
            continue
        if info.flag_bits & 0x1:
            raise Invalid(f"{info.filename} is encrypted", details={"file": "Encrypted zips are not accepted"})
        mode = info.external_attr >> 16
        if mode and stat.S_ISLNK(mode):
            raise Invalid(f"{info.filename} is a symbolic link", details={"file": "Links are not accepted"})
        if info.filename.lower().endswith(".zip"):
            upload.skipped.append(f"{info.filename}: zips inside zips are not opened")
            continue
        if info.file_size > MAX_FILE_BYTES:
            raise Invalid(f"{info.filename} is too large ({info.file_size:,} bytes uncompressed)",
                          details={"file": f"{info.filename} is too large"})
        total += info.file_size
        if total > MAX_ZIP_TOTAL:
            raise Invalid("the zip expands to more than 25 MB", details={"file": "The zip is too large unpacked"})
        if info.compress_size and info.file_size / max(info.compress_size, 1) > MAX_RATIO:
            raise Invalid(f"{info.filename} is compressed suspiciously well (over {MAX_RATIO}:1); refused as a "
                          "possible zip bomb", details={"file": "Possible zip bomb"})
        if kind_of(info.filename) is None:
            upload.skipped.append(f"{info.filename}: not a .bpmn, .dmn, .schema.json or .uischema.json file")
            continue
        try:
            with archive.open(info) as handle:
                content = handle.read(MAX_FILE_BYTES + 1)  # never trust the header's size
        except (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError, EOFError) as exc:
            raise Invalid(f"{info.filename} cannot be read from the zip: {exc}",
                          details={"file": f"{info.filename} cannot be read"}) from None
        _accept(info.filename, content, upload)


def read_upload(filename: str, data: bytes) -> Upload:
    """The files in one upload, checked; raises Invalid with a message a configurator can act on."""
    if not filename:
        raise Invalid("Choose a file to import", details={"file": "Choose a file to import"})
    if len(data) > MAX_UPLOAD_BYTES:
        raise Invalid(f"the upload is too large ({len(data):,} bytes; the limit is {MAX_UPLOAD_BYTES:,})",
                      details={"file": "The file is too large"})
    if not data:
        raise Invalid(f"{filename} is empty", details={"file": "The file is empty"})
    upload = Upload(bundles.empty_files())
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    if name.lower().endswith(".zip") or data[:4] == b"PK\x03\x04":
        _read_zip(data, upload)
    else:
        if kind_of(name) is None:
            raise Invalid(f"{name}: import a .bpmn, .dmn, .schema.json, .uischema.json or .zip file",
                          details={"file": "The file must be a .bpmn, .dmn, .schema.json, .uischema.json or .zip"})
        _accept(name, data, upload)
    if not any(upload.files.values()):
        raise Invalid("the upload contains no process, decision or form files",
                      details={"file": "No .bpmn, .dmn or form files found"})
    return upload


def export_zip(files: Files, *, manifest: dict | None = None) -> bytes:
    """A zip with bpmn/, dmn/ and forms/ folders (and a manifest.json), importable again as it is."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for kind in bundles.KINDS:
            for name, text in sorted(files[kind].items()):
                info = zipfile.ZipInfo(f"{kind}/{name}", date_time=(2026, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                archive.writestr(info, text.encode("utf-8"))
        if manifest:
            info = zipfile.ZipInfo("manifest.json", date_time=(2026, 1, 1, 0, 0, 0))
            archive.writestr(info, json.dumps(manifest, indent=2, sort_keys=True, default=str))
    return buffer.getvalue()


def import_report(files: Files, engine) -> tuple[str, str, bundles.Check]:
    """(process key, title, check) for imported files: the key of the main executable process, else the id
    of the first process, else the first file's name; the check says why the model cannot run, if it cannot."""
    check = bundles.check_files(files, engine)
    key = None
    title = None
    if check.bundle is not None and check.bundle.process_key:
        key, title = check.bundle.process_key, check.bundle.name
    if key is None:
        ids = bundles.process_ids(files)
        key = ids[0] if ids else None
    if key is None or not bundles.KEY_RE.match(key):
        first = next(iter(files["bpmn"] or files["dmn"] or files["forms"]))
        key = re.sub(r"[^A-Za-z0-9_.-]", "_", first.split(".", 1)[0]) or "imported"
        if not key[0].isalpha():
            key = "p_" + key
    return key, title or key, check
