"""Small process files for the admin tests (with diagram interchange, so the modeler can draw them)."""

from __future__ import annotations

import json

FORM = {"type": "object", "title": "Triage", "required": ["decision"],
        "properties": {"decision": {"type": "string", "title": "Decision", "enum": ["accept", "refer"]},
                       "notes": {"type": "string", "title": "Notes"}}}


def triage_bpmn(*, form: str | None = "triage", task_name: str = "Triage the referral", extra: str = "",
                key: str = "triage") -> str:
    spiff = ""
    if form is not None:
        spiff = f"""<spiffworkflow:properties>
          <spiffworkflow:property name="formJsonSchemaFilename" value="{form}.schema.json" />
        </spiffworkflow:properties>"""
    props = f"""<bpmn:extensionElements>
        {spiff}
        <acme:audit level="high"><acme:note>kept as it is</acme:note></acme:audit>
      </bpmn:extensionElements>"""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" \
xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" \
xmlns:di="http://www.omg.org/spec/DD/20100524/DI" xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" \
xmlns:acme="http://acme.example/bpmn" id="Defs_{key}" targetNamespace="http://casework.test/bpmn">
  <bpmn:collaboration id="Collab_1">
    <bpmn:participant id="Participant_1" name="Triage" processRef="{key}" />
  </bpmn:collaboration>
  <bpmn:process id="{key}" name="Referral triage" isExecutable="true">
    <bpmn:laneSet id="LaneSet_1">
      <bpmn:lane id="Lane_1" name="practitioner">
        <bpmn:flowNodeRef>StartEvent_1</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>Task_triage</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>EndEvent_1</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="StartEvent_1" name="Referral received">
      <bpmn:outgoing>Flow_1</bpmn:outgoing>
    </bpmn:startEvent>
    <bpmn:userTask id="Task_triage" name="{task_name}">
      {props}
      <bpmn:incoming>Flow_1</bpmn:incoming>
      <bpmn:outgoing>Flow_2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:endEvent id="EndEvent_1" name="Done">
      <bpmn:incoming>Flow_2</bpmn:incoming>
    </bpmn:endEvent>
    <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Task_triage" />
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Task_triage" targetRef="EndEvent_1" />{extra}
  </bpmn:process>
  <bpmndi:BPMNDiagram id="BPMNDiagram_1">
    <bpmndi:BPMNPlane id="BPMNPlane_1" bpmnElement="Collab_1">
      <bpmndi:BPMNShape id="Participant_1_di" bpmnElement="Participant_1" isHorizontal="true">
        <dc:Bounds x="120" y="60" width="600" height="200" />
      </bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="Lane_1_di" bpmnElement="Lane_1" isHorizontal="true">
        <dc:Bounds x="150" y="60" width="570" height="200" />
      </bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="StartEvent_1_di" bpmnElement="StartEvent_1">
        <dc:Bounds x="200" y="142" width="36" height="36" />
      </bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="Task_triage_di" bpmnElement="Task_triage">
        <dc:Bounds x="320" y="120" width="100" height="80" />
      </bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="EndEvent_1_di" bpmnElement="EndEvent_1">
        <dc:Bounds x="520" y="142" width="36" height="36" />
      </bpmndi:BPMNShape>
      <bpmndi:BPMNEdge id="Flow_1_di" bpmnElement="Flow_1">
        <di:waypoint x="236" y="160" />
        <di:waypoint x="320" y="160" />
      </bpmndi:BPMNEdge>
      <bpmndi:BPMNEdge id="Flow_2_di" bpmnElement="Flow_2">
        <di:waypoint x="420" y="160" />
        <di:waypoint x="520" y="160" />
      </bpmndi:BPMNEdge>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>
"""


def triage_files(**kw) -> dict:
    return {"bpmn": {"triage.bpmn": triage_bpmn(**kw)}, "dmn": {},
            "forms": {"triage.schema.json": json.dumps(FORM, indent=2)}}


def waiting_bpmn(*, wait: str = '"P2D"', key: str = "followup") -> str:
    """Triage, then wait (a timer), then a review: for simulations."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" \
xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="Defs_{key}" \
targetNamespace="http://casework.test/bpmn">
  <bpmn:process id="{key}" name="Follow-up" isExecutable="true">
    <bpmn:laneSet id="LaneSet_1">
      <bpmn:lane id="Lane_1" name="practitioner">
        <bpmn:flowNodeRef>Task_triage</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>Task_review</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="StartEvent_1" />
    <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Task_triage" />
    <bpmn:userTask id="Task_triage" name="Triage">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formJsonSchemaFilename" value="triage.schema.json" />
      </spiffworkflow:properties></bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Task_triage" targetRef="Timer_wait" />
    <bpmn:intermediateCatchEvent id="Timer_wait" name="Wait">
      <bpmn:timerEventDefinition id="TimerDef_1">
        <bpmn:timeDuration>{wait}</bpmn:timeDuration>
      </bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="Flow_3" sourceRef="Timer_wait" targetRef="Task_review" />
    <bpmn:userTask id="Task_review" name="Review">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formJsonSchemaFilename" value="triage.schema.json" />
      </spiffworkflow:properties></bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="Flow_4" sourceRef="Task_review" targetRef="EndEvent_1" />
    <bpmn:endEvent id="EndEvent_1" />
  </bpmn:process>
</bpmn:definitions>
"""


def waiting_files(**kw) -> dict:
    return {"bpmn": {"followup.bpmn": waiting_bpmn(**kw)}, "dmn": {},
            "forms": {"triage.schema.json": json.dumps(FORM, indent=2)}}
