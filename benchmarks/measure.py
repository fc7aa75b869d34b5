"""One stage of the benchmark: a populated database, the emulator, the hub and the anchor
running side by side, and the measurements taken on them.

Requests are signed and shaped as Slack sends them (bot/sandbox/signed.py). Each kind is sent
to the anchor and to the hub in turns, at the same concurrency, with the same payloads; after
each turn the process is left to finish what its listeners do after answering, so that one
kind's leftovers do not weigh on the next.
"""

from __future__ import annotations

import json
import math
import statistics
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import count
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from benchmarks import table, world
from benchmarks.processes import SIGNING_SECRET, Server, command_output, timed_command
from bot.app.delivery import places
from bot.core import nudge_claims, rules
from bot.models import Commitment, Initiative, Outbox
from bot.sandbox import forms
from bot.sandbox.emulator import Emulator, ResponsePost
from bot.sandbox.signed import Response, SignedSender
from bot.slack.ids import Action, CommitmentRef, View, dump
from bot.slack.modals import CommitMeta

CONCURRENCY = 10
PROPOSAL_FUNCTIONS = tuple(function.key for function in world.FUNCTIONS[: table.PROPOSAL_FUNCTIONS])


@dataclass(frozen=True)
class Plan:
    """How much of everything to do: the quick run does less of each."""

    requests: int  # per kind and per server
    answers: int  # sequential /cdo pairs answers and Home publishes
    commands: int  # runs of each cdo-hub command


FULL, QUICK = Plan(requests=200, answers=5, commands=3), Plan(requests=100, answers=3, commands=1)


@dataclass(frozen=True)
class Latency:
    p50: float
    p99: float
    failed: int = 0  # answers that were not 200 (Bolt answers 404 when no ack came within 3 s)

    @classmethod
    def of(cls, answers: list[tuple[float, int]]) -> Latency:
        ordered = sorted(seconds for seconds, _status in answers)
        failed = sum(1 for _seconds, status in answers if status != 200)
        return cls(statistics.median(ordered), ordered[max(math.ceil(0.99 * len(ordered)) - 1, 0)], failed)


@dataclass(frozen=True)
class Timing:
    """The median of a few runs, and what went wrong in any of them."""

    seconds: float
    problem: str | None = None

    @classmethod
    def of(cls, runs: list[tuple[float, str | None]]) -> Timing:
        problems = [problem for _seconds, problem in runs if problem]
        problem = f"{len(problems)} of {len(runs)}: {problems[0]}" if problems else None
        return cls(statistics.median(seconds for seconds, _problem in runs), problem)


@dataclass(frozen=True)
class SweepMessages:
    """What one sweep over every due pair would send (its dry run): nudges, and the messages
    they make once batched (one per initiative thread, one DM per person)."""

    nudges: int = 0
    messages: int = 0
    hub_channel: int = 0  # messages into the hub channel, at Slack's pace of one a second


@dataclass
class Results:
    """What one stage measured; benchmarks/table.py turns it into rows."""

    acks: dict[str, tuple[Latency, Latency]]  # kind -> (hub, anchor)
    pairs_answer: Timing
    home_publish: Timing
    commands: dict[str, Timing]
    proposal_calls: Counter[str]
    rss: tuple[float, float]  # hub, anchor (MB)
    pending_commitments: int = 0  # fewer than the Done clicks sent: the rest clicked one again
    sweep: SweepMessages = field(default_factory=SweepMessages)


class Stage:
    def __init__(self, database_url: str, sessions: sessionmaker[Session], workdir: Path, emulator: Emulator, plan: Plan) -> None:
        self.database_url, self.sessions, self.workdir, self.emulator, self.plan = database_url, sessions, workdir, emulator, plan
        self.config = workdir / "config.toml"
        self.config.write_text(world.config_text(), encoding="utf-8")
        self._ts = count(1)
        self.timings: dict[str, float] = {}  # seconds each step took, for the progress lines
        self.servers: tuple[Server, ...] = ()
        self.pending_commitments = 0

    def __enter__(self) -> Stage:
        try:
            self.anchor = Server.anchor(self.emulator.base_url, self.emulator.bot_token, self.workdir)
            self.servers = (self.anchor,)
            self.hub = Server.hub(self.config, self.database_url, self.emulator.base_url, self.emulator.bot_token, self.workdir)
            self.servers = (self.anchor, self.hub)
            for server in self.servers:
                server.wait_healthy()
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        for server in self.servers:
            server.stop()

    def sender(self, server: Server) -> SignedSender:
        return SignedSender(server.url, SIGNING_SECRET, workspace=self.emulator.workspace, timeout=60)

    # --- the requests ------------------------------------------------------------------------

    def request_kinds(self) -> dict[str, Callable[[SignedSender, int], Response]]:
        """Each kind of request as a function of the sender and a running number, which picks
        the commitment clicked or the initiative written to, a different one each time."""
        emulator = self.emulator
        with self.sessions() as session:
            pending = session.execute(
                select(Commitment.id, Commitment.owner, Commitment.hub_ts)
                .where(rules.pending(), Commitment.hub_ts.is_not(None))
                .order_by(Commitment.id)
            ).all()
            active = [(i.id, i.hub_ts, i.function_keys) for i in session.scalars(select(Initiative).where(Initiative.status == "active"))]
        if not pending or not active:
            raise RuntimeError("the database has no pending commitment or no active initiative to send requests about")
        self.pending_commitments = len(pending)
        due = (datetime.now(UTC) + timedelta(days=14)).date()

        def command(text: str) -> Callable[[SignedSender, int], Response]:
            def send(sender: SignedSender, _n: int) -> Response:
                trigger, response_url = emulator.new_trigger_id(), emulator.new_response_url()
                return sender.command("/cdo", text, user_id="U0CMO", trigger_id=trigger, response_url=response_url)

            return send

        def done_click(sender: SignedSender, n: int) -> Response:
            commitment_id, owner, ts = pending[n % len(pending)]
            return sender.block_action(
                user_id=owner,
                action_id=Action.COMMITMENT_DONE.value,
                value=dump(CommitmentRef(commitment_id)),
                trigger_id=emulator.new_trigger_id(),
                response_url=emulator.new_response_url(),
                channel_id=world.HUB_CHANNEL,
                message_ts=ts,
            )

        def commitment_form(sender: SignedSender, n: int) -> Response:
            initiative_id, _ts, keys = active[n % len(active)]
            giver, taker = keys[0], keys[1]
            return sender.view_submission(
                user_id=world.BY_KEY[giver].lead,
                callback_id=View.COMMIT.value,
                values=forms.commitment(giver=giver, taker=taker, what=f"Benchmark promise {n}", due=due),
                private_metadata=dump(CommitMeta(initiative_id)),
            )

        def thread_reply(sender: SignedSender, n: int) -> Response:
            _id, hub_ts, keys = active[n % len(active)]
            ts = f"{int(time.time())}.{next(self._ts):06d}"
            event = {
                "type": "message",
                "channel": world.HUB_CHANNEL,
                "channel_type": "channel",
                "user": world.BY_KEY[keys[n % len(keys)]].member,
                "text": f"Reply {n}: we can take this on next week.",
                "ts": ts,
                "event_ts": ts,
                "thread_ts": hub_ts,
            }
            return sender.event(event)

        kinds = {
            "/cdo list": command("list"),
            "/cdo help": command("help"),
            "Done click": done_click,
            "commitment form": commitment_form,
            "thread reply": thread_reply,
        }
        assert tuple(kinds) == table.KINDS
        return kinds

    def _load(self, server: Server, send: Callable[[SignedSender, int], Response], numbers: range) -> list[tuple[float, int]]:
        """Send one request per number, CONCURRENCY at a time: the seconds each took to be
        answered, and the HTTP status. A form refused, or an anchor that answers anything but
        an empty acknowledgement, means the benchmark itself is wrong: that stops the run."""
        sender = self.sender(server)

        def one(n: int) -> tuple[float, int]:
            started = time.perf_counter()
            response = send(sender, n)
            took = time.perf_counter() - started
            refused = (response.json or {}).get("response_action") == "errors"
            if refused or (server is self.anchor and (response.status != 200 or response.body_text)):
                raise RuntimeError(f"request {n} to the {server.name} was answered {response.status}: {response.body_text[:300]}")
            return took, response.status

        with ThreadPoolExecutor(CONCURRENCY) as pool:
            return list(pool.map(one, numbers))

    def acks(self) -> dict[str, tuple[Latency, Latency]]:
        """Ack latency per kind, in two rounds of anchor then hub, after a warm-up of each."""
        kinds = self.request_kinds()
        for send in kinds.values():  # first requests pay for imports and caches: not measured
            for server in self.servers:
                self._load(server, send, range(CONCURRENCY))
        for server in self.servers:
            server.wait_idle()
        found: dict[str, tuple[Latency, Latency]] = {}
        half = self.plan.requests // 2
        start = CONCURRENCY
        for kind, send in kinds.items():
            seconds: dict[str, list[tuple[float, int]]] = {"hub": [], "anchor": []}
            for _round in range(2):
                for server in self.servers:
                    block = range(start, start + half)
                    seconds[server.name] += self._load(server, send, block)
                    server.wait_idle()
                start += half  # the hub and the anchor get the same payloads; the next round new ones
            found[kind] = (Latency.of(seconds["hub"]), Latency.of(seconds["anchor"]))
            self.hub.check_alive()
        return found

    # --- answers that take more than an ack --------------------------------------------------

    def pairs_answer(self) -> Timing:
        """/cdo pairs until its answer is in: the HTTP answer, or the response_url post after it."""
        sender, runs = self.sender(self.hub), []
        for _ in range(self.plan.answers):
            url = self.emulator.new_response_url()
            started = time.time()
            response = sender.command("/cdo", "pairs", user_id="U0CMO", trigger_id=self.emulator.new_trigger_id(), response_url=url)
            answered, problem = time.time(), None
            if response.status != 200:
                problem = f"answered {response.status}"
            elif not response.body_text.strip():  # acknowledged empty: the answer goes to response_url
                posted = self._response_post(url)
                answered, problem = (posted.at, None) if posted else (time.time(), "no answer within 60 s")
            runs.append((answered - started, problem))
            self.hub.wait_idle()
        return Timing.of(runs)

    def _response_post(self, url: str, timeout: float = 60.0) -> ResponsePost | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            posted = [post for post in self.emulator.responses if post.url == url]
            if posted:
                return posted[0]
            time.sleep(0.005)
        return None

    def home_publish(self) -> Timing:
        """app_home_opened for an executive until the emulator has their views.publish."""
        sender, runs = self.sender(self.hub), []
        for _ in range(self.plan.answers):
            self.emulator.reset_records()
            hold = self.emulator.hold("views.publish", when=lambda args: args.get("user_id") == world.EXECUTIVE)
            event = {
                "type": "app_home_opened",
                "user": world.EXECUTIVE,
                "channel": "D0CEO",
                "tab": "home",
                "event_ts": f"{time.time():.6f}",
            }
            started = time.time()
            try:
                response = sender.event(event)
                if response.status != 200:
                    runs.append((time.time() - started, f"answered {response.status}"))
                elif not hold.reached.wait(60):
                    runs.append((time.time() - started, "not published within 60 s"))
                else:
                    published = [call for call in self.emulator.calls_to("views.publish") if call.args.get("user_id") == world.EXECUTIVE]
                    runs.append((published[-1].at - started, None))
            finally:
                hold.release.set()
            self.hub.wait_idle()
        return Timing.of(runs)

    def proposal_calls(self) -> Counter[str]:
        """Web API calls, by method, for one proposal with five functions, once delivered
        (a first proposal warms the hub's caches and is not counted)."""
        sender = self.sender(self.hub)
        calls: Counter[str] = Counter()
        for _ in range(2):
            self.hub.wait_idle()
            self.emulator.reset_records()
            response = sender.view_submission(
                user_id=world.BY_KEY["marketing"].lead,
                callback_id=View.PROPOSE.value,
                values=forms.proposal(title="A proposal whose Slack calls are counted", functions=list(PROPOSAL_FUNCTIONS)),
            )
            if response.status != 200 or response.body_text.strip():
                raise RuntimeError(f"the proposal was answered {response.status}: {response.body_text[:300]}")
            self._delivered()
            calls = Counter(call.method for call in self.emulator.calls)
        return calls

    def _delivered(self, timeout: float = 60.0) -> None:
        """Until the newest initiative's outbox owes nothing and the hub is idle."""
        deadline = time.monotonic() + timeout
        with self.sessions() as session:
            newest = session.scalar(select(func.max(Initiative.id)))
        while time.monotonic() < deadline:
            with self.sessions() as session:
                owed = session.scalar(select(func.count()).where(Outbox.initiative_id == newest, Outbox.status == "pending"))
                recorded = session.scalar(select(func.count()).where(Outbox.initiative_id == newest))
            if recorded and not owed:
                self.hub.wait_idle()
                return
            time.sleep(0.05)
        raise RuntimeError(f"initiative #{newest} was not delivered within {timeout:.0f} s")

    def commands(self) -> dict[str, Timing]:
        """Each batch command, beyond process start: the median of a few runs."""
        found = {}
        for name, args in (("digest", ["digest", "--dry-run"]), ("report", ["report", "pairs"]), ("nudge", ["nudge", "--dry-run"])):
            runs = []
            for _ in range(self.plan.commands):
                seconds, code = timed_command(args, self.config, self.database_url, self.emulator.base_url, self.emulator.bot_token)
                runs.append((seconds, f"exit code {code}" if code else None))
            found[name] = Timing.of(runs)
        return found

    def measure(self) -> Results:
        acks = self._timed("acks", self.acks)
        pairs_answer = self._timed("/cdo pairs", self.pairs_answer)
        home_publish = self._timed("Home", self.home_publish)
        calls = self._timed("proposal", self.proposal_calls)
        commands = self._timed("commands", self.commands)
        sweep = self._timed("sweep messages", self.sweep_messages)
        for server in self.servers:
            server.check_alive()
        rss = (self.hub.rss_mb(), self.anchor.rss_mb())
        return Results(acks, pairs_answer, home_publish, commands, calls, rss, self.pending_commitments, sweep)

    def sweep_messages(self) -> SweepMessages:
        """The dry run's nudges (due now, or at their recipients' next working hour), grouped
        into messages by the sender's own rule (bot.app.delivery.places)."""
        args = ["nudge", "--dry-run", "--format", "json"]
        output = command_output(args, self.config, self.database_url, self.emulator.base_url, self.emulator.bot_token)
        nudges = [item for item in json.loads(output) if item["status"] in ("planned", "deferred")]
        due = [nudge_claims.Pending(n, item["kind"], item["channel"], item["initiative_id"]) for n, item in enumerate(nudges)]
        made = places(due)
        return SweepMessages(len(nudges), len(made), sum(1 for place in made if place.kind == nudge_claims.PAIR))

    def _timed(self, name: str, step: Callable[[], Any]) -> Any:
        started = time.perf_counter()
        try:
            return step()
        finally:
            self.timings[name] = time.perf_counter() - started
