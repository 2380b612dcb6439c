"""Batch evaluation over benchmarks: methods, resumable runs, metrics, reports."""
