"""The example answers live with the app (the demo uses them too)."""

from casework.process_samples import SAMPLES, sample

__all__ = ["SAMPLES", "sample"]
