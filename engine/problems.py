"""A problem found in a process bundle: what the configurator sees when a model cannot be published."""

from __future__ import annotations

from dataclasses import asdict, dataclass

ERROR = "error"  # blocks publishing
WARNING = "warning"  # shown, does not block publishing


@dataclass(frozen=True)
class Problem:
    element_id: str | None
    element_name: str | None
    message: str
    severity: str = ERROR
    file: str | None = None

    def __post_init__(self):
        # names and messages drawn in a modeler often contain line breaks
        if self.element_name:
            object.__setattr__(self, "element_name", " ".join(self.element_name.split()))
        object.__setattr__(self, "message", " ".join(str(self.message).split()))

    def to_dict(self) -> dict:
        return asdict(self)

    def __str__(self) -> str:
        where = self.element_id or self.file or "bundle"
        if self.element_name:
            where = f"{where} ({self.element_name})"
        return f"{self.severity}: {where}: {self.message}"


def errors(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity == ERROR]
