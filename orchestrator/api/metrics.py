"""Prometheus metrics of one API process, in their own registry (so several apps in one
process, as in tests, do not collide)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from orchestrator.trace import BatchReport


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "symoe_http_requests",
            "HTTP requests by route and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "symoe_http_request_seconds",
            "HTTP request latency",
            ["route"],
            registry=self.registry,
            buckets=(0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120),
        )
        self.model_loads = Counter(
            "symoe_model_loads", "model loads by expert", ["expert"], registry=self.registry
        )
        self.tokens = Counter(
            "symoe_tokens", "tokens by kind (prompt, completion)", ["kind"], registry=self.registry
        )
        self.queries = Counter(
            "symoe_queries", "queries answered by outcome", ["outcome"], registry=self.registry
        )
        # retrieval's cost: what the gate's decisions spend
        self.retrievals = Counter(
            "symoe_retrievals",
            "queries by retrieval decision (retrieved, skipped)",
            ["decision"],
            registry=self.registry,
        )
        self.retrieval_tokens = Counter(
            "symoe_retrieval_prompt_tokens",
            "prompt tokens the retrieved passages added to expert calls",
            registry=self.registry,
        )
        self.search_latency = Histogram(
            "symoe_search_seconds",
            "document search latency per retrieving query",
            registry=self.registry,
            buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5),
        )
        self.queue_depth = Gauge(
            "symoe_queue_depth",
            "queries accepted and not yet answered (requests in flight and queued job items)",
            registry=self.registry,
        )

    def observe_batch(self, report: BatchReport) -> None:
        for load in report.loads:
            self.model_loads.labels(expert=load.expert).inc()
        for trace in report.traces:
            self.queries.labels(outcome="error" if trace.error else "answered").inc()
            if trace.calls:  # one labelled increment per trace, not two per call
                self.tokens.labels(kind="prompt").inc(sum(c.prompt_tokens for c in trace.calls))
                completion = sum(c.completion_tokens for c in trace.calls)
                self.tokens.labels(kind="completion").inc(completion)
            retrieval = trace.retrieval
            self.retrievals.labels(decision="retrieved" if retrieval.retrieve else "skipped").inc()
            if retrieval.retrieve:
                expert_calls = sum(1 for c in trace.calls if c.stage == "experts")
                self.retrieval_tokens.inc(retrieval.passage_tokens * expert_calls)
                self.search_latency.observe(retrieval.search_seconds)

    def render(self) -> bytes:
        return bytes(generate_latest(self.registry))
