#!/usr/bin/env python3
"""Build the Office example documents of the example corpus.

Reads every examples/office-sources/<name>.<fmt>.txt (fmt is docx or odt) and
writes examples/corpus/interviews/<name>.<fmt>: a minimal but valid Office Open
XML (WordprocessingML) or OpenDocument text file with one paragraph per
non-empty line of the source.

Only the Python 3 standard library is used. The output is deterministic: the
zip entries have a fixed order, fixed timestamps and fixed attributes, so a
rerun on the same machine gives byte-identical files.

Usage: python3 scripts/make-office-docs.py [--check]
  --check  do not write; exit 1 if a generated file differs from what is committed
"""

import sys
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "examples" / "office-sources"
TARGET = ROOT / "examples" / "corpus" / "interviews"
FIXED_TIME = (1980, 1, 1, 0, 0, 0)


def paragraphs(path):
    text = path.read_text(encoding="utf-8").replace("\r\n", "\n")
    return [line.strip() for line in text.split("\n") if line.strip()]


def docx_parts(paras):
    content_types = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/word/document.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
        "</Types>"
    )
    rels = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
        'Target="word/document.xml"/>'
        "</Relationships>"
    )
    body = "".join(
        '<w:p><w:r><w:t xml:space="preserve">%s</w:t></w:r></w:p>' % escape(p) for p in paras
    )
    document = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        "<w:body>%s<w:sectPr/></w:body></w:document>" % body
    )
    return [
        ("[Content_Types].xml", content_types, zipfile.ZIP_DEFLATED),
        ("_rels/.rels", rels, zipfile.ZIP_DEFLATED),
        ("word/document.xml", document, zipfile.ZIP_DEFLATED),
    ]


def odt_parts(paras):
    mimetype = "application/vnd.oasis.opendocument.text"
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" '
        'manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" manifest:version="1.2" '
        'manifest:media-type="application/vnd.oasis.opendocument.text"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    body = "".join("<text:p>%s</text:p>" % escape(p) for p in paras)
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<office:document-content '
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
        'office:version="1.2">'
        "<office:body><office:text>%s</office:text></office:body>"
        "</office:document-content>" % body
    )
    return [
        # The mimetype entry must come first and be stored uncompressed.
        ("mimetype", mimetype, zipfile.ZIP_STORED),
        ("META-INF/manifest.xml", manifest, zipfile.ZIP_DEFLATED),
        ("content.xml", content, zipfile.ZIP_DEFLATED),
    ]


def build(parts, out):
    tmp = out.with_name(out.name + ".tmp")
    with zipfile.ZipFile(tmp, "w") as zf:
        for name, data, method in parts:
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
            info.compress_type = method
            info.create_system = 3
            info.external_attr = 0o100644 << 16
            zf.writestr(info, data.encode("utf-8"), compress_type=method, compresslevel=9)
    return tmp


def main(argv):
    check = "--check" in argv[1:]
    sources = sorted(SOURCES.glob("*.txt"))
    if not sources:
        print("no sources found in %s" % SOURCES, file=sys.stderr)
        return 1
    TARGET.mkdir(parents=True, exist_ok=True)
    status = 0
    for src in sources:
        stem = src.name[: -len(".txt")]
        if stem.endswith(".docx"):
            parts = docx_parts(paragraphs(src))
        elif stem.endswith(".odt"):
            parts = odt_parts(paragraphs(src))
        else:
            print("skipping %s: name must end in .docx.txt or .odt.txt" % src.name, file=sys.stderr)
            continue
        out = TARGET / stem
        tmp = build(parts, out)
        if check:
            same = out.exists() and out.read_bytes() == tmp.read_bytes()
            tmp.unlink()
            print("%s %s" % ("ok     " if same else "differs", out.relative_to(ROOT)))
            status |= 0 if same else 1
        else:
            tmp.replace(out)
            print("wrote %s" % out.relative_to(ROOT))
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
