from slack_bolt import Ack


def acknowledge_link(ack: Ack) -> None:
    """A URL button opens its link in Slack; the app only has to acknowledge the click."""
    ack()
