"""Tasks: samples, prompt formats, answer extraction, scorers; built-in tasks and loaders."""

from reflectlab.task._base import CheckResult, Extracted, Sample, Score, Task

__all__ = ["CheckResult", "Extracted", "Sample", "Score", "Task"]
