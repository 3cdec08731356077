"""Hostile XML: XXE, entity expansion, XInclude, DTDs - at the parser and through the BPMN upload."""

import io

import pytest

from engine.errors import Invalid as EngineInvalid
from engine.xmlsafe import parse_xml
from tests.conftest import sign_in
from tests.factories import create_user

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"


def _payloads(secret_path: str) -> dict[str, bytes]:
    body = (f'<definitions xmlns="{BPMN_NS}" id="d" targetNamespace="x"><process id="p" isExecutable="true">'
            '<documentation>&xxe;</documentation><startEvent id="s"/></process></definitions>')
    return {
        "external_entity": (f'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY xxe SYSTEM "file://{secret_path}">]>'
                            + body).encode(),
        "parameter_entity": (f'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY % p SYSTEM "file://{secret_path}"> %p;]>'
                             + body.replace("&xxe;", "")).encode(),
        "billion_laughs": ('<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa">'
                           + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(8))
                           + ']>' + body.replace("&xxe;", "&i;")).encode(),
        "external_dtd": (f'<?xml version="1.0"?><!DOCTYPE d SYSTEM "file://{secret_path}">'
                         + body.replace("&xxe;", "")).encode(),
        "network_dtd": ('<?xml version="1.0"?><!DOCTYPE d SYSTEM "http://127.0.0.1:9/evil.dtd">'
                        + body.replace("&xxe;", "")).encode(),
        "utf16_doctype": (f'<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE d [<!ENTITY xxe SYSTEM '
                          f'"file://{secret_path}">]>' + body).encode("utf-16"),
        "xinclude": (f'<definitions xmlns="{BPMN_NS}" xmlns:xi="http://www.w3.org/2001/XInclude" id="d" '
                     f'targetNamespace="x"><xi:include href="file://{secret_path}" parse="text"/></definitions>'
                     ).encode(),
    }


@pytest.fixture
def secret_file(tmp_path):
    path = tmp_path / "secret.txt"
    path.write_text("XXE-SECRET-MARKER-7731")
    return str(path)


@pytest.mark.parametrize("name", ["external_entity", "parameter_entity", "billion_laughs", "external_dtd",
                                  "network_dtd", "utf16_doctype", "xinclude"])
def test_parser_refuses_hostile_xml(secret_file, name):
    with pytest.raises(EngineInvalid) as refused:
        parse_xml(_payloads(secret_file)[name], what="upload.bpmn")
    assert "XXE-SECRET-MARKER-7731" not in str(refused.value)


@pytest.mark.parametrize("name", ["external_entity", "billion_laughs", "utf16_doctype", "xinclude"])
def test_bpmn_upload_refuses_hostile_xml(client, session, secret_file, name):
    configurator = create_user(session, roles=["configurator"])
    token = sign_in(client, configurator)
    response = client.post("/admin/import", data={
        "csrf_token": token, "reason": "security test",
        "file": (io.BytesIO(_payloads(secret_file)[name]), "evil.bpmn"),
    }, content_type="multipart/form-data")
    text = response.get_data(as_text=True)
    assert "XXE-SECRET-MARKER-7731" not in text
    assert response.status_code == 422
    assert "DTDs and entities are not allowed" in text or "XInclude is not allowed" in text
