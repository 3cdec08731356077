"""Safe XML parsing: hostile documents are refused with a clear message, good ones parse."""

from __future__ import annotations

import http.server
import threading

import pytest
from lxml import etree
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser

from engine.errors import Invalid
from engine.xmlsafe import add_bpmn, add_dmn, parse_xml

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<lolz>&lol9;</lolz>"""

XXE_FILE = b"""<?xml version="1.0"?>
<!DOCTYPE bpmn:definitions [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">
  <bpmn:process id="p" name="&xxe;"/>
</bpmn:definitions>"""

PARAMETER_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY % ext SYSTEM "file:///etc/passwd"> %ext;]><r/>"""

GOOD = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">
  <bpmn:process id="p" isExecutable="true">
    <bpmn:startEvent id="s"/>
    <bpmn:sequenceFlow id="f" sourceRef="s" targetRef="e"/>
    <bpmn:endEvent id="e"/>
  </bpmn:process>
</bpmn:definitions>"""


def refusal(data, **kw) -> str:
    with pytest.raises(Invalid) as info:
        parse_xml(data, **kw)
    return info.value.message


def test_good_document_parses():
    root = parse_xml(GOOD)
    assert etree.QName(root).localname == "definitions"
    assert root.find("{http://www.omg.org/spec/BPMN/20100524/MODEL}process").get("id") == "p"
    assert parse_xml(GOOD.decode()).tag == root.tag  # str input is accepted too


def test_billion_laughs_is_refused():
    assert "DOCTYPE" in refusal(BILLION_LAUGHS)


def test_the_default_lxml_parser_would_expand_entities():
    # why we never let SpiffWorkflow's add_bpmn_str/add_bpmn_io parse: lxml's default parser expands
    # internal entities (a smaller "laughs" document expands to 1000x its size here)
    small = b'<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">' \
            b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><r>&c;</r>'
    assert len(etree.fromstring(small).text) == 1000  # noqa: S320 - demonstrating the unsafe default
    with pytest.raises(Invalid):
        parse_xml(small)


def test_external_entity_file_is_refused_and_never_read():
    message = refusal(XXE_FILE, what="evil.bpmn")
    assert "evil.bpmn" in message and "DOCTYPE" in message
    assert "root:" not in message


def test_parameter_entity_is_refused():
    assert "DOCTYPE" in refusal(PARAMETER_ENTITY)


def test_external_dtd_is_refused_without_network_access():
    hits = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server API
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b'<!ENTITY x "from the network">')

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/evil.dtd"
        doc = f'<?xml version="1.0"?><!DOCTYPE r SYSTEM "{url}"><r>&x;</r>'.encode()
        assert "DOCTYPE" in refusal(doc)
        doc2 = f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY % e SYSTEM "{url}"> %e;]><r/>'.encode()
        assert "DOCTYPE" in refusal(doc2)
    finally:
        server.shutdown()
        server.server_close()
    assert hits == []


def test_doctype_hidden_in_utf16_is_refused():
    doc = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE r [<!ENTITY a "b">]><r>&a;</r>'.encode("utf-16")
    assert "DOCTYPE" in refusal(doc)


def test_xinclude_is_refused():
    doc = b'<r xmlns:xi="http://www.w3.org/2001/XInclude"><xi:include href="file:///etc/passwd" ' \
          b'parse="text"/></r>'
    assert "XInclude" in refusal(doc)


def test_oversized_document_is_refused_before_parsing():
    big = b"<r>" + b"x" * 2000 + b"</r>"
    assert "too large" in refusal(big, max_bytes=1000)
    assert parse_xml(big, max_bytes=5000) is not None


@pytest.mark.parametrize("data", [b"", b"   ", b"not xml at all", b"<open>", b"<a></b>", b"\xff\xfe\x00garbage",
                                  b"<a>&undefined;</a>"])
def test_not_xml_is_refused(data):
    message = refusal(data)
    assert "XML" in message or "empty" in message


def test_deep_nesting_is_refused():
    deep = b"<a>" * 5000 + b"</a>" * 5000
    assert "XML" in refusal(deep)


def test_add_bpmn_feeds_spiffworkflow_a_safe_tree():
    parser = SpiffBpmnParser()
    add_bpmn(parser, GOOD, "good.bpmn")
    assert parser.get_process_ids() == ["p"]
    with pytest.raises(Invalid):
        add_bpmn(SpiffBpmnParser(), XXE_FILE, "evil.bpmn")


def test_add_dmn_refuses_hostile_dmn():
    with pytest.raises(Invalid, match="DOCTYPE"):
        add_dmn(SpiffBpmnParser(), BILLION_LAUGHS, "evil.dmn")
