"""`cdo-hub demo`: the whole story, played against the local workspace emulator.

Nothing here is faked inside the hub: the app runs over HTTP on loopback, receives signed
requests as Slack sends them, and calls the emulated Web API. Each step checks what it
expects and the demo fails loudly if the hub misbehaves.
"""

from __future__ import annotations

import json
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any, Callable

from bot.clock import FixedClock, SystemClock
from bot.core import initiatives
from bot.sandbox import forms
from bot.sandbox.emulator import Emulator
from bot.sandbox.harness import LocalHub, demo_settings
from bot.slack.ids import Action, View
from bot.slack.nudging import run_sweep

TITLE = "One customer view across our three ERP instances"
PEOPLE = {
    "U0CMO": "the CMO",
    "U0CIO": "the CIO",
    "U0IT1": "an IT engineer",
    "U0HR1": "an HR colleague",
    "U0CEO": "the CEO",
}


class DemoFailed(RuntimeError):
    pass


class Story:
    def __init__(self, hub: LocalHub, say: Callable[[str], None]) -> None:
        self.hub = hub
        self.emulator = hub.emulator
        self.say = say
        self.initiative_id = 0
        self.commitment_id = 0

    def expect(self, condition: bool, what: str) -> None:
        if not condition:
            raise DemoFailed(what)

    def step(self, title: str) -> None:
        self.say(f"\n== {title}")

    def channel_text(self, channel: str) -> list[str]:
        return [m.text for m in self.emulator.messages(channel)]

    # --- the story ------------------------------------------------------------------

    def propose(self) -> None:
        self.step(f"The CMO types `/cdo propose {TITLE}` in #marketing")
        self.hub.command(f"propose {TITLE}", user_id="U0CMO", channel_id="C0MKT")
        views = self.emulator.views
        self.expect(len(views) == 1, "the proposal form did not open")
        functions = next(b for b in views[0].view["blocks"] if b.get("block_id") == "functions")
        chosen = [o["value"] for o in functions["element"].get("initial_options", [])]
        self.say(f"The proposal form opens; pre-selected from the words of the title: {', '.join(chosen) or 'none'}.")

        self.step("She adds Marketing, picks the customer journey and submits")
        values = forms.proposal(title=TITLE, functions=["marketing", "it"], sponsor="U0CEO")
        response = self.hub.send("view_submission", user_id="U0CMO", callback_id=View.PROPOSE.value, values=values)
        self.expect(response.status == 200 and not response.body_text.strip(), f"the form was refused: {response.body_text}")
        with self.hub.runtime.sessions() as session:
            [initiative] = initiatives.everything(session)
        self.initiative_id = initiative.id
        self.expect(initiative.hub_ts is not None, "no hub card was posted")
        for function in initiative.functions:
            self.say(f"  {function.function_key}: {function.route_status} in {function.route_channel} ({function.reason})")
        self.expect(all(f.route_status == "posted" for f in initiative.functions), "a route failed")
        self.say(f"#cdo-hub: {self.channel_text('C0HUB')[0]}")
        self.say(f"#marketing: {self.channel_text('C0MKT')[0]}")
        self.say(f"#it: {self.channel_text('C0IT')[0]}")
        self.say(f"The CMO gets a confirmation by DM: {self.emulator.dms('U0CMO')[0].text}")

    def discuss(self) -> None:
        self.step("An IT engineer replies in the thread of the post in #it (Slack retries the event once)")
        with self.hub.runtime.sessions() as session:
            initiative = initiatives.get(session, self.initiative_id)
            assert initiative is not None
            route_ts = next(f.route_ts for f in initiative.functions if f.function_key == "it")
            hub_ts = initiative.hub_ts
        assert route_ts and hub_ts
        reply = self.emulator.add_user_message("C0IT", "U0IT1", "We can expose the ERP customer tables through one API.", thread_ts=route_ts)
        event = {"type": "message", "channel": "C0IT", "user": "U0IT1", "text": reply.text, "ts": reply.ts, "thread_ts": route_ts, "channel_type": "channel"}
        first = self.hub.send("event", event=event)
        self.hub.send("event", event=event, event_id=first.event_id, retry_num=1)
        mirrored = [m.text for m in self.emulator.thread("C0HUB", hub_ts)]
        self.expect(len(mirrored) == 1, f"the reply was mirrored {len(mirrored)} times")
        self.say(f"Mirrored once into the hub thread: {mirrored[0]}")

    def commit(self) -> None:
        self.step("The CIO presses Commit on the post in #it: IT promises Marketing a golden customer record API")
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
        self.say(f"In the hub thread: {self.emulator.message('C0HUB', commitment.hub_ts).text}")

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

        self.step("An HR colleague presses Done on it")
        press_done("U0HR1")
        refusal = self.emulator.responses[-1].json
        self.expect("only" in refusal.get("text", ""), "the HR colleague was not refused")
        self.say(f"Only they see: {refusal['text']}")

        self.step("The CIO presses Done — twice, as people do")
        press_done("U0CIO")
        press_done("U0CIO")
        announced = [m.text for m in self.emulator.thread("C0HUB", self._hub_ts()) if "marked commitment" in m.text]
        self.expect(len(announced) == 1, f"the change was announced {len(announced)} times")
        self.say(f"Announced once in the hub thread: {announced[0]}")

    def nudges(self) -> None:
        self.step("Then nobody writes for three weeks. The demo sweeps every three hours of them, day and night (serve sweeps every 15 minutes)")
        clock = self.hub.runtime.clock
        assert isinstance(clock, FixedClock)
        zone = self.hub.settings.tz
        start = moment = clock.now()
        sent = []
        while moment < start + timedelta(days=21) and not any(line.delivery.level == 2 for line in sent):
            moment += timedelta(hours=3)
            clock.set(moment)
            sent += [line for line in run_sweep(self.hub.runtime).lines if line.status == "sent"]
        levels = [line.delivery.level for line in sent]
        self.expect(levels == [1, 2], f"expected one pair nudge then one executive nudge, got levels {levels}")
        for line in sent:
            local = line.at.astimezone(zone) if line.at else moment.astimezone(zone)
            who = ", ".join(PEOPLE.get(user, user) for user in line.delivery.recipients)
            what = "pair nudge in the hub thread" if line.delivery.level == 1 else "executive nudge by DM"
            self.say(f"  {local:%A %d %B %H:%M} ({zone.key}): {what} to {who}")
        self.say("No nudge at night or on a weekend, and none twice.")

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


def run(database_url: str | None = None, say: Callable[[str], None] = print) -> int:
    with tempfile.TemporaryDirectory(prefix="cdo-hub-demo-") as folder:
        url = database_url or f"sqlite:///{Path(folder) / 'demo.db'}"
        say(f"CDO Hub demo — local workspace emulator, database {url.split('///')[0]}///…")
        # The demo's own clock: the story's three weeks pass in a few seconds.
        clock = FixedClock(SystemClock().now())
        with Emulator() as emulator, LocalHub(demo_settings(url), emulator, clock=clock) as hub:
            story = Story(hub, say)
            try:
                story.propose()
                story.discuss()
                story.commit()
                story.close()
                story.nudges()
                story.audit()
            except DemoFailed as failure:
                say(f"\nDEMO FAILED: {failure}")
                return 1
    say("\nThe story ran end to end.")
    return 0
