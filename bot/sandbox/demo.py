"""`cdo-hub demo`: the whole story, played against the local workspace emulator.

Nothing here is faked inside the hub: the app runs over HTTP on loopback, receives signed
requests as Slack sends them, and calls the emulated Web API. Each step checks what it
expects and the demo fails loudly if the hub misbehaves. Messages are printed as people
would read them in Slack (bot/sandbox/show.py), with names instead of IDs.
"""

from __future__ import annotations

import calendar
import json
import tempfile
import urllib.request
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from bot.app import outbox
from bot.app.digest import run_digest
from bot.app.introduce import IntroLine, run_introductions
from bot.app.sweep import Line, run_sweep
from bot.clock import FixedClock, SystemClock
from bot.core import initiatives
from bot.models import Introduction
from bot.sandbox import forms
from bot.sandbox.emulator import Emulator
from bot.sandbox.harness import LocalHub, demo_settings
from bot.sandbox.show import Names, message_lines
from bot.sandbox.workspace import Message
from bot.slack.ids import Action, View

TITLE = "One customer view across our three ERP instances"
DAYS = dict(zip(("mon", "tue", "wed", "thu", "fri", "sat", "sun"), calendar.day_name, strict=True))
# What each person of the sandbox workspace does, shown after their name.
ROLES = {
    "U0CDO": "hub staff",
    "U0CEO": "CEO",
    "U0CMO": "CMO",
    "U0CIO": "CIO",
    "U0CHRO": "CHRO",
    "U0MKT1": "Marketing",
    "U0IT1": "IT",
    "U0HR1": "HR",
}
NEXT_STEPS = """
== What to do next
1. Create the Slack app from manifest.json (https://api.slack.com/apps → Create New App →
   From an app manifest) and install it in your workspace.
2. Copy config.example.toml to config.toml and fill in your hub channel, people and
   functions. Put the bot token in SLACK_BOT_TOKEN, and SLACK_SIGNING_SECRET (HTTP) or
   SLACK_APP_TOKEN (Socket Mode) in the environment.
3. cdo-hub check-config     checks the file, and with a token every channel and person in Slack
4. cdo-hub db upgrade       creates the database schema
5. cdo-hub serve            runs the hub
README.md, "Running it for real", has the details."""


class DemoFailed(RuntimeError):
    pass


def workspace_names(emulator: Emulator) -> Names:
    """Everyone by their real name and role, every channel by its name."""
    users = {u.id: f"{u.real_name} ({ROLES[u.id]})" if u.id in ROLES else u.real_name for u in emulator.workspace.users.values()}
    return Names(users=users, channels={c.id: c.name for c in emulator.workspace.channels.values() if not c.is_im})


class Story:
    def __init__(self, hub: LocalHub, say: Callable[[str], None]) -> None:
        self.hub = hub
        self.emulator = hub.emulator
        self.say = say
        self.names = workspace_names(hub.emulator)
        self.initiative_id = 0
        self.commitment_id = 0
        self.commitment_ts: str | None = None

    def expect(self, condition: bool, what: str) -> None:
        if not condition:
            raise DemoFailed(what)

    def step(self, title: str) -> None:
        self.say(f"\n== {title}")

    def who(self, *user_ids: str) -> str:
        return ", ".join(self.names.user(u) for u in user_ids)

    def show(self, heading: str, message: Message | dict[str, Any] | None) -> None:
        """A heading, then the message as its reader sees it."""
        if message is None:
            raise DemoFailed(f"nothing was posted for: {heading.strip()}")
        if isinstance(message, Message):
            text, blocks = message.text, message.blocks
        else:
            text, blocks = message.get("text", ""), message.get("blocks")
        self.say(heading)
        for line in message_lines(text, blocks, self.names):
            self.say(line)

    def posted(self, channel: str, ts: str | None) -> Message | None:
        """A message the hub posted: in a channel, or in its DM with a user ID."""
        found = self.emulator.message(channel, ts) if ts else None
        return found or next((m for m in self.emulator.dms(channel) if m.ts == ts), None)

    def cast(self) -> None:
        settings = self.hub.settings
        *others, last = [f"{self.who(*f.leads)} leads {f.name}" for f in settings.functions.values()]
        self.say(f"Who is who: {', '.join(others)} and {last};")
        hub = self.names.channel(settings.hub.channel)
        self.say(f"{self.who(*settings.hub.executives)} is an executive; {self.who(*settings.hub.staff)} runs the hub channel, {hub}.")

    # --- the story ------------------------------------------------------------------

    def propose(self) -> None:
        self.step(f"{self.who('U0CMO')} types `/cdo propose {TITLE}` in #marketing")
        self.hub.command(f"propose {TITLE}", user_id="U0CMO", channel_id="C0MKT")
        views = self.emulator.views
        self.expect(len(views) == 1, "the proposal form did not open")
        functions = next(b for b in views[0].view["blocks"] if b.get("block_id") == "functions")
        chosen = [self.hub.settings.function(o["value"]).name for o in functions["element"].get("initial_options", [])]
        self.say(f"The proposal form opens; pre-selected from the words of the title: {', '.join(chosen) or 'none'}.")

        self.step(f"The CMO adds Marketing, picks the customer journey, names {self.who('U0CEO')} sponsor and submits")
        values = forms.proposal(title=TITLE, functions=["marketing", "it"], sponsor="U0CEO")
        response = self.hub.send("view_submission", user_id="U0CMO", callback_id=View.PROPOSE.value, values=values)
        self.expect(response.status == 200 and not response.body_text.strip(), f"the form was refused: {response.body_text}")
        with self.hub.runtime.sessions() as session:
            [initiative] = initiatives.everything(session)
        self.initiative_id = initiative.id
        self.expect(initiative.hub_ts is not None, "no hub card was posted")
        self.say("The hub stores it, then routes it to each function that must collaborate, saying why:")
        for function in initiative.functions:
            name = self.hub.settings.function(function.function_key).name
            channel = self.names.channel(function.route_channel or "")
            self.say(f"  {name}: {function.route_status} in {channel} ({function.reason})")
        self.expect(all(f.route_status == "posted" for f in initiative.functions), "a route failed")
        held_back = [f"{self.hub.settings.obstacles[link.obstacle_key].name} ({link.reason})" for link in initiative.obstacle_links]
        self.expect(bool(held_back), "the proposal was linked to no obstacle")
        self.say(f"It is linked to the obstacles its words name, counted in `/cdo obstacles`: {'; '.join(held_back)}.")
        self.show(
            "\nIn #cdo-hub, the initiative's card; its thread is the one discussion all functions share:",
            self.posted("C0HUB", initiative.hub_ts),
        )
        for function in initiative.functions:
            channel = self.names.channel(function.route_channel or "")
            self.show(f"\nIn {channel}, the routed post:", self.posted(function.route_channel or "", function.route_ts))
        self.show(f"\nBy DM to {self.who('U0CMO')}:", next(iter(self.emulator.dms("U0CMO")), None))

    def discuss(self) -> None:
        self.step(f"{self.who('U0IT1')}, an engineer, replies in the thread of the post in #it (Slack retries the event once)")
        with self.hub.runtime.sessions() as session:
            initiative = initiatives.get(session, self.initiative_id)
            assert initiative is not None
            route_ts = next(f.route_ts for f in initiative.functions if f.function_key == "it")
            hub_ts = initiative.hub_ts
        assert route_ts and hub_ts
        reply = self.emulator.add_user_message(
            "C0IT", "U0IT1", "We can expose the ERP customer tables through one API.", thread_ts=route_ts
        )
        event = {
            "type": "message",
            "channel": "C0IT",
            "user": "U0IT1",
            "text": reply.text,
            "ts": reply.ts,
            "thread_ts": route_ts,
            "channel_type": "channel",
        }
        first = self.hub.send("event", event=event)
        self.hub.send("event", event=event, event_id=first.event_id, retry_num=1)
        mirrored = self.emulator.thread("C0HUB", hub_ts)
        self.expect(len(mirrored) == 1, f"the reply was mirrored {len(mirrored)} times")
        self.show("Copied once into the hub thread, with a name rather than a mention, so nobody is notified:", mirrored[0])

    def commit(self) -> None:
        self.step(f"{self.who('U0CIO')} presses Commit on the post in #it: IT promises Marketing a golden customer record API")
        due = (self.hub.runtime.clock.now() + timedelta(days=21)).date()
        with self.hub.runtime.sessions() as session:
            initiative = initiatives.get(session, self.initiative_id)
            assert initiative is not None
            route_ts = next(f.route_ts for f in initiative.functions if f.function_key == "it")
        self.hub.send(
            "block_action",
            user_id="U0CIO",
            action_id=Action.COMMIT.value,
            value=json.dumps({"initiative": self.initiative_id}),
            trigger_id=self.emulator.new_trigger_id(),
            channel_id="C0IT",
            message_ts=route_ts,
        )
        self.expect(self.emulator.views[-1].view["callback_id"] == View.COMMIT.value, "the commitment form did not open")
        response = self.hub.send(
            "view_submission",
            user_id="U0CIO",
            callback_id=View.COMMIT.value,
            values=forms.commitment(giver="it", taker="marketing", what="A golden customer record API", due=due),
            private_metadata=json.dumps({"initiative": self.initiative_id}),
        )
        self.expect(response.status == 200 and not response.body_text.strip(), f"the commitment was refused: {response.body_text}")
        with self.hub.runtime.sessions() as session:
            initiative = initiatives.get(session, self.initiative_id)
            assert initiative is not None
            [commitment] = initiative.commitments
        self.commitment_id = commitment.id
        self.commitment_ts = commitment.hub_ts
        self.show("In the hub thread:", self.posted("C0HUB", commitment.hub_ts))

    def close(self) -> None:
        ref = json.dumps({"commitment": self.commitment_id})

        def press_done(user: str) -> Any:
            return self.hub.send(
                "block_action",
                user_id=user,
                action_id=Action.COMMITMENT_DONE.value,
                value=ref,
                trigger_id=self.emulator.new_trigger_id(),
                response_url=self.emulator.new_response_url(),
                channel_id="C0HUB",
            )

        self.step(f"{self.who('U0HR1')} presses Done on it, though the promise is IT's")
        press_done("U0HR1")
        refusal = self.emulator.responses[-1].json
        self.expect("only" in refusal.get("text", ""), "the HR colleague was not refused")
        self.show("Only they see:", refusal)

        self.step(f"{self.who('U0CIO')} presses Done — twice, as people do")
        press_done("U0CIO")
        press_done("U0CIO")
        announced = [m for m in self.emulator.thread("C0HUB", self._hub_ts()) if "marked commitment" in m.text]
        self.expect(len(announced) == 1, f"the change was announced {len(announced)} times")
        self.show("Announced once in the hub thread:", announced[0])
        self.show("And the commitment's message is updated in place:", self.posted("C0HUB", self.commitment_ts))

    def nudges(self) -> None:
        self.step(
            "Then nobody writes for three weeks. The demo sweeps every three hours of them, day and night (serve sweeps every 15 minutes)"
        )
        clock = self.hub.runtime.clock
        assert isinstance(clock, FixedClock)
        zone = self.hub.settings.tz
        start = moment = clock.now()
        sent: list[Line] = []
        while moment < start + timedelta(days=21) and not any(line.delivery.level == 2 for line in sent):
            moment += timedelta(hours=3)
            clock.set(moment)
            sent += [line for line in run_sweep(self.hub.runtime).lines if line.status == "sent"]
        levels = [line.delivery.level for line in sent]
        self.expect(levels == [1, 2], f"expected one pair nudge then one executive nudge, got levels {levels}")
        for line in sent:
            local = line.at.astimezone(zone) if line.at else moment.astimezone(zone)
            what = "pair nudge in the hub thread" if line.delivery.level == 1 else "executive nudge by DM"
            self.say(f"  {local:%A %d %B %H:%M} ({zone.key}): {what} to {self.who(*line.delivery.recipients)}")
        self.say("No nudge at night or on a weekend, and none twice.")
        pair, executive = sent
        self.show(
            "\nThe pair nudge, in the initiative's hub thread, to both functions' leads:", self.posted(pair.delivery.channel, pair.ts)
        )
        self.show(
            "\nFive working days later, nothing joint has happened: the executive nudge, "
            f"by DM to {self.who(*executive.delivery.recipients)}:",
            self.posted(executive.delivery.channel, executive.ts),
        )

    def _introduce(self) -> IntroLine:
        """One introductions pass; an introduction that waits for working hours is sent when they come."""
        clock = self.hub.runtime.clock
        assert isinstance(clock, FixedClock)
        lines = run_introductions(self.hub.runtime).lines
        self.expect(len(lines) == 1, f"expected one introduction, got {[(line.functions, line.status) for line in lines]}")
        [line] = lines
        if line.status == "deferred" and line.at is not None:
            local = line.at.astimezone(self.hub.settings.tz)
            self.say(f"  It is outside working hours: it waits in the outbox until {local:%A %H:%M}.")
            clock.set(line.at)
            outbox.drain(self.hub.runtime)
        with self.hub.runtime.sessions() as session:
            introduction = session.scalar(select(Introduction).order_by(Introduction.id.desc()).limit(1))
        self.expect(introduction is not None and introduction.status == "sent", "the introduction was not sent")
        assert introduction is not None
        return replace(line, channel=introduction.channel, status="sent")

    def introductions(self) -> None:
        settings = self.hub.settings
        self.step("Meanwhile HR has never worked with IT or Marketing. `cdo-hub introduce`, which the scheduler runs daily")
        first = self._introduce()
        names = " and ".join(settings.function(key).name for key in first.functions)
        self.say(f"  {names} are introduced to each other; nobody gets more than one introduction a week.")
        clock = self.hub.runtime.clock
        assert isinstance(clock, FixedClock)
        clock.set(clock.now() + timedelta(days=7))
        self.step("A week later, the next pass introduces HR and Marketing, the ideal couple who never meet")
        second = self._introduce()
        self.expect(second.functions == ("hr", "marketing"), f"expected HR and Marketing, got {second.functions}")
        message = self.emulator.messages(second.channel or "")[-1]
        self.show(f"In a group DM to {self.who(*second.recipients)}:", message)
        self.step(f"{self.who('U0CHRO')} presses Propose this: the proposal form opens with the idea and both functions")
        value = next(
            e["value"] for b in message.blocks or [] for e in b.get("elements", []) if e.get("action_id") == "introduction_propose"
        )
        before = len(self.emulator.views)
        self.hub.send(
            "block_action",
            user_id="U0CHRO",
            action_id=Action.INTRODUCTION_PROPOSE.value,
            value=value,
            trigger_id=self.emulator.new_trigger_id(),
            response_url=self.emulator.new_response_url(),
            channel_id=message.channel,
            message_ts=message.ts,
        )
        self.expect(len(self.emulator.views) == before + 1, "the proposal form did not open")
        form = self.emulator.views[-1].view
        values = forms.proposal(
            title=second.idea, problem="Candidates meet our brand before they meet HR.", journey="employee", functions=["hr", "marketing"]
        )
        response = self.hub.send(
            "view_submission", user_id="U0CHRO", callback_id=View.PROPOSE.value, values=values, private_metadata=form["private_metadata"]
        )
        self.expect(response.status == 200 and not response.body_text.strip(), f"the form was refused: {response.body_text}")
        with self.hub.runtime.sessions() as session:
            introduction = session.scalar(select(Introduction).where(Introduction.function_b == "marketing"))
            self.expect(
                introduction is not None and introduction.initiative_id is not None, "the introduction did not become an initiative"
            )
            assert introduction is not None
            self.say(f"The candidate journey is initiative #{introduction.initiative_id}, routed to HR and Marketing like any other.")

    def digest(self) -> None:
        settings = self.hub.settings
        when = f"every {DAYS[settings.digest.day]} at {settings.digest.time:%H:%M}"
        self.step(f"The weekly digest: `cdo-hub digest`, which the scheduler also runs {when}")
        report = run_digest(self.hub.runtime)
        readers = list(dict.fromkeys([*settings.hub.executives, *settings.hub.staff]))
        sent = [line for line in report.lines if line.status == "sent"]
        self.expect(
            sorted(line.delivery.channel for line in sent) == sorted(readers),
            f"the digest went out as {[(line.status, line.delivery.channel) for line in report.lines]}",
        )
        self.show(f"One DM each to {self.who(*readers)}:", self.posted(sent[0].delivery.channel, sent[0].ts))
        pictures = {reader: [f for m in self.emulator.dms(reader) for f in m.files or ()] for reader in readers}
        self.expect(all(len(files) == 1 for files in pictures.values()), f"the matrix pictures went out as {pictures}")
        shared = pictures[readers[0]][0]
        self.say(f"Then the matrix picture in each DM ({shared['name']}), with its alt text: “{shared['alt_txt']}”")

    def picture(self, folder: Path) -> None:
        from bot.report_pictures import produce

        self.step("The collaboration matrix as a picture: `cdo-hub report matrix --format png --output FILE`")
        with self.hub.runtime.sessions() as session:
            png = produce(session, self.hub.settings, self.hub.runtime.clock.now(), "matrix", "png")
        assert isinstance(png, bytes)
        path = folder / "matrix.png"
        path.write_bytes(png)
        self.say(f"Written next to the demo's database: {path} ({len(png) // 1024} KB)")

    def _hub_ts(self) -> str:
        with self.hub.runtime.sessions() as session:
            initiative = initiatives.get(session, self.initiative_id)
            assert initiative is not None and initiative.hub_ts
            return initiative.hub_ts

    def audit(self) -> None:
        self.step("What the hub asked of Slack")
        calls = self.emulator.calls
        by_method: dict[str, int] = {}
        for call in calls:
            by_method[call.method] = by_method.get(call.method, 0) + 1
        self.say(", ".join(f"{method} ×{count}" for method, count in sorted(by_method.items())))
        errors = self.emulator.errors()
        self.expect(not errors, f"Slack answered errors: {[(c.method, c.response.get('error')) for c in errors]}")
        self.say("No call failed.")

    def metrics(self) -> None:
        """What an operator's Prometheus reads from GET /metrics after the story."""
        self.say("\nGET /metrics, the figures that are not zero (buckets left out):")
        with urllib.request.urlopen(self.hub.url + "/metrics", timeout=10) as answer:
            text = answer.read().decode()
        shown = 0
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.value and not sample.name.endswith(("_bucket", "_created")) and "timestamp" not in sample.name:
                    labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
                    self.say(f"  {sample.name}{{{labels}}} {sample.value:g}")
                    shown += 1
        self.expect(shown > 0, "GET /metrics showed nothing")


def run(database_url: str | None = None, say: Callable[[str], None] = print) -> int:
    # The demo's folder is kept: its database (when none is given) and the matrix picture stay
    # there to look at, or to run `cdo-hub report` on.
    folder = _folder(database_url)
    url = database_url or f"sqlite:///{folder / 'demo.db'}"
    say(f"CDO Hub demo — local workspace emulator, database {url.split('///')[0]}///…")
    # The demo's own clock: the story's three weeks pass in a few seconds.
    clock = FixedClock(SystemClock().now())
    with Emulator() as emulator, LocalHub(demo_settings(url), emulator, clock=clock) as hub:
        story = Story(hub, say)
        try:
            story.cast()
            story.propose()
            story.discuss()
            story.commit()
            story.close()
            story.nudges()
            story.introductions()
            story.digest()
            story.audit()
            story.metrics()
            story.picture(folder)
        except DemoFailed as failure:
            say(f"\nDEMO FAILED: {failure}")
            return 1
    say("\nThe story ran end to end.")
    say(NEXT_STEPS)
    return 0


def _folder(database_url: str | None) -> Path:
    """Where the database file is (for a given SQLite file), else a new folder."""
    if database_url and database_url.startswith("sqlite:///") and database_url != "sqlite:///:memory:":
        return Path(database_url[len("sqlite:///") :]).resolve().parent
    return Path(tempfile.mkdtemp(prefix="cdo-hub-demo-"))
