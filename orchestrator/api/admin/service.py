"""What /v1/admin does: expert changes land in the database and in the live registry the
planner reads (so the next request sees them), profile-set activation rebuilds the answering
service,
keys go through the KeyStore, and recruitment statistics are counted from stored traces.

Experts at restart: the database keeps every change, but for an expert that experts.yaml
declares the YAML wins again on everything but `enabled` (see ExpertStore.sync_experts);
experts created through the API are loaded from the database.

With several API processes (`symoe serve --workers N`) each follows the database
(`follow_database`, polled by ApiServices): the experts and the active profile set that
another process (or the CLI) changed are applied here within `api_follow_s`.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Final

from pydantic import ValidationError

from orchestrator.api.admin.schemas import (
    ExpertStats,
    ExpertUpdate,
    RecruitmentStats,
    SkillStats,
)
from orchestrator.api.errors import ApiError
from orchestrator.db.experts import DuplicateExpertError
from orchestrator.db.keys import ApiKeyInfo, CreatedKey, KeyStore
from orchestrator.db.profile_sets import ProfileSetInfo
from orchestrator.db.traces import PlanDigest
from orchestrator.errors import InputError, UnknownExpertError
from orchestrator.experts import Expert
from orchestrator.factory import Deployment
from skills.profiles import ProfileSet

log = logging.getLogger(__name__)

MASK = "***"
_SECRET_SUFFIXES = ("api_key", "apikey", "secret", "token", "password", "authorization")
_UNSEEN: Final = object()  # no database state seen yet: the first look applies everything


def masked(expert: Expert) -> Expert:
    """The expert as the API shows it: option values that look like secrets hidden."""
    options = {k: MASK if _secret(k) else v for k, v in expert.options.items()}
    return expert.model_copy(update={"options": options})


def _secret(option: str) -> bool:
    return option.lower().endswith(_SECRET_SUFFIXES)


def _validated(data: dict[str, Any]) -> Expert:
    try:
        return Expert.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or None
        message = str(first["msg"]).removeprefix("Value error, ")
        raise ApiError(
            422, f"{where}: {message}" if where else message, param=where, code="invalid_expert"
        ) from None


class AdminService:
    """One per API process. Its lock keeps the database and the registry changing in the
    same order when two admins edit at once."""

    def __init__(
        self,
        deployment: Deployment,
        keys: Callable[[], KeyStore],
        rebuild: Callable[[], None],
    ) -> None:
        self._deployment = deployment
        self._keys = keys  # built on first use
        self._rebuild = rebuild  # a new answering service over the active profile set
        self._lock = threading.Lock()
        # what this process last applied: ExpertStore.change_marks, ProfileSetStore.active_id
        self._seen_experts: object = _UNSEEN
        self._seen_profile_set: object = _UNSEEN

    # -- following the database -------------------------------------------------------------

    def load_stored_experts(self) -> None:
        """At start-up, after experts.yaml is synced: apply the stored experts (the
        database's `enabled` flags, the experts created through the API). What it sees, and
        the active profile set (the answering service, built later, reads it then or newer),
        is what `follow_database` compares with."""
        stores = self._deployment.stores
        with self._lock:
            self._seen_experts = stores.experts.change_marks()  # before the state it marks
            self._seen_profile_set = stores.profile_sets.active_id()
            self._apply_stored_experts()

    def follow_database(self) -> bool:
        """Apply what changed in the database since this process last looked (another API
        process's admin request, the CLI): the stored experts when any expert's row changed,
        a rebuilt answering service when another profile set is active. Cheap when nothing
        changed (two small queries); whether anything was applied."""
        stores = self._deployment.stores
        with self._lock:
            experts = stores.experts.change_marks()
            profile_set = stores.profile_sets.active_id()
            changed = False
            if experts != self._seen_experts:
                self._apply_stored_experts()
                self._seen_experts, changed = experts, True
            if profile_set != self._seen_profile_set:
                self._rebuild()  # reads the active set again: this one or newer
                self._seen_profile_set, changed = profile_set, True
        if changed:
            log.info("applied the admin changes stored by another process")
        return changed

    def _apply_stored_experts(self) -> None:
        """Under the lock: the registry made to match the database. A known expert whose
        stored config or `enabled` differs is replaced (experts.yaml's are stored as declared
        at start-up, so there only `enabled` may differ then); one created through the API and
        not known yet is added; one only another experts file declares is left out. After
        this process's own change nothing differs, so a second look changes nothing."""
        registry = self._deployment.registry
        for config, created in self._deployment.stores.experts.stored_experts():
            name = str(config.get("name"))
            try:
                known: Expert | None = registry.get(name)
            except UnknownExpertError:
                known = None
            if known is None and not created:
                continue
            try:
                stored = Expert.model_validate(config)
            except ValidationError as exc:
                log.warning("stored expert %r not loaded: %s", name, exc.errors()[0])
                continue
            if stored != known:
                registry.put(stored, new=known is None)

    # -- experts ----------------------------------------------------------------------------

    def list_experts(self) -> list[Expert]:
        return [masked(e) for e in self._deployment.registry.all()]

    def get_expert(self, name: str) -> Expert:
        return masked(self._deployment.registry.get(name))

    def create_expert(self, expert: Expert) -> Expert:
        registry = self._deployment.registry
        with self._lock:
            try:
                registry.get(expert.name)
            except UnknownExpertError:
                pass
            else:
                raise ApiError(409, f"expert {expert.name!r} already exists", code="expert_exists")
            try:
                self._deployment.stores.experts.add_expert(expert)
            except DuplicateExpertError:
                raise ApiError(
                    409,
                    f"expert {expert.name!r} is already stored (declared by an experts file "
                    "this server does not load); choose another name",
                    code="expert_exists",
                ) from None
            registry.put(expert, new=True)
        return masked(expert)

    def update_expert(self, name: str, patch: ExpertUpdate) -> Expert:
        registry = self._deployment.registry
        with self._lock:
            current = registry.get(name)
            data = current.model_dump()
            changes = patch.model_dump(exclude_unset=True)
            if isinstance(changes.get("generation"), dict):
                changes["generation"] = {**data["generation"], **changes["generation"]}
            if isinstance(changes.get("options"), dict):
                changes["options"] = _merged_options(current.options, changes["options"])
            expert = _validated({**data, **changes})
            self._deployment.stores.experts.update_expert(expert)
            registry.put(expert, new=False)
        return masked(expert)

    def set_enabled(self, name: str, enabled: bool) -> Expert:
        registry = self._deployment.registry
        with self._lock:
            expert = registry.get(name).model_copy(update={"enabled": enabled})
            self._deployment.stores.experts.set_expert_enabled(name, enabled)
            registry.put(expert, new=False)
        return masked(expert)

    # -- profile sets -----------------------------------------------------------------------

    def list_profile_sets(self) -> list[ProfileSetInfo]:
        return self._deployment.stores.profile_sets.list_profile_sets()

    def get_profile_set(self, name: str, version: int | None) -> ProfileSet:
        try:
            return self._deployment.stores.profile_sets.get_profile_set(name, version)
        except InputError as exc:
            raise ApiError(404, str(exc), code="unknown_profile_set") from None

    def activate_profile_set(self, name: str, version: int | None) -> ProfileSetInfo:
        """Activate the set and rebuild the answering service over it: requests that start
        afterwards are recruited with it, requests in flight finish with the old one."""
        with self._lock:
            try:
                ps = self._deployment.stores.profile_sets.activate_profile_set(name, version)
            except InputError as exc:
                raise ApiError(404, str(exc), code="unknown_profile_set") from None
            active = self._deployment.stores.profile_sets.active_id()
            self._rebuild()  # reads the active set again: this one or newer
            self._seen_profile_set = active  # followed: no second rebuild for it
        infos = self._deployment.stores.profile_sets.list_profile_sets()
        return next(i for i in infos if (i.name, i.version) == (ps.name, ps.version))

    # -- API keys ---------------------------------------------------------------------------

    def create_key(self, name: str, role: str) -> CreatedKey:
        try:
            return self._keys().create(name, role)
        except InputError as exc:
            raise ApiError(422, str(exc), param="name") from None

    def list_keys(self) -> list[ApiKeyInfo]:
        return self._keys().list()

    def revoke_key(self, key_id: str) -> ApiKeyInfo:
        try:
            return self._keys().revoke(key_id)
        except LookupError as exc:
            raise ApiError(404, str(exc), code="unknown_api_key") from None

    # -- recruitment statistics -------------------------------------------------------------

    def recruitment_stats(self, since: datetime | None, limit: int) -> RecruitmentStats:
        if since is not None:
            try:
                since = since.astimezone(UTC) if since.tzinfo else since.replace(tzinfo=UTC)
            except OverflowError:
                raise ApiError(422, "since: out of range in UTC", param="since") from None
        digests = self._deployment.stores.traces.plan_digests(since, limit)
        registered = [e.name for e in self._deployment.registry.all()]
        return count_recruitment(digests, registered, since, limit)


def _merged_options(stored: dict[str, object], given: dict[str, Any]) -> dict[str, object]:
    """`given` merged into `stored`: null removes a key, the mask keeps a stored secret."""
    out = dict(stored)
    for key, value in given.items():
        if value is None:
            out.pop(key, None)
        elif not (value == MASK and _secret(key) and key in stored):
            out[key] = value
    return out


def count_recruitment(
    digests: list[PlanDigest], registered: list[str], since: datetime | None, limit: int
) -> RecruitmentStats:
    """Per expert: draws, queries, candidacy and mean weight, aggregations, draws it failed
    and slots it filled for a failed expert (PlanExecutor.replace_failed); per skill: the
    queries tagged with it."""
    drawn: Counter[str] = Counter()
    queries: Counter[str] = Counter()
    candidate: Counter[str] = Counter()
    weight_sum: dict[str, float] = {}
    aggregator: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    replacements: Counter[str] = Counter()
    aggregator_errors: Counter[str] = Counter()
    skills: Counter[str] = Counter()
    for d in digests:
        drawn.update(d.drawn)
        queries.update(set(d.drawn))
        for name, weight in d.weights.items():
            candidate[name] += 1
            weight_sum[name] = weight_sum.get(name, 0.0) + weight
        answered = set(d.answered)
        errors.update(n for slot, n in enumerate(d.drawn) if (slot, n) not in answered)
        replacements.update(n for slot, n in answered if slot >= len(d.drawn) or d.drawn[slot] != n)
        if d.aggregator is not None:
            aggregator[d.aggregator] += 1
            aggregator_errors[d.aggregator] += d.aggregator_failed
        skills.update(set(d.skills))
    total_draws = sum(drawn.values())
    seen = {*drawn, *candidate, *aggregator, *replacements}
    names = list(dict.fromkeys([*registered, *sorted(seen)]))
    experts = [
        ExpertStats(
            name=n,
            drawn=drawn[n],
            queries=queries[n],
            draw_share=drawn[n] / total_draws if total_draws else 0.0,
            candidate=candidate[n],
            mean_weight=weight_sum[n] / candidate[n] if candidate[n] else None,
            aggregator=aggregator[n],
            errors=errors[n],
            replacements=replacements[n],
            aggregator_errors=aggregator_errors[n],
        )
        for n in names
    ]
    experts.sort(key=lambda s: (-s.drawn, s.name))
    return RecruitmentStats(
        queries=len(digests),
        since=since,
        limit=limit,
        experts=experts,
        skills=[
            SkillStats(skill=s, queries=c, share=c / len(digests))
            for s, c in sorted(skills.items(), key=lambda kv: (-kv[1], kv[0]))
        ],
    )
