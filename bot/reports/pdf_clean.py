"""Clean one PDF read from stdin, in a process whose memory is capped (run by bot.reports.files).

stdout: one line of JSON ({"cleaned": [...], "kept": [...]}) then the cleaned PDF. Exit status 2: the
PDF is damaged or encrypted; 3 (or killed): it needed more memory than allowed, a decompression bomb.
"""

from __future__ import annotations

import io
import json
import resource
import sys


def main() -> int:
    limit = int(sys.argv[1])
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    data = sys.stdin.buffer.read()
    try:
        out, cleaned, kept = clean_pdf(data)
    except MemoryError:
        return 3
    except Broken:
        return 2
    sys.stdout.buffer.write(json.dumps({"cleaned": sorted(cleaned), "kept": sorted(kept)}).encode() + b"\n")
    sys.stdout.buffer.write(out)
    return 0


class Broken(Exception):
    pass


def clean_pdf(data: bytes) -> tuple[bytes, set[str], set[str]]:
    """The PDF without its Info dictionary, XMP streams, annotation authors and its JPEGs' EXIF; streams are
    not decoded (object streams are: qpdf reads objects from them)."""
    import pikepdf

    from bot.reports.files import strip_picture_metadata

    cleaned: set[str] = set()
    kept: set[str] = set()
    try:
        with pikepdf.open(io.BytesIO(data)) as pdf:
            if len(pdf.docinfo.keys()):
                cleaned.add("pdf_info")
            del pdf.docinfo
            for obj in pdf.objects:
                if not isinstance(obj, (pikepdf.Dictionary, pikepdf.Stream)):
                    continue
                if pikepdf.Name.Metadata in obj:
                    del obj[pikepdf.Name.Metadata]
                    cleaned.add("xmp")
                if pikepdf.Name.PieceInfo in obj:  # private data of the application that wrote the file
                    del obj[pikepdf.Name.PieceInfo]
                    cleaned.add("properties")
                if (isinstance(obj, pikepdf.Stream) and obj.get(pikepdf.Name.Filter) == pikepdf.Name.DCTDecode
                        and obj.get(pikepdf.Name.Subtype) == pikepdf.Name.Image):
                    raw = obj.read_raw_bytes()  # a JPEG as it is: EXIF (GPS) included
                    stripped = strip_picture_metadata(raw)
                    if stripped != raw:
                        obj.write(stripped, filter=pikepdf.Name.DCTDecode, decode_parms=obj.get(pikepdf.Name.DecodeParms))
                        cleaned.add("picture_location")
                if pikepdf.Name.EmbeddedFiles in obj or obj.get(pikepdf.Name.Type) == pikepdf.Name.Filespec:
                    kept.add("embedded")
            for page in pdf.pages:
                for annotation in page.obj.get(pikepdf.Name.Annots, None) or []:
                    if (isinstance(annotation, pikepdf.Dictionary) and pikepdf.Name.T in annotation
                            and annotation.get(pikepdf.Name.Subtype) != pikepdf.Name.Widget):
                        del annotation[pikepdf.Name.T]  # a comment's author (a form field's /T is its name)
                        cleaned.add("annotation_authors")
            out = io.BytesIO()
            pdf.save(out, stream_decode_level=pikepdf.StreamDecodeLevel.none, fix_metadata_version=False,
                     deterministic_id=True)
            if any("bad_alloc" in warning or "memory" in warning.lower() for warning in pdf.get_warnings()):
                raise MemoryError  # qpdf ran out of memory on a stream and went on without it: a bomb
    except pikepdf.PasswordError:
        raise Broken from None
    except (pikepdf.PdfError, OSError, ValueError, RuntimeError):
        raise Broken from None
    return out.getvalue(), cleaned, kept


if __name__ == "__main__":
    sys.exit(main())
