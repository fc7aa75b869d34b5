"""The use cases: propose and route, discuss, commit, sweep, digest, the Home tab.

Each opens its transactions, asks `bot.core` what to do, and carries the plan out through the
Slack port (`bot.app.port`). The listeners, the CLI and the scheduler call these; none of them
reaches into another. Nothing here imports `bot.slack`: the Slack side is handed in as a `Hub`.
"""
