"""genmedia's own provider-agnostic commands (``run``, ``status``, ``models``, ``schema``,
``upload``, ``plugins``, ``version``): a built-in plugin registered as ``commands``, adding
every command through ``genmedia_register_commands`` like any other plugin."""
