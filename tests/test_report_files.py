"""Attachments: author names removed from every place documents keep them; bombs refused."""

import io
import subprocess
import sys
import textwrap
import zipfile

import openpyxl
import pikepdf
import pytest
from PIL import Image

from bot.reports import files
from bot.reports.files import FileRefused

NAMES = ("Zhang Wei", "张伟", "zhangwei", "ZW", "ZHANG-ORG")
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
ODT = "application/vnd.oasis.opendocument.text"

W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
W15 = 'xmlns:w15="http://schemas.microsoft.com/office/word/2012/wordml"'
MC = 'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006"'
HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'

CORE = HEAD + (
    '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator>Zhang Wei</dc:creator>'
    '<cp:lastModifiedBy>张伟</cp:lastModifiedBy></cp:coreProperties>')
APP = HEAD + ('<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
              '<Company>ZHANG-ORG</Company><Manager>张伟</Manager></Properties>')
CUSTOM = HEAD + (
    '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties" '
    'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
    '<property fmtid="{D5CDD505-2E9C-101B-9397-08002B2CF9AE}" pid="2" name="Reviewer">'
    '<vt:lpwstr>Zhang Wei</vt:lpwstr></property></Properties>')


def zipped(parts: dict[str, str | bytes], first: str | None = None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        if first:
            z.writestr(zipfile.ZipInfo(first), parts[first], compress_type=zipfile.ZIP_STORED)
        for name, content in parts.items():
            if name != first:
                z.writestr(name, content)
    return out.getvalue()


def docx() -> bytes:
    return zipped({
        "[Content_Types].xml": HEAD + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                                      '<Default Extension="xml" ContentType="application/xml"/></Types>',
        "docProps/core.xml": CORE, "docProps/app.xml": APP, "docProps/custom.xml": CUSTOM,
        "word/document.xml": HEAD + (
            f'<w:document {W} {W15} {MC} mc:Ignorable="w15"><w:body><w:p>'
            '<w:ins w:id="1" w:author="Zhang Wei" w:date="2024-05-01T10:32:00Z"><w:r><w:t>added</w:t></w:r></w:ins>'
            '<w:del w:id="2" w:author="张伟" w:date="2024-05-01T10:33:00Z"><w:r><w:delText>gone</w:delText></w:r></w:del>'
            '<w:r><w:rPr><w:b/><w:rPrChange w:id="3" w:author="zhangwei"><w:rPr/></w:rPrChange></w:rPr>'
            '<w:t>The report text.</w:t></w:r>'
            '<w:commentRangeStart w:id="0"/><w:r><w:commentReference w:id="0"/></w:r>'
            '</w:p></w:body></w:document>'),
        "word/comments.xml": HEAD + (
            f'<w:comments {W}><w:comment w:id="0" w:author="Zhang Wei" w:initials="ZW" w:date="2024-05-01T10:32:00Z">'
            '<w:p><w:r><w:t>a comment</w:t></w:r></w:p></w:comment></w:comments>'),
        "word/people.xml": HEAD + (
            f'<w15:people {W15}><w15:person w15:author="张伟">'
            '<w15:presenceInfo w15:providerId="AD" w15:userId="S::zhangwei@example.org::1"/></w15:person></w15:people>'),
    })


def xlsx() -> bytes:
    book = openpyxl.Workbook()
    book.active["A1"] = "the figures"
    saved = io.BytesIO()
    book.save(saved)
    with zipfile.ZipFile(saved) as z:
        parts = {name: z.read(name) for name in z.namelist()}
    parts["xl/workbook.xml"] = parts["xl/workbook.xml"].replace(
        b"<workbookPr", b'<fileSharing userName="Zhang Wei"/><x15ac:absPath '
                        b'xmlns:x15ac="http://schemas.microsoft.com/office/spreadsheetml/2010/11/ac" '
                        b'url="C:\\Users\\zhangwei\\Documents\\"/><workbookPr', 1)
    parts.update({
        "docProps/core.xml": CORE, "docProps/app.xml": APP, "docProps/custom.xml": CUSTOM,
        "xl/comments1.xml": HEAD + (
            '<comments xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            '<authors><author>Zhang Wei</author><author>张伟</author></authors><commentList>'
            '<comment ref="A1" authorId="0"><text><t>check</t></text></comment></commentList></comments>'),
        "xl/threadedComments/threadedComment1.xml": HEAD + (
            '<ThreadedComments xmlns="http://schemas.microsoft.com/office/spreadsheetml/2018/threadedcomments">'
            '<threadedComment ref="A1" dT="2024-05-01T10:32:00.00" personId="{1}" id="{2}"><text>check</text>'
            '</threadedComment></ThreadedComments>'),
        "xl/revisions/userNames.xml": HEAD + (
            '<users xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1">'
            '<userInfo guid="{3}" name="张伟" id="1" dateTime="2024-05-01T10:32:00"/></users>'),
        "xl/revisions/revisionHeaders.xml": HEAD + (
            '<headers xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" guid="{4}">'
            '<header guid="{5}" dateTime="2024-05-01T10:32:00" maxSheetId="2" userName="Zhang Wei" r:id="rId1" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"/></headers>'),
        "xl/persons/person.xml": HEAD + (
            '<personList xmlns="http://schemas.microsoft.com/office/spreadsheetml/2018/threadedcomments">'
            '<person displayName="Zhang Wei" id="{1}" userId="zhangwei@example.org" providerId="AD"/></personList>'),
    })
    return zipped(parts)


def pptx() -> bytes:
    return zipped({
        "docProps/core.xml": CORE,
        "ppt/commentAuthors.xml": HEAD + (
            '<p:cmAuthorLst xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main">'
            '<p:cmAuthor id="0" name="Zhang Wei" initials="ZW" lastIdx="1" clrIdx="0"/></p:cmAuthorLst>'),
    })


def odt() -> bytes:
    office = 'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
    dc = 'xmlns:dc="http://purl.org/dc/elements/1.1/"'
    meta = 'xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0"'
    text = 'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'
    return zipped({
        "mimetype": "application/vnd.oasis.opendocument.text",
        "meta.xml": f'<?xml version="1.0"?><office:document-meta {office} {dc} {meta}><office:meta>'
                    '<meta:initial-creator>Zhang Wei</meta:initial-creator><dc:creator>张伟</dc:creator>'
                    '</office:meta></office:document-meta>',
        "content.xml": f'<?xml version="1.0"?><office:document-content {office} {dc} {text}><office:body>'
                       '<office:text><text:tracked-changes><text:changed-region text:id="c1"><text:insertion>'
                       '<office:change-info><dc:creator>zhangwei</dc:creator><dc:date>2024-05-01</dc:date>'
                       '</office:change-info></text:insertion></text:changed-region></text:tracked-changes>'
                       '<text:p>text<office:annotation><dc:creator>Zhang Wei</dc:creator>'
                       '<text:p>a note</text:p></office:annotation></text:p></office:text></office:body>'
                       '</office:document-content>',
    }, first="mimetype")


def every_part(data: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert z.testzip() is None
        return b"\n".join(z.read(name) for name in z.namelist())


def assert_no_name(blob: bytes) -> None:
    for name in NAMES:
        assert name.encode() not in blob, name


def test_a_docx_loses_every_author_name_and_stays_valid():
    original = docx()
    assert b"Zhang Wei" in every_part(original)
    clean = files.sanitise(original, DOCX, max_mb=10)
    parts = every_part(clean.data)
    assert_no_name(parts)
    assert b"The report text." in parts and b"a comment" in parts
    from lxml import etree
    with zipfile.ZipFile(io.BytesIO(clean.data)) as z:
        for name in z.namelist():
            etree.fromstring(z.read(name))
        document = z.read("word/document.xml")
    assert b'mc:Ignorable="w15"' in document and b"xmlns:w15=" in document  # prefixes kept: Word opens it
    assert b"2024-05-01" not in parts  # when a change was made links it to a person too
    assert set(clean.cleaned) >= {"properties", "custom", "comment_authors", "revisions"}
    assert "text" in clean.kept


def test_an_xlsx_loses_every_author_name_and_still_opens():
    clean = files.sanitise(xlsx(), XLSX, max_mb=10)
    assert_no_name(every_part(clean.data))
    book = openpyxl.load_workbook(io.BytesIO(clean.data))
    assert book.active["A1"].value == "the figures"
    assert set(clean.cleaned) >= {"properties", "custom", "comment_authors", "folder", "revisions"}


def test_pptx_and_odt_lose_their_authors():
    clean = files.sanitise(pptx(), PPTX, max_mb=10)
    assert_no_name(every_part(clean.data))
    assert "comment_authors" in clean.cleaned
    clean = files.sanitise(odt(), ODT, max_mb=10)
    assert_no_name(every_part(clean.data))
    with zipfile.ZipFile(io.BytesIO(clean.data)) as z:
        first = z.infolist()[0]
        assert first.filename == "mimetype" and first.compress_type == zipfile.ZIP_STORED
    assert {"properties", "comment_authors"} <= set(clean.cleaned)


def test_a_pdf_loses_its_info_xmp_and_comment_authors():
    pdf = pikepdf.new()
    pdf.add_blank_page()
    pdf.docinfo["/Author"] = "Zhang Wei"
    pdf.docinfo["/Creator"] = "张伟's Word"
    with pdf.open_metadata(set_pikepdf_as_editor=False) as xmp:
        xmp["dc:creator"] = ["Zhang Wei"]
        xmp["pdf:Producer"] = "zhangwei"
    pdf.pages[0].obj.Annots = pdf.make_indirect(pikepdf.Array([pdf.make_indirect(pikepdf.Dictionary(
        Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Text, Rect=[0, 0, 10, 10], T="Zhang Wei",
        Contents="a note"))]))
    raw = io.BytesIO()
    pdf.save(raw, compress_streams=False, object_stream_mode=pikepdf.ObjectStreamMode.disable)
    assert b"Zhang Wei" in raw.getvalue()
    clean = files.sanitise(raw.getvalue(), "application/pdf", max_mb=10)
    with pikepdf.open(io.BytesIO(clean.data)) as result:
        assert not result.docinfo.keys() and "/Metadata" not in result.Root
        expanded = io.BytesIO()
        result.save(expanded, compress_streams=False, stream_decode_level=pikepdf.StreamDecodeLevel.all,
                    object_stream_mode=pikepdf.ObjectStreamMode.disable)
    assert_no_name(clean.data + expanded.getvalue())
    assert b"a note" in expanded.getvalue()
    assert {"pdf_info", "xmp", "annotation_authors"} <= set(clean.cleaned)


def test_old_office_files_are_refused_with_their_own_reason():
    for mime in ("application/msword", "application/vnd.ms-excel"):
        with pytest.raises(FileRefused) as refused:
            files.sanitise(b"\xd0\xcf\x11\xe0" + b"\0" * 100, mime, max_mb=10)
        assert refused.value.reason == "old_office"
    assert files.mime_for_name("Report.DOCX") == DOCX and files.mime_for_name("x.doc") == "application/msword"
    assert files.mime_for_name("noextension") == ""


def test_a_broken_document_is_refused_as_broken():
    with pytest.raises(FileRefused) as refused:
        files.sanitise(b"PK\x03\x04 not really a zip", DOCX, max_mb=10)
    assert refused.value.reason == "broken"
    bad_xml = zipped({"word/document.xml": "<w:document w:author='x'"})
    with pytest.raises(FileRefused) as refused:
        files.sanitise(bad_xml, DOCX, max_mb=10)
    assert refused.value.reason == "broken"
    with pytest.raises(FileRefused) as refused:
        files.sanitise(b"%PDF-1.4 nonsense", "application/pdf", max_mb=10)
    assert refused.value.reason == "broken"


def test_too_many_entries_or_a_high_ratio_is_a_bomb():
    many = zipped({f"word/part{i}.xml": "<a/>" for i in range(files.MAX_ENTRIES + 1)})
    with pytest.raises(FileRefused) as refused:
        files.sanitise(many, DOCX, max_mb=10)
    assert refused.value.reason == "bomb"
    dense = zipped({"word/document.xml": b"<a>" + b" " * (3 * 1024 * 1024) + b"</a>"})
    with pytest.raises(FileRefused) as refused:
        files.sanitise(dense, DOCX, max_mb=10)
    assert refused.value.reason == "bomb"


BOMBS = textwrap.dedent(r"""
    import io, resource, sys, zipfile, zlib
    from PIL import Image
    from bot.reports import files
    from bot.reports.files import FileRefused

    # a .docx whose document.xml inflates to 1 GiB of zeros: written a chunk at a time
    docx = io.BytesIO()
    with zipfile.ZipFile(docx, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        chunk = bytes(16 * 1024 * 1024)
        with z.open("word/document.xml", "w", force_zip64=True) as part:
            for _ in range(64):
                part.write(chunk)
        del chunk
    docx = docx.getvalue()
    # a PDF whose object stream inflates to 1 GiB: qpdf inflates object streams to read their objects
    stream = zlib.compressobj(9)
    packed = stream.compress(b"2 0 << /A 1 >>") + b"".join(stream.compress(chunk) for chunk in [bytes(16 << 20)] * 64)
    packed += stream.flush()
    pdf, offsets = io.BytesIO(), {}
    pdf.write(b"%PDF-1.5\n")
    def obj(number, content):
        offsets[number] = pdf.tell()
        pdf.write(b"%d 0 obj\n" % number + content + b"\nendobj\n")
    obj(1, b"<< /Type /ObjStm /N 1 /First 4 /Filter /FlateDecode /Length %d >>\nstream\n" % len(packed) + packed
        + b"\nendstream")
    obj(3, b"<< /Type /Catalog /Pages 4 0 R /X 2 0 R >>")
    obj(4, b"<< /Type /Pages /Kids [] /Count 0 >>")
    xref = pdf.tell()
    row = lambda kind, a, b: bytes([kind]) + a.to_bytes(4, "big") + b.to_bytes(2, "big")
    rows = (row(0, 0, 65535) + row(1, offsets[1], 0) + row(2, 1, 0) + row(1, offsets[3], 0) + row(1, offsets[4], 0)
            + row(1, xref, 0))
    pdf.write(b"5 0 obj\n<< /Type /XRef /Size 6 /W [1 4 2] /Root 3 0 R /Length %d >>\nstream\n" % len(rows) + rows
              + b"\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n" % xref)
    pdf = pdf.getvalue()
    png = io.BytesIO()
    Image.new("1", (7000, 7000)).save(png, "PNG")
    png = png.getvalue()
    print(len(docx), len(png), file=sys.stderr)
    assert len(docx) < 2 * 1024 * 1024 and len(pdf) < 2 * 1024 * 1024 and len(png) < 200 * 1024
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    reasons = []
    for data, mime in ((docx, "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
                       (pdf, "application/pdf"), (png, "image/png"), (png, "image/jpeg")):
        try:
            files.sanitise(data, mime, max_mb=20)
        except FileRefused as refused:
            reasons.append(refused.reason)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(reasons, (after - before) // 1024)
""")


def test_bombs_are_refused_without_the_memory_they_ask_for():
    result = subprocess.run([sys.executable, "-c", BOMBS], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    reasons, growth_mib = result.stdout.rsplit(" ", 1)
    assert reasons == "['bomb', 'bomb', 'bomb', 'bomb']"
    assert int(growth_mib) < 400  # ru_maxrss is in KiB on Linux (the PDF's child process is capped apart)


def test_a_big_but_fair_image_is_still_taken():
    picture = io.BytesIO()
    Image.new("RGB", (4000, 3000), "white").save(picture, "JPEG")
    clean = files.sanitise(picture.getvalue(), "image/jpeg", max_mb=20)
    assert clean.kind == "image" and clean.cleaned == ()  # it had no metadata: nothing is said to be removed
    assert Image.open(io.BytesIO(clean.data)).size == (4000, 3000)


# ---- what the reporter is told -----------------------------------------------------------------

def fake_context(language: str):
    from types import SimpleNamespace

    from bot.i18n import translator
    reports = SimpleNamespace(max_attachment_mb=20, max_attachments=5)
    return SimpleNamespace(_=translator(language), services=SimpleNamespace(settings=SimpleNamespace(reports=reports)))


@pytest.mark.parametrize("language", ["en", "zh"])
def test_every_refusal_has_its_own_polite_reason(language):
    from handlers.reports.intake import refusal_text
    reasons = ("type", "old_office", "size", "bomb", "count", "broken")
    texts = {reason: refusal_text(fake_context(language), reason) for reason in reasons}
    assert len(set(texts.values())) == len(reasons)
    if language == "zh":
        english = {reason: refusal_text(fake_context("en"), reason) for reason in reasons}
        assert all(texts[r] != english[r] for r in reasons)
    assert "docx" in texts["old_office"] and "PDF" in texts["bomb"]


def test_the_reporter_is_told_what_was_and_was_not_removed():
    from handlers.reports.intake import CLEANED_LABELS, KEPT_LABELS, cleaning_text
    assert set(CLEANED_LABELS) == set(files.CLEANED) and set(KEPT_LABELS) == set(files.KEPT)
    clean = files.sanitise(docx(), DOCX, max_mb=10)
    text = cleaning_text(fake_context("en"), clean)
    assert text.startswith("Removed from this file:")
    assert "tracked changes" in text and "comments" in text and "custom properties" in text
    assert "Not removed, please check:" in text and "written in the text itself" in text
    zh = cleaning_text(fake_context("zh"), clean)
    assert "修订作者" in zh and "未删除" in zh
    plain = files.sanitise("只是文字".encode(), "text/plain", max_mb=10)
    assert cleaning_text(fake_context("en"), plain).startswith("No hidden data")


async def test_the_type_is_found_from_the_name_and_old_office_refused_before_downloading():
    from types import SimpleNamespace

    from handlers.reports.intake import fetch_clean_file
    downloads = []

    def message(name, mime="application/octet-stream"):
        async def get_file():
            downloads.append(name)
            async def download_as_bytearray():
                return bytearray(docx())
            return SimpleNamespace(download_as_bytearray=download_as_bytearray)
        return SimpleNamespace(photo=None, caption=None, document=SimpleNamespace(
            mime_type=mime, file_name=name, file_size=1000, get_file=get_file))

    clean = await fetch_clean_file(message("举报材料.DOCX"), fake_context("zh"))
    assert clean.extension == "docx" and "revisions" in clean.cleaned
    for name, mime in (("old.doc", "application/octet-stream"), ("old.xls", "application/vnd.ms-excel")):
        with pytest.raises(FileRefused) as refused:
            await fetch_clean_file(message(name, mime), fake_context("zh"))
        assert refused.value.reason == "old_office"
    with pytest.raises(FileRefused) as refused:
        await fetch_clean_file(message("song.mp3", "audio/mpeg"), fake_context("zh"))
    assert refused.value.reason == "type"
    assert downloads == ["举报材料.DOCX"]


def jpeg_with_gps() -> bytes:
    picture = Image.new("RGB", (40, 30), "red")
    exif = Image.Exif()
    exif[0x013B] = "Zhang Wei"  # Artist
    exif[0x8825] = {1: "N", 2: (39.0, 54.0, 27.0)}  # GPS
    out = io.BytesIO()
    picture.save(out, "JPEG", exif=exif.tobytes(), comment=b"zhangwei")
    return out.getvalue()


def test_pictures_inside_documents_lose_their_exif_and_local_paths_their_folders():
    photo = jpeg_with_gps()
    assert b"Zhang Wei" in photo and Image.open(io.BytesIO(photo)).getexif()
    original = zipped({
        "word/document.xml": f"<w:document {W}/>",
        "word/media/image1.jpeg": photo,
        "word/_rels/settings.xml.rels": HEAD + (
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            'attachedTemplate" Target="file:///C:\\Users\\zhangwei\\AppData\\Roaming\\Microsoft\\Templates\\'
            'Normal.dotm" TargetMode="External"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/'
            'officeDocument/2006/relationships/hyperlink" Target="https://example.org/a" TargetMode="External"/>'
            '</Relationships>'),
    })
    clean = files.sanitise(original, DOCX, max_mb=10)
    assert_no_name(every_part(clean.data))
    with zipfile.ZipFile(io.BytesIO(clean.data)) as z:
        picture = Image.open(io.BytesIO(z.read("word/media/image1.jpeg")))
        picture.load()
        assert picture.size == (40, 30) and not picture.getexif()
        rels = z.read("word/_rels/settings.xml.rels")
    assert b'Target="Normal.dotm"' in rels and b"https://example.org/a" in rels
    assert {"picture_location", "folder"} <= set(clean.cleaned)

    pdf = pikepdf.new()
    pdf.add_blank_page()
    image = pikepdf.Stream(pdf, photo)
    image.Type, image.Subtype, image.Filter = pikepdf.Name.XObject, pikepdf.Name.Image, pikepdf.Name.DCTDecode
    image.Width, image.Height, image.BitsPerComponent, image.ColorSpace = 40, 30, 8, pikepdf.Name.DeviceRGB
    pdf.pages[0].Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=pdf.make_indirect(image)))
    raw = io.BytesIO()
    pdf.save(raw)
    clean = files.sanitise(raw.getvalue(), "application/pdf", max_mb=10)
    assert_no_name(clean.data)
    assert "picture_location" in clean.cleaned
    with pikepdf.open(io.BytesIO(clean.data)) as result:
        kept = result.pages[0].Resources.XObject.Im0.read_raw_bytes()
    assert Image.open(io.BytesIO(kept)).size == (40, 30)


def test_damaged_pictures_inside_documents_pass_as_they_are():
    for data in (b"\xff\xd8\xff\xe1\x00", b"\x89PNG\r\n\x1a\n\x00\x00\xff\xffIHDR", b"GIF89a"):
        assert files.strip_picture_metadata(data) == data


def test_a_png_inside_a_document_loses_its_text_and_exif_chunks():
    from PIL import PngImagePlugin
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Zhang Wei")
    info.add_itxt("Comment", "张伟", zip=True)
    out = io.BytesIO()
    Image.new("RGB", (20, 10), "blue").save(out, "PNG", pnginfo=info)
    stripped = files.strip_picture_metadata(out.getvalue())
    assert b"Zhang Wei" not in stripped and b"iTXt" not in stripped
    picture = Image.open(io.BytesIO(stripped))
    picture.load()
    assert picture.size == (20, 10) and not picture.text


def test_an_xml_part_too_big_to_rewrite_in_memory_is_refused(monkeypatch):
    monkeypatch.setattr(files, "MAX_XML_PARSED", 500)
    with pytest.raises(FileRefused) as refused:
        files.sanitise(docx(), DOCX, max_mb=10)
    assert refused.value.reason == "bomb"


def test_a_zip_that_lies_about_its_sizes_is_not_unpacked_beyond_them():
    honest = zipped({"word/document.xml": b"<a>" + bytes(2 << 20) + b"</a>"})
    with zipfile.ZipFile(io.BytesIO(honest)) as z:
        declared = z.getinfo("word/document.xml").file_size
    # the central directory (the last record of the file) says 1,000 bytes instead
    at = honest.rindex(b"PK\x01\x02")
    forged = honest[:at + 24] + (1000).to_bytes(4, "little") + honest[at + 28:]
    with zipfile.ZipFile(io.BytesIO(forged)) as z:
        assert z.getinfo("word/document.xml").file_size == 1000 != declared
    with pytest.raises(FileRefused) as refused:
        files.sanitise(forged, DOCX, max_mb=10)
    assert refused.value.reason in ("broken", "bomb")
