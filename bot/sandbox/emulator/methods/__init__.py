"""The Web API methods, one module per family (auth, chat, conversations, users, views).

Each family is a mixin over EmulatorBase with a table of the methods it answers;
Emulator (server.py) merges the tables. A new method goes in its family's module
and table.
"""
